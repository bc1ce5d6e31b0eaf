import Foundation
import Testing
@testable import Fairness
@testable import Report

/// The reporting checklist: every link goes to a section the page really has, and what the page
/// cannot show is said, not linked.
@Suite struct ReportingChecklistTests {
  /// The checklist's section of the page.
  static func checklist(_ html: String) -> String {
    guard let start = html.range(of: "<section id=\"checklist\">") else { return "" }
    let rest = html[start.upperBound...]
    return String(rest[..<(rest.range(of: "</section>")?.lowerBound ?? rest.endIndex)])
  }

  static func anchors(_ s: String) -> [String] {
    let regex = try! NSRegularExpression(pattern: "href=\"#([^\"]+)\"")
    return regex.matches(in: s, range: NSRange(s.startIndex..., in: s)).map {
      String(s[Range($0.range(at: 1), in: s)!])
    }
  }

  static func row(_ checklist: String, item: String) -> String? {
    checklist.components(separatedBy: "<tr>").first { $0.contains("<td>\(SVGChart.escape(item))</td>") }
  }

  @Test(arguments: [100, nil] as [Int?]) func everyLinkedAnchorExists(bootstrap: Int?) throws {
    let html = HTMLReport.text(try AuditHTMLTests.audit(bootstrap: bootstrap))
    let list = Self.checklist(html)
    #expect(html.contains("<a href=\"#checklist\">Reporting checklist</a>"), "in the contents")
    let links = Self.anchors(list)
    #expect(links.count >= 10, "most items are answered by a section: \(links)")
    for id in Set(links) {
      #expect(html.contains("id=\"\(id)\""), "the checklist links #\(id), which the page lacks")
    }
    #expect(list.contains("<code>best/README.md</code>") && !list.contains("`"), "code spans as <code>")
    for item in ReportingChecklist.items {
      let row = try #require(Self.row(list, item: item.item), "no row for \(item.item)")
      #expect(row.contains("<a href=") || row.contains("not answered here: "), "\(item.item) says nothing")
      if item.answers.isEmpty { #expect(!row.contains("<a href="), "\(item.item) has no section to link") }
    }
  }

  @Test func intervalsAreLinkedOnlyWhenComputed() throws {
    let item = "Quantitative analyses, disaggregated, with intervals"
    let with = try #require(
      Self.row(Self.checklist(HTMLReport.text(try AuditHTMLTests.audit(bootstrap: 100))), item: item))
    #expect(with.contains("href=\"#groups\""))
    #expect(!with.contains("not answered here"))
    let without = try #require(
      Self.row(Self.checklist(HTMLReport.text(try AuditHTMLTests.audit(bootstrap: nil))), item: item))
    #expect(!without.contains("href="))
    #expect(without.contains("not answered here: intervals: fairmed audit without --bootstrap 0"))
    // Uncertainty without a bootstrap: only the DeLong intervals of the significance section.
    let perf = try #require(
      Self.row(
        Self.checklist(HTMLReport.text(try AuditHTMLTests.audit(bootstrap: nil))),
        item: "Performance (discrimination) by subgroup with uncertainty"))
    #expect(Self.anchors(perf) == ["significance"])
  }

  @Test func answersOutsideTheReportAreSaid() throws {
    let rows = ReportingChecklist.rows(sections: ["summary", "groups", "settings", "definitions"], intervals: true)
    let intended = try #require(rows.first { $0.item.item == "Intended use" })
    #expect(intended.linked.isEmpty)
    #expect(intended.notHere?.contains("best/README.md") == true)
    let calibration = try #require(rows.first { $0.item.item == "Calibration by subgroup" })
    #expect(calibration.linked.isEmpty && calibration.notHere != nil, "no calibration section: not linked")
    for source in ReportingChecklist.Source.allCases {
      #expect(ReportingChecklist.items.contains { $0.source == source })
    }
  }

  @Test func markdownHasTheChecklist() throws {
    let md = MarkdownReport.text(try AuditHTMLTests.audit())
    let part = try #require(md.components(separatedBy: "## Reporting checklist").last)
    #expect(md.contains("## Reporting checklist"))
    for item in ReportingChecklist.items { #expect(part.contains(item.item)) }
    #expect(part.contains("(audit.html#groups)"))
    #expect(part.contains("not answered here: the model card `best/README.md`"))
  }
}
