import Foundation
import Testing
@testable import Fairness

@Suite struct CSVReaderTests {
  func parse(_ text: String, _ columns: [(name: String, kind: CSVColumnKind)]) throws -> CSVColumns {
    try CSVReader.parse(Array(text.utf8), file: "t.csv", columns: columns)
  }

  @Test func quotesCommasCRLFAndBOM() throws {
    let text = "\u{FEFF}y,p,site\r\n1,0.25,\"head, neck\"\r\n0,\"0.5\",\"say \"\"hi\"\"\"\r\n1,1e-1,\"multi\nline\"\r\n"
    let t = try parse(text, [("y", .number()), ("p", .number()), ("site", .text)])
    #expect(t.rowCount == 3)
    #expect(t.numbers["p"]! == [0.25, 0.5, 0.1])
    let site = t.texts["site"]!
    #expect(site.codes.map { site.levels[Int($0)] } == ["head, neck", "say \"hi\"", "multi\nline"])
  }

  @Test func numbersAreCorrectlyRounded() throws {
    let values = [
      "0.1", "0.30000000000000004", "-2.5e-3", "123456789012345678", "1e22", "1e23", "4.9e-324", "0.000001",
    ]
    let text = "p\n" + values.joined(separator: "\n") + "\n"
    let t = try parse(text, [("p", .number())])
    #expect(t.numbers["p"]! == values.map { Double($0)! })
  }

  @Test func errorsNameFileLineAndColumn() throws {
    func message(_ text: String, _ columns: [(name: String, kind: CSVColumnKind)]) -> String {
      do { _ = try parse(text, columns); return "no error" } catch { return "\(error)" }
    }
    #expect(
      message("y,p\n1,0.5\n0,abc\n", [("y", .number()), ("p", .number())])
        == "t.csv:3, column 'p' (field 2): 'abc' is not a number")
    #expect(
      message("y,p\n1,0.5\n", [("y", .number()), ("q", .number())]).hasPrefix("t.csv:1, column 'q': missing column 'q'")
    )
    #expect(message("y,p\n1,0.5\n0\n", [("y", .number())]) == "t.csv:3: ragged row: expected 2 fields, found 1")
    #expect(message("", [("y", .number())]) == "t.csv:1: the file is empty (no header row)")
    #expect(message("y\n", [("y", .number())]) == "t.csv:2: no data rows after the header")
    #expect(
      message("y,p\n1,nan\n", [("y", .number()), ("p", .number())])
        == "t.csv:2, column 'p' (field 2): 'nan' is not a finite number")
    #expect(message("y,p\n1,inf\n", [("y", .number()), ("p", .number())]).contains("not a finite number"))
    #expect(message("y,p\n1,\"0.5\n", [("y", .number()), ("p", .number())]).contains("unterminated quoted field"))
    // A column named twice: the audit used the first silently (issue 24).
    #expect(
      message("y,p,y\n1,0.5,0\n", [("y", .number()), ("p", .number())])
        == "t.csv:1, column 'y' (field 3): column 'y' appears twice in the header (columns 1 and 3): rename or remove one"
    )
  }
}

@Suite struct CSVStreamingTests {
  @Test func tinyChunksGiveTheSameColumnsAsOneBuffer() throws {
    var text = "\u{FEFF}y,p,note\r\n"
    var rng = SeededRandom(seed: 1)
    for i in 0..<200 {
      let note = rng.below(3) == 0 ? "\"line \(i)\nwith \"\"quotes\"\", and comma\"" : "n\(i % 7)"
      text += "\(rng.below(2)),\(rng.uniform()),\(note)\(i % 2 == 0 ? "\r\n" : "\n")"
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-chunks-\(UUID().uuidString).csv")
    try Data(text.utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let columns: [(name: String, kind: CSVColumnKind)] = [("y", .binary), ("p", .number()), ("note", .text)]
    let whole = try CSVReader.parse(Array(text.utf8), file: url.path, columns: columns)
    for chunk in [1, 7, 64, 1000] {
      let streamed = try CSVReader.read(url, columns: columns, chunkSize: chunk)
      #expect(streamed.rowCount == 200)
      #expect(streamed.binaries["y"]! == whole.binaries["y"]!)
      #expect(streamed.numbers["p"]! == whole.numbers["p"]!)
      let a = streamed.texts["note"]!, b = whole.texts["note"]!
      #expect(a.codes.map { a.levels[Int($0)] } == b.codes.map { b.levels[Int($0)] })
    }
    // A bad value deep in the file is reported on its physical line, whatever the chunking.
    let bad = text.replacingOccurrences(of: "n3\n", with: "n3,extra\n")
    try Data(bad.utf8).write(to: url)
    let lines = { (t: String) -> Int in
      do { _ = try CSVReader.parse(Array(t.utf8), file: "x", columns: columns); return 0 } catch {
        if case .badInput(let loc, _) = error as! AuditError { return loc.line ?? 0 } else { return -1 }
      }
    }
    let expected = lines(bad)
    #expect(expected > 1)
    for chunk in [5, 100] {
      do { _ = try CSVReader.read(url, columns: columns, chunkSize: chunk); Issue.record("no error") } catch {
        guard case .badInput(let loc, let message) = error as! AuditError else { Issue.record("\(error)"); continue }
        #expect(loc.line == expected && message.hasPrefix("ragged row"))
      }
    }
  }
}
