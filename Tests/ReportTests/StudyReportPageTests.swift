import Foundation
import Testing
@testable import Report

/// The study report: one colour per method in every figure, and the paired comparison as its
/// own table under its own heading.
@Suite struct StudyReportPageTests {
  /// Colour of each `data-group` mark (the first colour after it: a fill or stroke other than "none").
  static func colors(_ svg: String) -> [String: Set<String>] {
    let regex = try! NSRegularExpression(pattern: "data-group=\"([^\"]+)\"[^>]*?(?:fill|stroke)=\"(#[0-9a-fA-F]{6})\"")
    var out: [String: Set<String>] = [:]
    for m in regex.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
      out[String(svg[Range(m.range(at: 1), in: svg)!]), default: []].insert(
        String(svg[Range(m.range(at: 2), in: svg)!]))
    }
    return out
  }

  static let frontier = [
    FrontierPoint(method: "erm", lambda: 0, deltaTPR: 0.3, auc: 0.9),
    FrontierPoint(method: "cmac-mmd", lambda: 0.1, deltaTPR: 0.2, auc: 0.89),
    FrontierPoint(method: "cmac-mmd", lambda: 1, deltaTPR: 0.1, auc: 0.88),
  ]
  /// The bars list the methods in another order, labelled with λ, coloured by the method's name.
  static let bars = [
    MethodGroupTPRs(
      method: "cmac-mmd (λ=0.1)", groups: [GroupTPR(group: "a", tpr: 0.5), GroupTPR(group: "b", tpr: 0.7)],
      colorKey: "cmac-mmd"),
    MethodGroupTPRs(
      method: "erm", groups: [GroupTPR(group: "a", tpr: 0.4), GroupTPR(group: "b", tpr: 0.8)], colorKey: "erm"),
  ]
  static let curves = [
    CurveSeries(name: "cmac-mmd l_clip", steps: [0, 1], values: [1, 0.5], colorKey: "cmac-mmd"),
    CurveSeries(name: "cmac-mmd l_cmac", steps: [0, 1], values: [0.2, 0.1], colorKey: "cmac-mmd", dashed: true),
    CurveSeries(name: "erm", steps: [0, 1], values: [0.9, 0.4], colorKey: "erm"),
  ]

  @Test func aMethodHasOneColourInEveryFigure() throws {
    for colors in [MethodColors(methods: ["erm", "cmac-mmd", "groupdro"]), nil] {
      let figures = [
        StudyFigures.frontier(points: Self.frontier, colors: colors),
        StudyFigures.groupTPRBars(methods: Self.bars, colors: colors),
        StudyFigures.trainingCurves(series: Self.curves, yLabel: "loss", colors: colors),
      ]
      var seen: [String: Set<String>] = [:]
      for svg in figures {
        let c = Self.colors(svg)
        #expect(Set(c.keys) == ["erm", "cmac-mmd"], "every figure marks both methods: \(c)")
        for (method, colours) in c { seen[method, default: []].formUnion(colours) }
      }
      #expect(seen["erm"]?.count == 1 && seen["cmac-mmd"]?.count == 1, "one colour per method: \(seen)")
      #expect(seen["erm"] != seen["cmac-mmd"])
    }
    // The palette by sorted name: cmac-mmd < erm < groupdro.
    let colors = MethodColors(methods: ["groupdro", "erm", "cmac-mmd"])
    #expect(colors.color("cmac-mmd") == Palette.colors[0] && colors.color("erm") == Palette.colors[1])
    let curves = StudyFigures.trainingCurves(series: Self.curves, yLabel: "loss", colors: colors)
    #expect(curves.components(separatedBy: "stroke-dasharray=\"4 3\"").count - 1 == 2, "l_cmac and its legend dashed")
  }

  @Test func pairedComparisonIsItsOwnTable() throws {
    let summary = StudyFigures.markdownTable(
      header: ["method", "AUC"], rows: [["erm", "0.9"], ["cmac-mmd", "0.91"]])
    let paired =
      "| method | ΔTPR − ERM |\n| --- | --- |\n| cmac-mmd | -0.1 [-0.2, 0.0] |\n\nPaired differences to ERM with the same seeds.\n"
    let html = StudyFigures.studyPage(
      title: "t", summaryMarkdownTable: summary + "\nMean ± sd.\n", pairedMarkdownTable: paired, tables: [],
      figures: [], notes: [])
    let p = try #require(XMLProbe.parse(html), "page is not well-formed XML")
    #expect(p.elements.filter { $0 == "table" }.count == 2)
    #expect(p.elements.filter { $0 == "h2" }.count == 2)
    #expect(html.contains("<h2 id=\"paired\">Paired differences to ERM</h2>"))
    #expect(!html.contains("<td>---</td>") && !html.contains("<td>method</td>"), "no separator or header row in a body")
    let pairedPart = try #require(html.components(separatedBy: "<h2 id=\"paired\">").last)
    #expect(
      pairedPart.contains("<th>ΔTPR − ERM</th>")
        && pairedPart.contains("Paired differences to ERM with the same seeds."))
    #expect(!pairedPart.contains("<th>AUC</th>"))
    // A summary that glues two tables with a blank line still renders two tables.
    let glued = StudyFigures.studyPage(
      title: "t", summaryMarkdownTable: summary + "\n" + paired, tables: [], figures: [], notes: [])
    #expect(glued.components(separatedBy: "<table>").count - 1 == 2)
    #expect(!glued.contains("<td>---</td>"))
  }

  @Test func printStylesheetLikeTheAudits() throws {
    let html = StudyFigures.studyPage(title: "t", summaryMarkdownTable: nil, tables: [], figures: [], notes: [])
    #expect(XMLProbe.parse(html) != nil)
    let print = try #require(html.components(separatedBy: "@media print").last)
    #expect(html.contains("@page{size:A4"))
    for rule in [
      "thead{display:table-header-group}", "break-inside:avoid", "break-after:avoid", "print-color-adjust:exact",
    ] {
      #expect(print.contains(rule), "print rule \(rule)")
    }
  }
}
