import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import Testing
@testable import Report

/// Parses XML and records element names, class attributes and text, for structure checks.
final class XMLProbe: NSObject, XMLParserDelegate {
  var elements: [String] = []
  var classes: [String] = []
  var text = ""
  var titles: [String] = []
  private var inTitle = false

  static func parse(_ s: String) -> XMLProbe? {
    let probe = XMLProbe()
    let parser = XMLParser(data: Data(s.utf8))
    parser.delegate = probe
    return parser.parse() ? probe : nil
  }

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    elements.append(name)
    if let c = attributes["class"] { classes.append(c) }
    if name == "title" { inTitle = true; titles.append("") }
  }
  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    if name == "title" { inTitle = false }
  }
  func parser(_ parser: XMLParser, foundCharacters string: String) {
    text += string
    if inTitle { titles[titles.count - 1] += string }
  }

  func count(_ cls: String) -> Int { classes.filter { $0 == cls }.count }
}

/// Fixed study data: what the experiment runner would hand over.
enum Fixture {
  static let weird = "a<b&\"c"
  static let groups = ["female <60", "male <60", "female ≥60", weird]

  static func kde(_ shift: Double) -> [DensityCurve] {
    groups.enumerated().map { i, g in
      let xs = stride(from: -1.0, through: 1.0, by: 0.05).map { $0 }
      let mu = shift * Double(i) - 0.1
      return DensityCurve(group: g, xs: xs, density: xs.map { exp(-($0 - mu) * ($0 - mu) / 0.08) })
    }
  }
  static let panels = [
    CertaintyPanel(title: "ERM", curves: kde(0.2), delta: 0.1),
    CertaintyPanel(title: "CMAC-MMD", curves: kde(0.05), delta: 0.1),
  ]

  static let frontier: [FrontierPoint] = [
    FrontierPoint(method: "ERM", lambda: 0, deltaTPR: 0.21, deltaTPRStd: 0.02, auc: 0.86, aucStd: 0.01),
    FrontierPoint(method: "CMAC-MMD", lambda: 1, deltaTPR: 0.09, deltaTPRStd: 0.03, auc: 0.855, aucStd: 0.008),
    FrontierPoint(method: "CMAC-MMD", lambda: 0.1, deltaTPR: 0.15, deltaTPRStd: nil, auc: 0.86, aucStd: nil),
    FrontierPoint(method: "CMAC-MMD", lambda: 10, deltaTPR: 0.05, deltaTPRStd: 0.01, auc: 0.83, aucStd: 0.02),
    FrontierPoint(method: weird, lambda: 1, deltaTPR: 0.12, auc: 0.84),
  ]

  static let tprs: [MethodGroupTPRs] = [
    MethodGroupTPRs(
      method: "ERM",
      groups: [
        GroupTPR(group: groups[0], tpr: 0.8, lower: 0.7, upper: 0.88),
        GroupTPR(group: groups[1], tpr: 0.6, lower: 0.5, upper: 0.7),
        GroupTPR(group: groups[2], tpr: 0.7),
        GroupTPR(group: groups[3], tpr: nil),
      ]),
    MethodGroupTPRs(
      method: "CMAC-MMD",
      groups: [
        GroupTPR(group: groups[0], tpr: 0.78, lower: 0.69, upper: 0.86),
        GroupTPR(group: groups[1], tpr: 0.74, lower: 0.64, upper: 0.82),
        GroupTPR(group: groups[2], tpr: 0.75, lower: 0.6, upper: 0.85),
        GroupTPR(group: groups[3], tpr: nil),
      ]),
  ]

  static let batches = [
    BatchSizeRow(batchSize: 16, coverageShare: 0.31, mmdVariance: 0.02),
    BatchSizeRow(batchSize: 64, coverageShare: 0.93, mmdVariance: 0.004),
    BatchSizeRow(batchSize: 32, coverageShare: 0.7, mmdVariance: nil),
  ]

  static let curves = [
    CurveSeries(name: "l_clip", steps: [0, 1, 2, 3], values: [2.3, 1.9, 1.6, 1.5]),
    CurveSeries(name: "l_cmac", steps: [0, 1, 2, 3], values: [0.4, 0.3, .nan, 0.2]),
    CurveSeries(name: weird, steps: [0, 2], values: [0.5, 0.7]),
  ]
}

@Suite struct StudyFiguresTests {
  /// Shared checks: well-formed XML, a root <svg> with xmlns/size/viewBox, a <title>, no scripts or links.
  func checkStandalone(_ svg: String, axisLabels: [String]) throws -> XMLProbe {
    let p = try #require(XMLProbe.parse(svg), "SVG is not well-formed XML")
    #expect(p.elements.first == "svg")
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width="))
    #expect(svg.contains("viewBox=\"0 0 "))
    #expect(p.elements.dropFirst().first == "title")
    #expect(!(p.titles.first ?? "").isEmpty)
    #expect(!p.elements.contains("script") && !p.elements.contains("a") && !p.elements.contains("image"))
    #expect(!svg.contains("nan") && !svg.contains("inf"))
    #expect(svg.components(separatedBy: "http").count == 2, "only the xmlns may reference http")
    for l in axisLabels { #expect(p.text.contains(l), "missing axis label \(l)") }
    #expect(p.count("legend") >= 1)
    return p
  }

  @Test func certaintyKDEs() throws {
    let svg = StudyFigures.certaintyKDEs(panels: Fixture.panels)
    let p = try checkStandalone(svg, axisLabels: ["certainty margin s (cosine units)", "density", "ERM", "CMAC-MMD"])
    #expect(p.count("panel") == 2)
    #expect(p.count("series") == 8)
    #expect(p.count("zone") == 2)
    #expect(p.count("zero") == 2)
    #expect(p.count("legend-entry") == 5)
    #expect(p.text.contains(Fixture.weird))
    #expect(!svg.contains(Fixture.weird))
    #expect(svg == StudyFigures.certaintyKDEs(panels: Fixture.panels), "deterministic")
  }

  @Test func frontier() throws {
    let svg = StudyFigures.frontier(points: Fixture.frontier)
    let p = try checkStandalone(svg, axisLabels: ["ΔTPR", "AUC"])
    #expect(p.count("point") == Fixture.frontier.count)
    #expect(p.count("series") == 3)
    #expect(p.count("errorbar") == 3, "one error-bar group per point with a std")
    #expect(p.count("lambda-label") == Fixture.frontier.count)
    #expect(p.text.contains("λ=0.1") && p.text.contains("λ=10"))
    #expect(p.count("legend-entry") == 3)
    #expect(p.text.contains(Fixture.weird))
    // Points of one method are joined in λ order: 0.1, 1, 10 → ΔTPR 0.15, 0.09, 0.05 (x decreasing).
    let cmac = try #require(
      svg.components(separatedBy: "<polyline class=\"series\" points=\"").dropFirst().dropFirst().first)
    let xs = cmac.prefix { $0 != "\"" }.split(separator: " ").map { Double($0.split(separator: ",")[0])! }
    #expect(xs.count == 3 && xs[0] > xs[1] && xs[1] > xs[2])
  }

  @Test func groupTPRBars() throws {
    let svg = StudyFigures.groupTPRBars(methods: Fixture.tprs)
    let p = try checkStandalone(svg, axisLabels: ["subgroup", "TPR"])
    #expect(p.count("bar") == 6)
    #expect(p.count("na") == 2)
    #expect(p.count("whisker") == 5)
    #expect(p.count("category") == 4)
    #expect(p.text.components(separatedBy: "n/a").count - 1 >= 2)
    #expect(p.count("legend-entry") == 3)
    #expect(p.text.contains(Fixture.weird))
  }

  @Test func trainingCurves() throws {
    let svg = StudyFigures.trainingCurves(series: Fixture.curves, yLabel: "loss (nats)")
    let p = try checkStandalone(svg, axisLabels: ["loss (nats)", "training step"])
    #expect(p.count("series") == 3)
    #expect(p.count("legend-entry") == 3)
  }

  @Test func batchSizeSensitivity() throws {
    let svg = StudyFigures.batchSizeSensitivity(rows: Fixture.batches)
    let p = try checkStandalone(
      svg, axisLabels: ["batch size", "share of batches covering every subgroup", "variance of MMD estimate"])
    #expect(p.count("panel") == 2)
    #expect(p.count("point") == 5)
    #expect(p.count("na") == 1)
    #expect(p.count("series") == 2)
    #expect(p.text.contains("16") && p.text.contains("64"))
  }

  @Test func emptyInputsStillRender() throws {
    for svg in [
      StudyFigures.certaintyKDEs(panels: []), StudyFigures.frontier(points: []),
      StudyFigures.groupTPRBars(methods: []), StudyFigures.trainingCurves(series: [], yLabel: "y"),
      StudyFigures.batchSizeSensitivity(rows: []),
    ] {
      #expect(XMLProbe.parse(svg) != nil)
      #expect(!svg.contains("nan") && !svg.contains("inf"))
    }
  }

  @Test func studyPage() throws {
    let figs = [
      StudyFigure(
        name: "certainty", caption: "Certainty gap <ERM vs CMAC>",
        svg: StudyFigures.certaintyKDEs(panels: Fixture.panels)),
      StudyFigure(name: "frontier", caption: "Frontier", svg: StudyFigures.frontier(points: Fixture.frontier)),
      StudyFigure(name: "tpr", caption: "TPR", svg: StudyFigures.groupTPRBars(methods: Fixture.tprs)),
    ]
    let md = StudyFigures.markdownTable(
      header: ["method", "AUC", "ΔTPR"],
      rows: [["ERM", "0.860 ± 0.010", "0.210"], ["a|b", "0.8", "0.1"]])
    let table = StudyTable(
      caption: "Results & more", header: ["method", "split", Fixture.weird],
      rows: [["ERM", "internal", "1"], ["CMAC-MMD", "external", Fixture.weird]])
    // A study's summary.md: the table, then a note (the page renders the table as HTML).
    let html = StudyFigures.studyPage(
      title: "Study <1>", summaryMarkdownTable: md + "\nMean ± sd over seeds.\n", tables: [table],
      figures: figs, notes: ["seeds: 0, 1 & 2"])
    let p = try #require(XMLProbe.parse(html), "page is not well-formed XML")
    for f in figs { #expect(html.contains(f.svg)) }
    #expect(p.elements.filter { $0 == "svg" }.count == 3)
    #expect(p.elements.filter { $0 == "figcaption" }.count == 3)
    #expect(p.elements.filter { $0 == "table" }.count == 2)
    #expect(p.elements.filter { $0 == "tr" }.count == 3 + 3)
    #expect(p.text.contains("a|b") && p.text.contains("Mean ± sd over seeds.") && !p.elements.contains("pre"))
    #expect(p.text.contains("Study <1>") && p.text.contains(Fixture.weird) && p.text.contains("seeds: 0, 1 & 2"))
    #expect(!p.elements.contains("script") && !p.elements.contains("link"))
    #expect(html.contains("@media print"))
    let httpRefs = html.components(separatedBy: "http").count - 1
    #expect(httpRefs == figs.count, "only the SVG xmlns may reference http")
  }

  @Test func pageFallsBackToPreForNonTableMarkdown() throws {
    let html = StudyFigures.studyPage(
      title: "t", summaryMarkdownTable: "just <text>", tables: [], figures: [], notes: [])
    let p = try #require(XMLProbe.parse(html))
    #expect(p.elements.contains("pre") && p.text.contains("just <text>"))
  }

  @Test func markdownTable() {
    let md = StudyFigures.markdownTable(header: ["a", "b"], rows: [["1|2", "x\ny"], ["3"]])
    #expect(md == "| a | b |\n|---|---|\n| 1\\|2 | x y |\n| 3 |  |\n")
    let parsed = StudyFigures.parseMarkdownTable(md)
    #expect(parsed?.header == ["a", "b"])
    #expect(parsed?.rows.first == ["1|2", "x y"])
  }

  @Test func writeFigures() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-tests-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let svg = StudyFigures.frontier(points: Fixture.frontier)
    let urls = try StudyFigures.writeFigures(
      [(name: "frontier", svg: svg), (name: "tpr/../bars", svg: "<svg/>")], to: dir)
    #expect(urls.map(\.lastPathComponent) == ["frontier.svg", "tpr_.._bars.svg"])
    #expect(try String(contentsOf: dir.appendingPathComponent("frontier.svg"), encoding: .utf8) == svg)
    // Overwrite is atomic and leaves no temporary files behind.
    try StudyFigures.writeFigures([(name: "frontier", svg: "<svg/>")], to: dir)
    #expect(try String(contentsOf: urls[0], encoding: .utf8) == "<svg/>")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["frontier.svg", "tpr_.._bars.svg"])
  }
}
