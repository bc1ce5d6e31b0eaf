import Foundation
import Testing
@testable import Fairness
@testable import Report
import Support

@Suite struct ReportTests {
  @Test func jsonNeverWritesNonFiniteNumbersAndEscapesStrings() throws {
    let doc = JSONValue.object([
      ("nan", .number(.nan)), ("inf", .optional(.infinity)), ("x", .number(0.1)), ("n", .integer(3)),
      ("s", .string("a \"quoted\"\nline\u{1}")), ("list", .array([.number(1e-7), .null, .bool(true)])),
    ])
    let text = doc.serialized()
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(parsed["nan"] is NSNull && parsed["inf"] is NSNull)
    #expect(parsed["x"] as? Double == 0.1)
    #expect(parsed["s"] as? String == "a \"quoted\"\nline\u{1}")
    #expect((parsed["list"] as? [Any])?.first as? Double == 1e-7)
  }

  @Test func groupNamesAreQuotedInCSVAndEscapedInMarkdown() throws {
    var d = Synthetic(n: 300, seed: 6)
    for i in d.sex.indices where d.sex[i] == "male" { d.sex[i] = "male, \"M\"" }
    let r = try Audit.run(d.input())
    let csv = GroupsCSV.text(r)
    let table = try CSVReader.parse(Array(csv.utf8), file: "groups.csv", columns: [("sex", .text), ("n", .number())])
    let sex = try #require(table.texts["sex"])
    #expect(sex.levels.contains("male, \"M\""))
    #expect(table.numbers["n"]!.dropLast().reduce(0, +) == 300)
    let md = MarkdownReport.text(r)
    #expect(md.contains("| female\\|<40 |"))
    #expect(md.contains("Threshold: **argmax = 0.5**"))
  }
}
