import Testing
@testable import Data

struct GroupSpecParsingTests {
  @Test func auditSpellingAndEdgeSpellingAgree() throws {
    let a = try GroupSpec(parsing: "sex,age:<40,40-59,>=60")
    let b = try GroupSpec(parsing: "sex,age:40:60")
    #expect(a == b)
    #expect(a.fields[1].binLabels == ["<40", "40-59", ">=60"])
    #expect(a.key(["sex": "female", "age": "35"]) == "female|<40")
    #expect(a.key(["sex": "male", "age": "60"]) == "male|>=60")
    let c = try GroupSpec(parsing: "age:<60,>=60,sex,site")
    #expect(c.fields.map(\.attribute) == ["age", "sex", "site"] && c.fields[0].edges == [60])
  }

  @Test func badBinsAreNamed() {
    #expect(throws: DataError.self) { try GroupSpec(parsing: "sex,age:<forty") }
    #expect(throws: DataError.self) { try GroupSpec(parsing: "age:60-40") }
  }
}
