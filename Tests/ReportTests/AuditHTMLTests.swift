import Foundation
import TestSupport
import Testing
@testable import Fairness
@testable import Report

/// audit.html as a reviewer reads it: every group's row with its counts and intervals, plain
/// names, three significant digits, no absolute path, one colour per group in every figure.
@Suite struct AuditHTMLTests {
  /// Where the synthetic audit says its predictions came from: an absolute path inside the
  /// current directory, which the report must show relative.
  static let sourceInside = FileManager.default.currentDirectoryPath + "/audits/in/preds.csv"
  /// An absolute validation file outside it (the threshold's detail names it).
  static let validationOutside = "/nonexistent-root/deep/val/split/validation.csv"

  /// The synthetic audit the HTML tests and the browser test render: sex × age with a few rows
  /// of a rare age (so flagged groups), a Youden threshold from an absolute validation path.
  static func audit(bootstrap: Int? = 100, threshold: ThresholdRule? = nil) throws -> AuditResult {
    var d = Synthetic(n: 800, seed: 21)
    for i in [3, 50, 97, 140, 301] { d.age[i] = ">=90" }
    var input = try d.input()
    input.source = sourceInside
    var c = AuditConfiguration()
    c.bootstrap = bootstrap.map { BootstrapOptions(replicates: $0, seed: 5) }
    c.certainty.permutations = 30
    c.threshold = threshold ?? .youden(validation: validationOutside)
    let labels = d.labels, scores = d.scores.map { min(1, $0 + 0.0123456789) }
    c.loadValidation = { _ in (labels, scores) }
    return try Audit.run(input, configuration: c)
  }

  /// The text a browser shows: no style sheet, no tags, entities decoded (SVG tooltips included).
  static func visibleText(_ html: String) -> String {
    var s = html.replacingOccurrences(of: "<style>[\\s\\S]*?</style>", with: " ", options: .regularExpression)
    s = s.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
    for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&amp;", "&")] {
      s = s.replacingOccurrences(of: entity, with: char)
    }
    return s.replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
  }

  /// Significant digits of a number as written: leading zeros never count, an integer's
  /// trailing zeros neither (4000 has one), a decimal's do (0.950 has three).
  static func significantDigits(_ token: String) -> Int {
    var digits = Array(token.filter(\.isNumber).drop { $0 == "0" })
    if !token.contains(".") { while digits.last == "0" { digits.removeLast() } }
    return digits.count
  }

  /// The `<tr …>` of `group` in each table that has one.
  static func rows(_ html: String, group: String) -> [String] {
    let marker = "data-group=\"\(SVGChart.escape(group))\">"
    return html.components(separatedBy: "<tr").dropFirst().map { $0.components(separatedBy: "</tr>")[0] }
      .filter { $0.hasPrefix(" ") && $0.contains(marker) }
  }

  @Test func everyGroupHasARowWithItsCountsAndIntervals() throws {
    let r = try Self.audit()
    let html = HTMLReport.text(r)
    #expect(r.intersectional.groups.contains { !$0.flags.isEmpty }, "the fixture needs a flagged group")
    for g in r.intersectional.groups {
      let found = Self.rows(html, group: g.name).filter { $0.contains("class=\"group\"") }
      // Detection; accuracy, ranking and calibration; calibration per subgroup.
      #expect(found.count == 3, "\(g.name): \(found.count) rows in the group tables")
      for row in found {
        #expect(
          row.contains(
            "<td class=\"num\">\(g.n)</td><td class=\"num\">\(g.positives)</td><td class=\"num\">\(g.counts.negatives)</td>"
          ), "\(g.name): n/n_pos/n_neg missing")
      }
      for k in HTMLReport.detectionKeys + HTMLReport.overallKeys {
        guard let i = g.intervals[k] else { continue }
        #expect(found.contains { $0.contains(ReportFormat.interval(i)) }, "\(g.name) \(k.rawValue): no interval")
      }
      if let i = g.intervals[.tpr] { #expect(html.contains(ReportFormat.interval(i))) }
    }
    // The overall row and every aggregate's interval.
    #expect(html.contains("All rows"))
    for (k, i) in r.intersectional.aggregateIntervals {
      #expect(html.contains(ReportFormat.interval(i)), "\(k.rawValue)")
    }
    let cells = html.components(separatedBy: "<span class=\"ci\">[").count - 1
    #expect(cells >= r.intersectional.groups.count * 4)

    let plain = HTMLReport.text(try Self.audit(bootstrap: nil))
    #expect(!plain.contains("<span class=\"ci\">["))
    #expect(plain.contains("No intervals"))
  }

  @Test func plainNamesShortNumbersAndNoAbsolutePaths() throws {
    let r = try Self.audit()
    let html = HTMLReport.text(r)
    let text = Self.visibleText(html)
    for name in ["TPR (sensitivity)", "ΔTPR (max − min subgroup TPR)", "Worst-group TPR", "n_pos", "n_neg"] {
      #expect(text.contains(name), "\(name)")
    }
    for key in AggregateKey.allCases where key.rawValue.contains("_") {
      #expect(!text.contains(key.rawValue), "\(key.rawValue) in the visible text")
    }
    // Numbers: at most four significant digits anywhere a reader sees (verbatim identifiers,
    // the commit, the command and the SHA-256 in the provenance block, aside).
    let numbers = try Regex("[0-9]+(?:\\.[0-9]+)?")
    let prose = Self.visibleText(
      html.replacingOccurrences(of: "<code class=\"verbatim\">[^<]*</code>", with: " ", options: .regularExpression))
    for match in prose.matches(of: numbers) {
      let token = String(prose[match.range])
      #expect(Self.significantDigits(token) <= 4, "\(token) has more than four significant digits")
    }
    // The threshold to three significant digits, never its 17 digits.
    #expect(text.contains("Threshold \(ReportFormat.short(r.threshold.value))"))
    let full = "\(r.threshold.value)"
    if full.count > 6 { #expect(!html.contains(full)) }
    // Paths: relative to the current directory, or shortened; no absolute path at all.
    let cwd = FileManager.default.currentDirectoryPath
    #expect(!html.contains(cwd + "/"))
    #expect(!html.contains("/nonexistent-root"))
    #expect(text.contains("audits/in/preds.csv"))
    #expect(text.contains("…/val/split/validation.csv"))
    let absolute = try Regex("(^|[\\s(\\[=:'\"`])/[A-Za-z0-9_.-]+/")
    #expect(!text.contains(absolute), "an absolute path in the visible text")
    #expect(!html.contains("file://"))

    let md = MarkdownReport.text(r)
    #expect(!md.contains(cwd + "/") && !md.contains("/nonexistent-root") && md.contains("`audits/in/preds.csv`"))
    // Code spans (the version and commit, the command, paths, the SHA-256) are verbatim identifiers.
    let mdProse = md.replacingOccurrences(of: "`[^`]*`", with: " ", options: .regularExpression)
    for match in mdProse.matches(of: numbers) {
      let token = String(mdProse[match.range])
      #expect(Self.significantDigits(token) <= 4, "audit.md: \(token)")
    }
  }

  @Test func aLongThresholdIsShownToThreeDigits() throws {
    let r = try Self.audit(bootstrap: nil, threshold: .fixed(0.33809903264045715))
    let html = HTMLReport.text(r), md = MarkdownReport.text(r)
    #expect(html.contains("0.338") && !html.contains("0.3380990"))
    #expect(md.contains("**fixed = 0.338**") && !md.contains("0.3380990"))
    #expect(AuditJSON.document(r).serialized().contains("0.33809903264045715"))
  }

  @Test func numbersAndPathsAsReadersSeeThem() {
    let f = ReportFormat.self
    let cases: [(Double?, String)] = [
      (0.33809903264045715, "0.338"), (0.9996, "1.00"), (0.95, "0.950"), (0.0321449, "0.0321"),
      (1.23456e-5, "1.23e-05"),
      (12345, "12300"), (0, "0"), (-0.0599, "-0.0599"), (nil, "—"),
    ]
    for (v, text) in cases { #expect(f.sig3(v) == text, "\(String(describing: v))") }
    #expect(f.short(0.5) == "0.5" && f.short(0.26055675745010376) == "0.261" && f.short(95) == "95")
    #expect(f.displayPath("preds.csv", cwd: "/w/main") == "preds.csv")
    #expect(f.displayPath("/w/main/runs/a/preds.csv", cwd: "/w/main") == "runs/a/preds.csv")
    #expect(f.displayPath("/w/other/x.csv", cwd: "/w/main") == "../other/x.csv")
    #expect(f.displayPath("/tmp/demo/runs/erm/best/t.json", cwd: "/w/main") == "…/erm/best/t.json")
    #expect(
      f.humanize(
        "on /tmp/a/b/c/val.csv (n=800, J=0.51234): predicted positive iff score ≥ 0.33809903264045715.", cwd: "/w")
        == "on …/b/c/val.csv (n=800, J=0.512): predicted positive iff score ≥ 0.338.")
    #expect(f.humanize("age:<40 and 40-59 kept; 12 rows dropped") == "age:<40 and 40-59 kept; 12 rows dropped")
  }

  @Test func paletteHas24DistinctColoursAssignedByName() throws {
    let colors = Palette.colors
    #expect(colors.count == 24 && Set(colors).count == 24)
    // Distinct to the eye: every pair at least ΔE*ab 20 apart in CIELAB.
    var closest = Double.infinity
    for i in colors.indices {
      for j in colors.indices where j > i { closest = min(closest, Self.deltaE(colors[i], colors[j])) }
    }
    #expect(closest >= 20, "closest pair ΔE \(closest)")
    // By name, whatever the order they come in; past 24 the colours repeat with dashes.
    let names = (0..<30).map { "group-\(String(format: "%02d", $0))" }
    let p = Palette(names: names), q = Palette(names: names.reversed())
    #expect(names.allSatisfy { p.color($0) == q.color($0) && p.dash($0) == q.dash($0) })
    #expect(Set(names.prefix(24).map(p.color)).count == 24)
    #expect(names.prefix(24).allSatisfy { p.dash($0) == nil } && names.dropFirst(24).allSatisfy { p.dash($0) != nil })
    #expect(p.cycles && !Palette(names: names.prefix(24)).cycles)
  }

  @Test func aGroupHasOneColourInEveryFigure() throws {
    let r = try Self.audit()
    let html = HTMLReport.text(r)
    let palette = Palette(names: r.intersectional.groups.map(\.name))
    let figures = html.components(separatedBy: "<svg").dropFirst().map { $0.components(separatedBy: "</svg>")[0] }
    #expect(figures.count == 6, "forest, ROC, calibration, certainty, TPR gap curves, decision curves")
    var seen: [String: Set<String>] = [:]
    for (f, svg) in figures.enumerated() {
      let marks = Self.groupColors(svg)
      // Figure 5 draws aggregates (ΔTPR, worst-group and overall TPR), no single group.
      #expect(!marks.isEmpty || f == 4, "figure \(f + 1) marks no group")
      for (group, colors) in marks {
        #expect(colors == [palette.color(group)], "figure \(f + 1): \(group) drawn in \(colors)")
        seen[group, default: []].formUnion(colors)
      }
    }
    // Every group is drawn, and in the forest plot and the ROC at least.
    for g in r.intersectional.groups {
      #expect(seen[g.name]?.count == 1, "\(g.name)")
      #expect(Self.groupColors(figures[0])[g.name] != nil && Self.groupColors(figures[1])[g.name] != nil)
    }
    #expect(Set(seen.values.map { $0.first! }).count == seen.count, "two groups share a colour")
  }

  @Test func moreThan24GroupsSayTheColoursRepeat() throws {
    var d = Synthetic(n: 900, seed: 4)
    for i in d.age.indices { d.age[i] = "a\(i % 15)" }
    var c = AuditConfiguration()
    c.certainty.permutations = 10
    let r = try Audit.run(d.input(), configuration: c)
    #expect(r.intersectional.groups.count == 30)
    let html = HTMLReport.text(r)
    #expect(html.contains("the 24 colours repeat"))
    #expect(html.contains("stroke-dasharray=\"6 3\""))
    // 435 MMD² pairs: the page lists the largest, audit.json keeps them all.
    #expect(html.contains("the \(HTMLReport.maxMMDRows) largest of 435"))
  }

  /// Group name → the colours its marks take in one SVG: a line's stroke, a circle's fill, a
  /// square's fill (its stroke when hollow).
  static func groupColors(_ svg: String) -> [String: Set<String>] {
    var out: [String: Set<String>] = [:]
    let marks = svg.components(separatedBy: "<").dropFirst()
    for mark in marks {
      let tag = String(mark.prefix { $0.isLetter })
      guard ["polyline", "line", "rect", "circle"].contains(tag), let group = attribute(mark, "data-group") else {
        continue
      }
      let fill = attribute(mark, "fill"), stroke = attribute(mark, "stroke")
      let color: String?
      switch tag {
      case "circle": color = fill
      case "rect": color = fill == "#fff" ? stroke : fill
      default: color = stroke
      }
      if let color { out[group, default: []].insert(color) }
    }
    return out
  }

  static func attribute(_ mark: String, _ name: String) -> String? {
    let head = mark.prefix { $0 != ">" }
    guard let start = head.range(of: " \(name)=\"") else { return nil }
    return String(head[start.upperBound...].prefix { $0 != "\"" })
      .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
      .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
  }

  /// CIE76 ΔE between two sRGB hex colours (D65).
  static func deltaE(_ a: String, _ b: String) -> Double {
    func lab(_ hex: String) -> (Double, Double, Double) {
      let v = Int(hex.dropFirst(), radix: 16)!
      let rgb = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map { c -> Double in
        let x = Double(c) / 255
        return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
      }
      let x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047
      let y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
      let z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883
      func f(_ t: Double) -> Double { t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116 }
      return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
    }
    let p = lab(a), q = lab(b)
    return ((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1) + (p.2 - q.2) * (p.2 - q.2)).squareRoot()
  }
}
