import Foundation
import TestSupport
import Testing
@testable import Fairness
@testable import Report

/// The audit's text outputs: groups.csv and the Markdown report.
@Suite struct AuditOutputTests {
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
