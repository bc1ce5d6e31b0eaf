import Foundation
import Fairness

/// audit.html: one self-contained page (inline SVG and CSS, no scripts, no network) that a reviewer
/// reads on screen or prints to PDF: the summary and every gap with its interval, every group's
/// row (n, n_pos, n_neg, each metric with its bootstrap interval), a forest plot, ROC curves with
/// the operating point, calibration and certainty plots, the single-attribute views, the MMD
/// table, the settings and the definitions. Numbers have three significant digits; paths are
/// relative (``ReportFormat``); every group keeps one colour across the figures (``Palette``).
public enum HTMLReport {
  public static func text(_ r: AuditResult) -> String {
    let a = r.intersectional
    let palette = Palette(names: a.groups.map(\.name))
    var sections = sectionTitles(r).map { (id: $0.id, title: $0.title, body: body(r, $0.id, palette: palette)) }
    sections.append(
      (
        "checklist", "Reporting checklist",
        ReportingChecklist.html(
          ReportingChecklist.rows(r, sections: sections.map(\.id)), titles: titles(sectionTitles(r)))
      ))
    var html = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Fairness audit: \(e(ReportFormat.displayPath(r.source)))</title>
      <style>\(style)</style></head><body>
      <header><h1>Fairness audit</h1>
      \(lead(r))
      \(r.provenance.map(provenance) ?? "")
      <nav><b>Contents:</b> \(sections.map { "<a href=\"#\($0.id)\">\(e($0.title))</a>" }.joined(separator: " · "))</nav>
      </header>

      """
    for s in sections {
      html += "<section id=\"\(s.id)\"><h2>\(e(s.title))</h2>\n\(s.body)\n</section>\n"
    }
    return html
      + "<footer>Written by fairmed audit; every number is in audit.json at full precision.</footer>\n</body></html>\n"
  }

  /// The page's sections in order (id, title), before the reporting checklist: the ones this audit has.
  static func sectionTitles(_ r: AuditResult) -> [(id: String, title: String)] {
    var s = [(id: "summary", title: "Summary"), (id: "groups", title: "Per-group results")]
    if r.significance != nil { s.append(("significance", "Which differences are real")) }
    if r.calibration != nil { s.append(("calibration", "Calibration per subgroup")) }
    s.append(("figures", "Figures"))
    if r.curves != nil { s.append(("thresholds", "Thresholds and net benefit")) }
    if !r.views.isEmpty { s.append(("attributes", "Single-attribute views")) }
    if r.certainty != nil { s.append(("certainty", "Certainty margins and MMD")) }
    s.append(("settings", "Settings"))
    if !r.warnings.isEmpty { s.append(("warnings", "Warnings")) }
    s.append(("definitions", "Definitions"))
    return s
  }

  /// Section titles by id, the header's provenance block included.
  static func titles(_ sections: [(id: String, title: String)]) -> [String: String] {
    var t = Dictionary(uniqueKeysWithValues: sections.map { ($0.id, $0.title) })
    t["provenance"] = "Provenance"
    return t
  }

  /// The body of the section `id` (one of ``sectionTitles(_:)``).
  static func body(_ r: AuditResult, _ id: String, palette: Palette) -> String {
    switch id {
    case "summary": return summary(r)
    case "groups": return groupTables(r, palette: palette)
    case "significance": return r.significance.map { significance(r, $0, palette: palette) } ?? ""
    case "calibration": return r.calibration.map { calibrationTables(r, $0, palette: palette) } ?? ""
    case "figures": return figures(r, palette: palette)
    case "thresholds": return r.curves.map { thresholdSection(r, $0, palette: palette) } ?? ""
    case "attributes": return views(r)
    case "certainty": return r.certainty.map { certainty(r, $0) } ?? ""
    case "settings": return settings(r)
    case "warnings": return "<ul>" + r.warnings.map { "<li>\(text($0))</li>" }.joined() + "</ul>"
    case "definitions": return definitions()
    default: return ""
    }
  }

  // MARK: Text helpers

  static func e(_ s: String) -> String { SVGChart.escape(s) }
  /// Free text (a detail, a warning) with paths made relative and numbers shortened, escaped.
  static func text(_ s: String) -> String { e(ReportFormat.humanize(s)) }
  static func num(_ v: Double?) -> String { ReportFormat.sig3(v) }

  /// A metric's plain name: MetricKey's title, FPR spelled out.
  static func name(_ k: MetricKey) -> String { k == .fpr ? "FPR (false-positive rate)" : k.title }

  /// "small group: a, b; no positives: c" (names when at most six groups share a flag, else a count).
  static func flagSummary(_ groups: [GroupMetrics]) -> String {
    var order: [String] = []
    var members: [String: [String]] = [:]
    for g in groups {
      for f in g.flags {
        if members[f] == nil { order.append(f) }
        members[f, default: []].append(g.name)
      }
    }
    return order.map { f in
      let names = members[f]!
      let what = f.replacingOccurrences(of: "_", with: " ")
      return names.count <= 6 ? "\(what): \(names.map(e).joined(separator: ", "))" : "\(what): \(names.count) groups"
    }.joined(separator: "; ")
  }

  static func flagText(_ g: GroupMetrics) -> String {
    g.flags.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")
  }

  /// A table cell: the value, its interval below when bootstrapped, or "—" with the reason.
  static func metricCell(_ g: GroupMetrics, _ k: MetricKey) -> String {
    guard let v = g[k] else {
      return "<td class=\"num undefined\">—<span class=\"ci\">\(e(g.metrics[k]?.reason ?? "undefined"))</span></td>"
    }
    let ci =
      g.intervals[k].map {
        "<span class=\"ci\($0.method == .deLong ? " analytic" : "")\">\(ReportFormat.interval($0))</span>"
      } ?? ""
    return "<td class=\"num\">\(num(v))\(ci)</td>"
  }

  /// A group's colour key in a table: a square, striped for a group drawn dashed (past 24 groups).
  static func swatch(_ color: String, dash: String? = nil) -> String {
    let fill = dash == nil ? color : "repeating-linear-gradient(90deg,\(color) 0 3px,#fff 3px 5px)"
    return "<i class=\"sw\" style=\"background:\(fill)\"></i>"
  }

  static func thead(_ cells: [String]) -> String {
    "<thead><tr>" + cells.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead>"
  }

  static func thresholdText(_ r: AuditResult) -> String { ReportFormat.short(r.threshold.value) }

  // MARK: Sections

  static func lead(_ r: AuditResult) -> String {
    let a = r.intersectional
    var s =
      "<p class=\"lead\">Predictions <b>\(e(ReportFormat.displayPath(r.source)))</b>: \(r.rowsUsed) of \(r.rows) rows audited, "
      + "\(a.groups.count) intersectional groups of \(e(a.attributes.joined(separator: " × "))). "
      + "Threshold <b>\(thresholdText(r))</b> (rule: \(e(r.threshold.rule))): \(text(r.threshold.detail))"
      + (r.threshold.chosenOnAuditedLabels
        ? " <b class=\"optimistic\">(\(e(ResolvedThreshold.optimisticNote)))</b>" : "") + ".</p>"
    s += "<p class=\"note\">Intervals: \(e(ReviewerText.intervals(r.configuration.bootstrap, rows: r.rowsUsed))).</p>"
    return s
  }

  static func summary(_ r: AuditResult) -> String {
    let a = r.intersectional
    let o = a.overall
    func withCI(_ g: GroupMetrics, _ k: MetricKey) -> String {
      num(g[k]) + (g.intervals[k].map { " " + ReportFormat.interval($0) } ?? "")
    }
    var s = "<ul class=\"findings\">"
    s +=
      "<li>Overall: AUC \(withCI(o, .auc)), TPR (sensitivity) \(withCI(o, .tpr)), FPR \(withCI(o, .fpr)), accuracy \(withCI(o, .accuracy)), on \(o.n) rows (\(o.positives) positive).</li>"
    // The group the worst-group TPR names (its gap's members: small and few-positive groups out).
    if let w = a.aggregates[.worstGroupTPR]?.minGroup {
      let worst = a.groups[w]
      s +=
        "<li>The model misses disease most often in <b>\(e(worst.name))</b>: TPR \(withCI(worst, .tpr)), so \(ReportFormat.percent(worst[.fnr])) of its \(worst.positives) positives are missed (overall \(ReportFormat.percent(o[.fnr]))).</li>"
    }
    if let d = a.aggregates[.deltaTPR], let v = d.value, let hi = d.maxGroup, let lo = d.minGroup {
      s +=
        "<li>ΔTPR \(num(v))\(a.aggregateIntervals[.deltaTPR].map { " " + ReportFormat.interval($0) } ?? ""): TPR \(num(a.groups[hi][.tpr])) in \(e(a.groups[hi].name)) against \(num(a.groups[lo][.tpr])) in \(e(a.groups[lo].name)).</li>"
    }
    let flagged = a.groups.filter { !$0.flags.isEmpty }
    if !flagged.isEmpty {
      s +=
        "<li>\(flagged.count) of \(a.groups.count) groups flagged (\(flagSummary(flagged)))\(r.configuration.includeSmallGroups ? ", included in gaps on request" : "; small groups are left out of gaps, and a gap takes only the groups where its metric is defined"); see the Flags column.</li>"
    }
    s += "</ul>"
    s += "<h3>Fairness gaps</h3>"
    s += gapTable(a, intervals: true)
    return s
  }

  /// Every aggregate with its value, interval and the groups that define it.
  static func gapTable(_ a: GroupAudit, intervals: Bool) -> String {
    var s = "<table class=\"gaps\">"
    s += thead(
      ["Measure", "Value"] + (intervals ? ["95% interval"] : []) + ["Highest group", "Lowest group", "Groups compared"])
    s += "<tbody>"
    for k in AggregateKey.allCases {
      let v = a.aggregates[k]!
      let name = { (i: Int?) in i.map { e(a.groups[$0].name) } ?? "" }
      let value =
        v.value.map { num($0) } ?? "—<span class=\"ci\">\(e(v.reason ?? "undefined"))</span>"
      let compared = k.inputs.map { a.members[$0]?.count ?? 0 }.min() ?? 0
      s += "<tr><td>\(e(k.plainName))</td><td class=\"num\">\(value)</td>"
      if intervals { s += "<td class=\"num\">\(ReportFormat.interval(a.aggregateIntervals[k]))</td>" }
      s += "<td>\(name(v.maxGroup))</td><td>\(name(v.minGroup))</td><td class=\"num\">\(compared)</td></tr>"
    }
    return s + "</tbody></table>"
  }

  static let detectionKeys: [MetricKey] = [.prevalence, .tpr, .fpr, .ppv, .npv]
  static let overallKeys: [MetricKey] = [.selectionRate, .accuracy, .balancedAccuracy, .auc, .brier, .ece]

  static func groupTables(_ r: AuditResult, palette: Palette) -> String {
    let a = r.intersectional
    var s =
      "<p class=\"note\">Every intersectional group, then all rows. n_pos and n_neg count the rows with label 1 and 0: TPR rests on n_pos, FPR on n_neg. "
      + "Small groups (n below \(r.configuration.minGroupSize), ⚑) are reported but left out of the gaps"
      + "\(r.configuration.includeSmallGroups ? " unless included on request" : ""); each gap takes the groups where its metric is defined (a group with one class has no TPR or no FPR and enters only the other gaps)"
      + (r.configuration.minCellCount.map {
        "; with --min-cell-count \($0), a group with fewer than \($0) positives (few positives) is left out of the TPR gaps and one with fewer than \($0) negatives (few negatives) out of the FPR gaps"
      } ?? "") + ".</p>"
    func rows(_ keys: [MetricKey], flags: Bool) -> String {
      var t = ""
      for (i, g) in (a.groups + [a.overall]).enumerated() {
        let isOverall = i == a.groups.count
        let label =
          isOverall
          ? "All rows"
          : swatch(palette.color(g.name), dash: palette.dash(g.name)) + e(g.name) + (g.flags.isEmpty ? "" : " ⚑")
        var cls = isOverall ? "overall" : (g.flags.isEmpty ? "" : "flagged")
        if let ref = r.referenceGroup, !isOverall, a.groups[ref].name == g.name { cls += " reference" }
        t += "<tr\(cls.isEmpty ? "" : " class=\"\(cls.trimmingCharacters(in: .whitespaces))\"")"
        t += isOverall ? "" : " data-group=\"\(e(g.name))\""
        t += "><td class=\"group\">\(label)</td>"
        t +=
          "<td class=\"num\">\(g.n)</td><td class=\"num\">\(g.positives)</td><td class=\"num\">\(g.counts.negatives)</td>"
        t += keys.map { metricCell(g, $0) }.joined()
        if flags { t += "<td>\(isOverall ? "" : e(flagText(g)))</td>" }
        t += "</tr>"
      }
      return t
    }
    s += "<h3>Detection at the threshold \(thresholdText(r))</h3><table class=\"groups\">"
    s += thead(["Group", "n", "n_pos", "n_neg"] + detectionKeys.map(name) + ["Flags"])
    s += "<tbody>" + rows(detectionKeys, flags: true) + "</tbody></table>"
    s += "<h3>Accuracy, ranking and calibration</h3><table class=\"groups\">"
    s += thead(["Group", "n", "n_pos", "n_neg"] + overallKeys.map(name))
    s += "<tbody>" + rows(overallKeys, flags: false) + "</tbody></table>"
    if r.configuration.bootstrap == nil {
      s += "<p class=\"note\">No intervals (the audit ran with --bootstrap 0).</p>"
    } else {
      s +=
        "<p class=\"note\">Below each value: its 95% interval (\(e(ReviewerText.intervals(r.configuration.bootstrap, rows: r.rowsUsed)))); “—” marks an undefined value, with the reason.</p>"
    }
    return s
  }

  // MARK: Figures

  static func figures(_ r: AuditResult, palette: Palette) -> String {
    let a = r.intersectional
    var s = ""
    if palette.cycles {
      s +=
        "<p class=\"note\">\(a.groups.count) groups: the 24 colours repeat; the groups after the 24th (in name order) are drawn dashed.</p>"
    }
    s +=
      "<p class=\"note\">Each group has one colour in every figure and table (assigned in name order); black is all rows.</p>"
    s += figure(
      forest(r, palette: palette), wide: true,
      caption:
        "Figure 1. Per-group AUC, TPR (sensitivity) and FPR with \(r.configuration.bootstrap.map { $0.resamplesRows(r.rowsUsed) ? "95% bootstrap intervals" : "95% intervals (bootstrap; AUC: DeLong)" } ?? "no intervals (--bootstrap 0)"); the dashed line is the value on all rows, hollow markers are flagged groups.",
    )
    s += "<div class=\"pair\">"
    let rocFigure = roc(r, palette: palette)
    s += figure(
      rocFigure.svg, wide: rocFigure.wide,
      caption:
        "Figure 2. ROC curve per group with its AUC; dots mark the operating point at threshold \(thresholdText(r)) (each group's FPR, TPR)."
    )
    if let cal = calibration(r, palette: palette) {
      s += figure(
        cal.svg, wide: cal.wide,
        caption:
          "Figure 3. Reliability: observed positive rate against mean score in \(r.configuration.eceBins) equal-width bins (the bins of ECE); the dots are all rows' bins. Flagged groups are omitted."
      )
    }
    if let k = kde(r, palette: palette) {
      s += figure(
        k.svg, wide: k.wide,
        caption:
          "Figure 4. Certainty margin density per group (Gaussian KDE, Silverman bandwidth); the grey band is the uncertainty zone |s| < \(ReportFormat.short(r.certainty!.options.delta)). Flagged groups are omitted."
      )
    }
    return s + "</div>"
  }

  static func figure(_ svg: String, wide: Bool = false, caption: String) -> String {
    "<figure\(wide ? " class=\"wide\"" : "")>\(svg)<figcaption>\(e(caption))</figcaption></figure>"
  }

  /// Forest plot: one row per group (then all rows), a panel per metric with the value and its
  /// interval, the overall value dashed.
  static func forest(_ r: AuditResult, palette: Palette) -> String {
    let a = r.intersectional
    let keys: [MetricKey] = [.auc, .tpr, .fpr]
    let rows = a.groups + [a.overall]
    // The label column fits the longest name (about 7 px a character at 12 px).
    let longest = a.groups.map { $0.name.count + ($0.flags.isEmpty ? 0 : 2) }.max() ?? 8
    let rowH = 22.0, top = 30.0, bottom = 30.0, panelW = 250.0, gap = 14.0
    let labelW = min(260, max(90, 7 * Double(longest) + 30))
    let height = top + rowH * Double(rows.count) + bottom
    let width = labelW + Double(keys.count) * (panelW + gap)
    var body = ""
    for (i, g) in rows.enumerated() {
      let y = top + rowH * (Double(i) + 0.5)
      let isOverall = i == a.groups.count
      if i % 2 == 0 {
        body +=
          "<rect x=\"0\" y=\"\(SVGChart.n(y - rowH / 2))\" width=\"\(SVGChart.n(width))\" height=\"\(SVGChart.n(rowH))\" fill=\"#f6f6f6\"/>"
      }
      let label = isOverall ? "All rows" : g.name + (g.flags.isEmpty ? "" : " ⚑")
      if !isOverall, let dash = palette.dash(g.name) {
        body +=
          "<line\(SVGChart.groupAttribute(g.name)) x1=\"3\" x2=\"19\" y1=\"\(SVGChart.n(y))\" y2=\"\(SVGChart.n(y))\" stroke=\"\(palette.color(g.name))\" stroke-width=\"3\" stroke-dasharray=\"\(dash)\"/>"
      } else if !isOverall {
        body +=
          "<rect\(SVGChart.groupAttribute(g.name)) x=\"6\" y=\"\(SVGChart.n(y - 5))\" width=\"10\" height=\"10\" fill=\"\(palette.color(g.name))\"/>"
      }
      body +=
        "<text x=\"22\" y=\"\(SVGChart.n(y + 4))\"\(isOverall ? " font-weight=\"bold\"" : "")>\(e(label))</text>"
    }
    for (p, k) in keys.enumerated() {
      var lo = 1.0, hi = 0.0
      for g in rows {
        for v in [g[k], g.intervals[k]?.lower, g.intervals[k]?.upper].compactMap({ $0 }) {
          lo = min(lo, v); hi = max(hi, v)
        }
      }
      if lo > hi { (lo, hi) = (0, 1) }
      lo = max(0, floor(lo * 10) / 10); hi = min(1, ceil(hi * 10) / 10)
      if hi - lo < 0.1 { (lo, hi) = (max(0, hi - 0.1), max(hi, min(1, lo + 0.1))) }
      var c = SVGChart(
        width: panelW, height: height, left: 8, top: top, right: 8, bottom: bottom, x: lo...hi,
        y: 0...Double(rows.count))
      c.axes(xLabel: "", yLabel: "", title: "", yTicks: false)
      if let v = a.overall[k] {
        c.raw(
          "<line x1=\"\(SVGChart.n(c.px(v)))\" x2=\"\(SVGChart.n(c.px(v)))\" y1=\"\(SVGChart.n(top))\" y2=\"\(SVGChart.n(height - bottom))\" stroke=\"#777\" stroke-dasharray=\"4 3\"/>"
        )
      }
      for (i, g) in rows.enumerated() {
        let y = top + rowH * (Double(i) + 0.5)
        let isOverall = i == a.groups.count
        let color = isOverall ? "#000" : palette.color(g.name)
        let group = isOverall ? nil : g.name
        let dash = isOverall ? nil : palette.dash(g.name)
        guard let v = g[k] else {
          c.raw(
            "<text x=\"\(SVGChart.n(c.px(lo) + 4))\" y=\"\(SVGChart.n(y + 4))\" fill=\"#888\">n/a: \(e(g.metrics[k]?.reason ?? "undefined"))</text>"
          )
          continue
        }
        var tip = "\(isOverall ? "All rows" : g.name): \(name(k)) \(num(v))"
        if let ci = g.intervals[k] {
          tip += " " + ReportFormat.interval(ci)
          c.raw(
            "<line\(SVGChart.groupAttribute(group)) x1=\"\(SVGChart.n(c.px(ci.lower)))\" x2=\"\(SVGChart.n(c.px(ci.upper)))\" y1=\"\(SVGChart.n(y))\" y2=\"\(SVGChart.n(y))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
          )
        }
        let x = c.px(v)
        if isOverall {
          c.raw(
            "<path d=\"M\(SVGChart.n(x)) \(SVGChart.n(y - 6))L\(SVGChart.n(x + 6)) \(SVGChart.n(y))L\(SVGChart.n(x)) \(SVGChart.n(y + 6))L\(SVGChart.n(x - 6)) \(SVGChart.n(y))Z\" fill=\"#000\"><title>\(e(tip))</title></path>"
          )
        } else {
          let hollow = !g.flags.isEmpty
          c.raw(
            "<rect\(SVGChart.groupAttribute(group)) x=\"\(SVGChart.n(x - 4.5))\" y=\"\(SVGChart.n(y - 4.5))\" width=\"9\" height=\"9\" fill=\"\(hollow ? "#fff" : color)\" stroke=\"\(color)\" stroke-width=\"1.5\"><title>\(e(tip))</title></rect>"
          )
        }
      }
      body += c.placed(dx: labelW + Double(p) * (panelW + gap), dy: 0)
      body +=
        "<text x=\"\(SVGChart.n(labelW + Double(p) * (panelW + gap) + 8))\" y=\"20\" font-weight=\"bold\">\(e(name(k)))</text>"
    }
    return svg(
      width: width, height: height, title: "Forest plot of per-group AUC, TPR and FPR", body: body, fontSize: 12)
  }

  static func svg(width: Double, height: Double, title: String, body: String, fontSize: Int = 11) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(SVGChart.n(width))\" height=\"\(SVGChart.n(height))\" viewBox=\"0 0 \(SVGChart.n(width)) \(SVGChart.n(height))\" font-family=\"sans-serif\" font-size=\"\(fontSize)\"><title>\(e(title))</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\(body)</svg>"
  }

  /// The size of a plot and where its legend goes: up to 26 entries in one column on the right
  /// (the figure 600 px wide whatever the names, so side-by-side figures scale alike); more below
  /// a 520-px-wide data area, in as many columns as fit 1080 px, each as wide as its longest text.
  struct LegendLayout {
    static let perColumn = 26
    let entries: [SVGChart.LegendEntry]
    /// More entries than one column holds: the legend goes below and the figure takes a row.
    let wide: Bool
    /// The chart's own size (without a legend below it) and right margin.
    let width: Double, height: Double, right: Double
    let columnWidth: Double, columns: Int

    init(_ entries: [SVGChart.LegendEntry]) {
      self.entries = entries
      let longest = entries.map(\.text.count).max() ?? 10
      columnWidth = min(340, max(150, 6.6 * Double(longest) + 34))
      wide = entries.count > Self.perColumn
      if wide {
        right = 16
        width = 56 + 520 + right
        height = 24 + 400 + 44
        columns = max(1, Int((1080 - 20) / columnWidth))
      } else {
        right = 16 + min(columnWidth, 260)
        width = 600
        height = max(360, 24 + 15 * Double(entries.count) + 40)
        columns = 1
      }
    }

    /// The figure: `chart` with its legend on the right, or below it.
    func finish(_ chart: SVGChart, title: String) -> String {
      guard wide else {
        // Text past the column is shortened with "…" (the table names every group in full).
        let fits = columnWidth <= 260 ? Int.max : Int((260 - 34) / 6.6)
        let shown = entries.map { entry -> SVGChart.LegendEntry in
          var e = entry
          if e.text.count > fits { e.text = String(e.text.prefix(fits - 1)) + "…" }
          return e
        }
        var c = chart
        c.raw(SVGChart.legend(shown, x: width - right + 14, y: chart.top + 10))
        return c.svg
      }
      let rows = (entries.count + columns - 1) / columns
      var body = chart.placed(dx: 0, dy: 0)
      for (column, start) in stride(from: 0, to: entries.count, by: rows).enumerated() {
        body += SVGChart.legend(
          Array(entries[start..<min(entries.count, start + rows)]), x: 20 + Double(column) * columnWidth,
          y: height + 16)
      }
      let totalWidth = max(width, 20 + Double(columns) * columnWidth)
      return HTMLReport.svg(width: totalWidth, height: height + 16 + 15 * Double(rows), title: title, body: body)
    }
  }

  /// A figure's SVG and whether it spans the page's width.
  typealias Figure = (svg: String, wide: Bool)

  static func roc(_ r: AuditResult, palette: Palette) -> Figure {
    let a = r.intersectional
    var legend: [SVGChart.LegendEntry] = []
    for g in a.groups {
      // A one-class group has no curve; its line says so.
      let auc = g[.auc].map { "AUC \(num($0))" } ?? "no curve (\(g.metrics[.auc]?.reason ?? "undefined"))"
      legend.append(
        .init(text: "\(g.name): \(auc)", color: palette.color(g.name), dash: palette.dash(g.name), group: g.name))
    }
    legend.append(.init(text: "all rows: AUC \(num(a.overall[.auc]))", color: "#000"))
    legend.append(.init(text: "operating point, threshold \(thresholdText(r))", color: "#555", marker: true))
    let layout = LegendLayout(legend)
    var chart = SVGChart(width: layout.width, height: layout.height, right: layout.right, x: 0...1, y: 0...1)
    chart.axes(xLabel: "FPR (1 − specificity)", yLabel: "TPR (sensitivity)", title: "ROC per group")
    chart.polyline([(0, 0), (1, 1)], color: "#bbb", width: 1, dash: true)
    for (i, curve) in r.roc.dropLast().enumerated() where i < a.groups.count {
      let g = a.groups[i]
      chart.polyline(
        curve.map { ($0.fpr, $0.tpr) }, color: palette.color(g.name), width: 1.5,
        title: "\(g.name): AUC \(num(g[.auc]))", cssClass: "roc", dashPattern: palette.dash(g.name), group: g.name)
    }
    if let overall = r.roc.last {
      chart.polyline(overall.map { ($0.fpr, $0.tpr) }, color: "#000", width: 2.5, title: "all rows")
    }
    for g in a.groups {
      guard let fpr = g[.fpr], let tpr = g[.tpr] else { continue }
      chart.raw(
        "<circle\(SVGChart.groupAttribute(g.name)) cx=\"\(SVGChart.n(chart.px(fpr)))\" cy=\"\(SVGChart.n(chart.py(tpr)))\" r=\"4.5\" fill=\"\(palette.color(g.name))\" stroke=\"#222\" stroke-width=\"1\"><title>\(e("\(g.name) at threshold \(thresholdText(r)): FPR \(num(fpr)), TPR \(num(tpr))"))</title></circle>"
      )
    }
    if let fpr = a.overall[.fpr], let tpr = a.overall[.tpr] {
      chart.raw(
        "<circle cx=\"\(SVGChart.n(chart.px(fpr)))\" cy=\"\(SVGChart.n(chart.py(tpr)))\" r=\"5.5\" fill=\"#000\" stroke=\"#fff\" stroke-width=\"1.5\"><title>\(e("all rows at threshold \(thresholdText(r)): FPR \(num(fpr)), TPR \(num(tpr))"))</title></circle>"
      )
    }
    return (layout.finish(chart, title: "ROC per group"), layout.wide)
  }

  static func kde(_ r: AuditResult, palette: Palette) -> Figure? {
    guard let c = r.certainty, let lo = c.grid.first, let hi = c.grid.last else { return nil }
    let a = r.intersectional
    // Flagged (small / one-class) groups are left out: their KDEs are spikes that would set the scale.
    let shown = c.groups.indices.filter { a.groups[$0].flags.isEmpty && !c.groups[$0].density.isEmpty }
    let top = shown.flatMap { c.groups[$0].density }.max() ?? 1
    let layout = LegendLayout(
      shown.map { i in
        let name = a.groups[i].name
        return .init(text: name, color: palette.color(name), dash: palette.dash(name), group: name)
      })
    var chart = SVGChart(
      width: layout.width, height: layout.height, right: layout.right, x: lo...hi, y: 0...(top * 1.05))
    chart.axes(xLabel: "certainty margin s", yLabel: "density", title: "Certainty margin per group")
    let delta = c.options.delta
    chart.raw(
      "<rect x=\"\(SVGChart.n(chart.px(max(lo, -delta))))\" y=\"\(SVGChart.n(chart.top))\" width=\"\(SVGChart.n(chart.px(min(hi, delta)) - chart.px(max(lo, -delta))))\" height=\"\(SVGChart.n(chart.height - chart.top - chart.bottom))\" fill=\"#eee\"><title>uncertainty zone |s| &lt; \(ReportFormat.short(delta))</title></rect>"
    )
    for i in shown {
      let name = a.groups[i].name
      chart.polyline(
        Array(zip(c.grid, c.groups[i].density)), color: palette.color(name), title: name, cssClass: "kde",
        dashPattern: palette.dash(name), group: name)
    }
    return (layout.finish(chart, title: "Certainty margin per group"), layout.wide)
  }

  /// Reliability per group; flagged groups (a handful of rows, or one class) are left out.
  static func calibration(_ r: AuditResult, palette: Palette) -> Figure? {
    let a = r.intersectional
    guard a.tally.probabilities else { return nil }
    let shown = a.groups.indices.filter { a.groups[$0].flags.isEmpty }
    var legend: [SVGChart.LegendEntry] = shown.map { i in
      let g = a.groups[i]
      return .init(
        text: "\(g.name): ECE \(num(g[.ece]))", color: palette.color(g.name), dash: palette.dash(g.name), group: g.name)
    }
    legend.append(.init(text: "all rows: ECE \(num(a.overall[.ece]))", color: "#000"))
    let layout = LegendLayout(legend)
    var chart = SVGChart(width: layout.width, height: layout.height, right: layout.right, x: 0...1, y: 0...1)
    chart.axes(
      xLabel: "mean score in bin", yLabel: "observed positive rate", title: "Calibration (reliability) per group")
    chart.polyline([(0, 0), (1, 1)], color: "#bbb", width: 1, dash: true)
    for i in shown {
      let g = a.groups[i]
      let points = a.tally.reliability(i).filter { $0.n > 0 }.map { ($0.score / $0.n, $0.label / $0.n) }
      chart.polyline(
        points, color: palette.color(g.name), width: 1.2, title: "\(g.name): ECE \(num(g[.ece]))",
        cssClass: "reliability", dashPattern: palette.dash(g.name), group: g.name)
    }
    let all = a.tally.reliability(nil).filter { $0.n > 0 }
    chart.polyline(all.map { ($0.score / $0.n, $0.label / $0.n) }, color: "#000", width: 2.5, title: "all rows")
    for b in all {
      chart.circle(
        (b.score / b.n, b.label / b.n), r: 3, color: "#000",
        title: "all rows: \(Int(b.n)) rows, mean score \(num(b.score / b.n)), observed \(num(b.label / b.n))")
    }
    return (layout.finish(chart, title: "Calibration (reliability) per group"), layout.wide)
  }

  // MARK: Views, certainty, settings, definitions

  static func views(_ r: AuditResult) -> String {
    var s =
      "<p class=\"note\">Each attribute alone, at the same threshold\(r.configuration.bootstrap == nil ? "" : " (the bootstrap intervals cover the intersectional groups only)").</p>"
    let keys: [MetricKey] = [.tpr, .fpr, .selectionRate, .accuracy, .auc]
    for v in r.views {
      s += "<h3>By \(e(v.attributes[0])) alone</h3>"
      var line: [String] = []
      for k in [AggregateKey.deltaTPR, .deltaFPR, .worstGroupTPR] {
        let x = v.aggregates[k]!
        var t = "\(e(k.plainName)) \(num(x.value))"
        if let hi = x.maxGroup, let lo = x.minGroup {
          t += " (\(e(v.groups[hi].name)) vs \(e(v.groups[lo].name)))"
        } else if let lo = x.minGroup {
          t += " (\(e(v.groups[lo].name)))"
        }
        line.append(t)
      }
      s += "<p>" + line.joined(separator: "; ") + ".</p><table class=\"view\">"
      s += thead(["Group", "n", "n_pos", "n_neg"] + keys.map(name) + ["Flags"])
      s += "<tbody>"
      for (i, g) in (v.groups + [v.overall]).enumerated() {
        let isOverall = i == v.groups.count
        s += "<tr\(isOverall ? " class=\"overall\"" : "")><td>\(isOverall ? "All rows" : e(g.name))</td>"
        s +=
          "<td class=\"num\">\(g.n)</td><td class=\"num\">\(g.positives)</td><td class=\"num\">\(g.counts.negatives)</td>"
        s += keys.map { metricCell(g, $0) }.joined()
        s += "<td>\(isOverall ? "" : e(flagText(g)))</td></tr>"
      }
      s += "</tbody></table>"
    }
    return s
  }

  static func certainty(_ r: AuditResult, _ c: CertaintyReport) -> String {
    let a = r.intersectional
    let delta = ReportFormat.short(c.options.delta)
    var s =
      "<p class=\"note\">The certainty margin s of each row (the --margin column: FairMed's predictions carry the cosine margin of docs/METHOD.md §3; with --margin derive, p of the true class minus p of the other); |s| &lt; \(delta) is the uncertainty zone.</p>"
    s += "<h3>Margin per group</h3><table class=\"certainty\">"
    s += thead(
      ["Group", "n"] + CertaintyAnalysis.quantileLevels.map { "\(ReportFormat.short($0 * 100))th percentile" }
        + ["Share |s| < \(delta)"])
    s += "<tbody>"
    for (g, m) in zip(a.groups, c.groups) {
      s +=
        "<tr data-group=\"\(e(g.name))\"><td>\(e(g.name))\(g.flags.isEmpty ? "" : " ⚑")</td><td class=\"num\">\(m.n)</td>"
      s += CertaintyAnalysis.quantileLevels.indices.map {
        "<td class=\"num\">\($0 < m.quantiles.count ? num(m.quantiles[$0]) : "—")</td>"
      }.joined()
      s += "<td class=\"num\">\(num(m.uncertainShare))</td></tr>"
    }
    s += "</tbody></table>"
    let holm = r.significance?.mmdAdjusted ?? []
    let adjusted = { (i: Int) -> Double in i < holm.count ? holm[i] : c.pairs[i].pValue }
    let significant = c.pairs.indices.filter { adjusted($0) <= MultipleTesting.alpha }.count
    let floor = ReviewerText.mmdFloor(c, automatic: r.significance?.automaticPermutations ?? false)
    s += "<h3>MMD² between groups</h3>"
    s +=
      "<p class=\"note\">\(c.pairs.count) pairs of eligible groups compared by MMD² of their margins (Gaussian kernel, σ = \(ReportFormat.short(c.options.sigma)); at most \(c.options.maxPerGroup) rows per group), with permutation p-values: \(e(floor.text)). \(significant) pair\(significant == 1 ? "" : "s") with Holm-adjusted p ≤ \(MultipleTesting.alpha). Largest MMD² first\(c.pairs.count > maxMMDRows ? "; the \(maxMMDRows) largest of \(c.pairs.count) are listed, every pair is in audit.json (certainty.mmd)" : "").</p>"
    s += "<table class=\"mmd\">"
    s += thead(["Group A", "Group B", "n A", "n B", "MMD²", "p (permutation)", "p (Holm)"])
    s += "<tbody>"
    let order = c.pairs.indices.sorted {
      (c.pairs[$0].mmd2, c.pairs[$1].a, c.pairs[$1].b) > (c.pairs[$1].mmd2, c.pairs[$0].a, c.pairs[$0].b)
    }
    for i in order.prefix(maxMMDRows) {
      let p = c.pairs[i]
      s +=
        "<tr\(adjusted(i) <= MultipleTesting.alpha ? " class=\"low-p\"" : "")><td>\(e(a.groups[p.a].name))</td><td>\(e(a.groups[p.b].name))</td><td class=\"num\">\(p.sizes.0)</td><td class=\"num\">\(p.sizes.1)</td><td class=\"num\">\(num(p.mmd2))</td><td class=\"num\">\(num(p.pValue))</td><td class=\"num\">\(num(adjusted(i)))</td></tr>"
    }
    return s + "</tbody></table>"
  }

  /// The most MMD² pairs the page lists (all pairs of 12 groups); audit.json has every pair.
  static let maxMMDRows = 66

  static func settings(_ r: AuditResult) -> String {
    let c = r.configuration
    var rows: [(String, String)] = [
      ("Predictions file", e(ReportFormat.displayPath(r.source))),
      ("Rows", "\(r.rows) in the file, \(r.rowsUsed) audited, \(r.rows - r.rowsUsed) dropped"),
      (
        "Groups",
        "\(r.intersectional.groups.count) intersectional groups of \(e(r.intersectional.attributes.joined(separator: " × ")))"
      ),
      ("Threshold", "\(thresholdText(r)) (rule \(e(r.threshold.rule))): \(text(r.threshold.detail))"),
      (
        "Small groups",
        "n &lt; \(c.minGroupSize) flagged and \(c.includeSmallGroups ? "included in gaps on request" : "left out of gaps")"
      ),
      ("ECE bins", e(ReviewerText.eceConvention(c.eceBins))),
      ("Reference group", c.referenceGroup.map(e) ?? "none"),
    ]
    rows.append(("Intervals", e(ReviewerText.intervals(c.bootstrap, rows: r.rowsUsed))))
    if let cert = r.certainty {
      let o = cert.options
      rows.append(
        (
          "Certainty",
          "uncertainty zone |s| &lt; \(ReportFormat.short(o.delta)); KDE bandwidth by Silverman's rule; MMD² biased V-statistic, Gaussian kernel σ = \(ReportFormat.short(o.sigma)), \(o.permutations) permutations\(c.automaticPermutations ? " (chosen for the number of pairs)" : ""), Holm over the pairs, at most \(o.maxPerGroup) rows per group, seed \(o.seed)"
        ))
    } else {
      rows.append(("Certainty", "not computed (no margin column: --margin)"))
    }
    rows.append(("Outputs", "audit.json (every value at full precision), groups.csv, audit.md, audit.html"))
    return "<table class=\"settings\"><tbody>"
      + rows.map { "<tr><th scope=\"row\">\($0.0)</th><td>\($0.1)</td></tr>" }.joined() + "</tbody></table>"
  }

  static func definitions() -> String {
    var rows: [(String, String)] = [
      (
        "n, n_pos, n_neg",
        "rows, rows with label 1, rows with label 0; a row is predicted positive iff its score ≥ the threshold"
      )
    ]
    rows += MetricKey.allCases.map { (name($0), $0.definition) }
    rows.append(
      (
        "Gaps",
        "every measure of the gap table (differences, ratios, worst-group, equity-scaled, largest difference to all rows) is taken over the groups that are not flagged small (nor, under --min-cell-count, short of the cells their metric rests on) and have the metric defined; audit.json lists them per gap"
      ))
    return "<table class=\"defs\"><tbody>"
      + rows.map { "<tr><th scope=\"row\">\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined() + "</tbody></table>"
  }

  // MARK: Threshold curves and net benefit

  static func thresholdSection(_ r: AuditResult, _ c: ThresholdCurves, palette: Palette) -> String {
    let a = r.intersectional, t = r.threshold.value
    var s =
      "<p class=\"note\">The audit's threshold is one point on these curves (thresholds 0.01…0.99; predicted positive iff score ≥ t)\(r.threshold.chosenOnAuditedLabels ? "; it is <b class=\"optimistic\">\(e(ResolvedThreshold.optimisticNote))</b>" : ""). ΔTPR and worst-group TPR take the groups of the gap table.</p>"
    s += "<div class=\"pair\">"
    let gap = gapCurves(r, c)
    s += figure(
      gap.svg, wide: gap.wide,
      caption:
        "Figure 5. ΔTPR (max − min subgroup TPR), worst-group TPR and overall TPR against the threshold; the vertical line marks the operating point \(thresholdText(r))."
    )
    let dc = decisionCurves(r, c, palette: palette)
    s += figure(
      dc.svg, wide: dc.wide,
      caption:
        "Figure 6. Decision curves: net benefit of the model on all rows (black) and per group (colours), of treating all rows (grey dashed) and none (0); the vertical line marks the threshold \(thresholdText(r)). Flagged groups are omitted."
    )
    s += "</div>"
    guard t > 0, t < 1 else {
      return s + "<p class=\"note\">No net benefit at the threshold: it is not inside (0, 1).</p>"
    }
    s += "<h3>Net benefit at the threshold \(thresholdText(r))</h3><table class=\"groups netbenefit\">"
    s += thead(["Group", "n", "n_pos", "n_neg", "Model", "Treat all", "Treat none"])
    s += "<tbody>"
    for (i, g) in (a.groups + [a.overall]).enumerated() {
      let isOverall = i == a.groups.count
      let nb = NetBenefit.at(g.counts, threshold: t)
      s +=
        "<tr\(isOverall ? " class=\"overall\"" : "")><td class=\"group\">\(isOverall ? "All rows" : groupLabel(g, palette: palette))</td>"
      s +=
        "<td class=\"num\">\(g.n)</td><td class=\"num\">\(g.positives)</td><td class=\"num\">\(g.counts.negatives)</td>"
      s +=
        "<td class=\"num\">\(num(nb?.model))</td><td class=\"num\">\(num(nb?.treatAll))</td><td class=\"num\">0</td></tr>"
    }
    return s + "</tbody></table>"
  }

  static func gapCurves(_ r: AuditResult, _ c: ThresholdCurves) -> Figure {
    let legend: [SVGChart.LegendEntry] = [
      .init(text: "ΔTPR (max − min)", color: "#c0392b"), .init(text: "worst-group TPR", color: "#2a5d9f"),
      .init(text: "overall TPR", color: "#000"),
    ]
    let layout = LegendLayout(legend)
    var chart = SVGChart(width: layout.width, height: layout.height, right: layout.right, x: 0...1, y: 0...1)
    chart.axes(xLabel: "threshold", yLabel: "TPR / ΔTPR", title: "TPR gap against the threshold")
    func points(_ v: [Double?]) -> [(Double, Double)] { zip(c.thresholds, v).compactMap { t, y in y.map { (t, $0) } } }
    chart.polyline(points(c.deltaTPR), color: "#c0392b", width: 2, title: "ΔTPR")
    chart.polyline(points(c.worstGroupTPR), color: "#2a5d9f", width: 2, title: "worst-group TPR")
    chart.polyline(points(c.overallTPR), color: "#000", width: 2, title: "overall TPR")
    operatingLine(&chart, r)
    return (layout.finish(chart, title: "TPR gap against the threshold"), layout.wide)
  }

  static func operatingLine(_ chart: inout SVGChart, _ r: AuditResult) {
    let t = r.threshold.value
    guard t >= chart.x.lowerBound, t <= chart.x.upperBound else { return }
    chart.raw(
      "<line x1=\"\(SVGChart.n(chart.px(t)))\" x2=\"\(SVGChart.n(chart.px(t)))\" y1=\"\(SVGChart.n(chart.top))\" y2=\"\(SVGChart.n(chart.height - chart.bottom))\" stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"5 3\"><title>operating point: threshold \(thresholdText(r))</title></line>"
    )
  }

  static func decisionCurves(_ r: AuditResult, _ c: ThresholdCurves, palette: Palette) -> Figure {
    let a = r.intersectional
    let shown = a.groups.indices.filter { a.groups[$0].flags.isEmpty && c.decision.groups[$0] != nil }
    var legend: [SVGChart.LegendEntry] = shown.map { i in
      let g = a.groups[i]
      return .init(text: g.name, color: palette.color(g.name), dash: palette.dash(g.name), group: g.name)
    }
    legend.append(.init(text: "model, all rows", color: "#000"))
    legend.append(.init(text: "treat all (all rows)", color: "#999", dash: "4 3"))
    let layout = LegendLayout(legend)
    let all = c.decision.overall
    let top = max(0.05, ([all.model.max() ?? 0] + shown.compactMap { c.decision.groups[$0]?.model.max() }).max()! * 1.1)
    let bottom = -0.1 * top
    var chart = SVGChart(
      width: layout.width, height: layout.height, right: layout.right, x: 0...1, y: bottom...top)
    chart.axes(xLabel: "threshold probability", yLabel: "net benefit", title: "Decision curves")
    func clipped(_ v: [Double]) -> [(Double, Double)] { zip(c.thresholds, v).map { ($0, max(bottom, min(top, $1))) } }
    chart.polyline([(0, 0), (1, 0)], color: "#bbb", width: 1)
    chart.polyline(clipped(all.treatAll), color: "#999", width: 1.2, dash: true, title: "treat all")
    for i in shown {
      let g = a.groups[i]
      chart.polyline(
        clipped(c.decision.groups[i]!.model), color: palette.color(g.name), width: 1.2, title: "\(g.name): model",
        cssClass: "decision", dashPattern: palette.dash(g.name), group: g.name)
    }
    chart.polyline(clipped(all.model), color: "#000", width: 2.5, title: "model, all rows")
    operatingLine(&chart, r)
    return (layout.finish(chart, title: "Decision curves"), layout.wide)
  }

  // MARK: Provenance, calibration, tests

  /// The small "Provenance" block of the header.
  static func provenance(_ p: AuditProvenance) -> String {
    var rows: [(String, String)] = [
      ("FairMed", "<code class=\"verbatim\">\(e(p.versionDescription))</code>"),
      ("Run (UTC)", e(p.dateUTC)),
    ]
    if let cmd = p.commandLine {
      rows.append(("Command", "<code class=\"verbatim\">\(e(ReviewerText.command(cmd)))</code>"))
    }
    rows.append(
      (
        "Predictions",
        "\(e(ReportFormat.displayPath(p.inputFile))), \(p.inputRows) rows"
          + (p.inputSHA256.map { ", SHA-256 <code class=\"verbatim\">\($0)</code>" } ?? " (in memory: no file hash)")
      ))
    rows.append(
      (
        "Threshold from",
        p.thresholdSource.map { e(ReportFormat.displayPath($0)) } ?? "no file (a fixed rule or the audited data)"
      ))
    return "<div class=\"provenance\" id=\"provenance\"><b>Provenance</b><dl>"
      + rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl></div>"
  }

  static func wald(_ w: WaldEstimate?, _ reason: String?) -> String {
    guard let w else {
      return "<td class=\"num undefined\">—<span class=\"ci\">\(e(reason ?? "undefined"))</span></td>"
    }
    return
      "<td class=\"num\">\(num(w.estimate))<span class=\"ci analytic\">[\(num(w.interval.lower)), \(num(w.interval.upper))]</span></td>"
  }

  static func groupLabel(_ g: GroupMetrics, palette: Palette) -> String {
    swatch(palette.color(g.name), dash: palette.dash(g.name)) + e(g.name) + (g.flags.isEmpty ? "" : " ⚑")
  }

  static func calibrationTables(_ r: AuditResult, _ c: CalibrationReport, palette: Palette) -> String {
    let a = r.intersectional
    var s =
      "<p class=\"note\">Logistic recalibration logit P(y=1) = a + b·logit(p), fitted per group: slope b (1 is ideal; below 1 the scores are too extreme), intercept a, and calibration-in-the-large (a with b fixed at 1; above 0 the risk is underestimated), each with its Wald 95% interval below; “—” gives the reason a fit is undefined (one class, or a score that separates the classes). \(e(ReviewerText.eceConvention(r.configuration.eceBins))).</p>"
    s += "<table class=\"groups calibration\">"
    s += thead(["Group", "n", "n_pos", "n_neg", "Slope", "Intercept", "Calibration-in-the-large", "Brier", "ECE"])
    s += "<tbody>"
    for (i, (g, x)) in zip(a.groups + [a.overall], c.groups + [c.overall]).enumerated() {
      let isOverall = i == a.groups.count
      s += "<tr\(isOverall ? " class=\"overall\"" : " data-group=\"\(e(g.name))\"")>"
      s += "<td class=\"group\">\(isOverall ? "All rows" : groupLabel(g, palette: palette))</td>"
      s +=
        "<td class=\"num\">\(g.n)</td><td class=\"num\">\(g.positives)</td><td class=\"num\">\(g.counts.negatives)</td>"
      s += wald(x.fit?.slope, x.fitReason) + wald(x.fit?.intercept, x.fitReason)
      s += wald(x.calibrationInTheLarge, x.calibrationInTheLargeReason)
      s += metricCell(g, .brier) + metricCell(g, .ece) + "</tr>"
    }
    s += "</tbody></table>"
    let t = c.temperature
    s += "<h3>Temperature scaling fitted on validation</h3>"
    guard let scaling = t.scaling, let o = t.overall else {
      return s + "<p class=\"note\">Not computed: \(text(t.reason ?? "no validation predictions")).</p>"
    }
    s +=
      "<p class=\"note\">T = \(num(scaling.temperature)) fitted on \(e(ReportFormat.displayPath(t.source ?? ""))) (\(scaling.n) validation rows; log loss \(num(scaling.logLossBefore)) → \(num(scaling.logLossAfter))); the audited scores rescaled by σ(logit(p)/T). Note: \(e(ReviewerText.temperatureInvariance)).</p>"
    s += "<table class=\"groups temperature\">"
    s += thead(["Group", "ECE before", "ECE after", "Brier before", "Brier after"])
    s += "<tbody>"
    for (i, (g, x)) in zip(a.groups + [a.overall], t.groups + [o]).enumerated() {
      let isOverall = i == a.groups.count
      s +=
        "<tr\(isOverall ? " class=\"overall\"" : "")><td class=\"group\">\(isOverall ? "All rows" : groupLabel(g, palette: palette))</td>"
      s += [x.eceBefore, x.eceAfter, x.brierBefore, x.brierAfter].map { "<td class=\"num\">\(num($0))</td>" }.joined()
      s += "</tr>"
    }
    return s + "</tbody></table>"
  }

  static func significance(_ r: AuditResult, _ sig: SignificanceReport, palette: Palette) -> String {
    let a = r.intersectional
    var s =
      "<p class=\"note\">Each group against the reference group \(e(ReviewerText.reference(r, sig))). AUC: \(e(ReviewerText.aucTestMethod)); \(e(ReviewerText.holm(sig.aucTestCount))). TPR: \(e(ReviewerText.tprTestMethod)); \(e(ReviewerText.holm(sig.tprTestCount))). Flagged groups are not tested. A difference is called real at family level \(MultipleTesting.alpha) when its Holm-adjusted p is at most \(MultipleTesting.alpha) (shaded).</p>"
    s += "<table class=\"groups tests\">"
    s += thead([
      "Group", "n_pos", "n_neg", "AUC (DeLong 95% CI)", "ΔAUC vs reference", "p", "p (Holm)", "TPR",
      "ΔTPR vs reference", "p", "p (Holm)",
    ])
    s += "<tbody>"
    func cells(_ t: GroupTest) -> String {
      let shade = (t.adjustedPValue ?? 1) <= MultipleTesting.alpha ? " low-p" : ""
      guard t.pValue != nil else {
        return
          "<td class=\"num\">\(num(t.difference))</td><td class=\"num undefined\" colspan=\"2\">—<span class=\"ci\">\(e(t.reason ?? ""))</span></td>"
      }
      return
        "<td class=\"num\(shade)\">\(num(t.difference))</td><td class=\"num\">\(e(ReportFormat.pValue(t.pValue)))</td><td class=\"num\(shade)\">\(e(ReportFormat.pValue(t.adjustedPValue)))</td>"
    }
    for (i, g) in a.groups.enumerated() {
      let isRef = sig.reference == i
      s += "<tr\(isRef ? " class=\"reference\"" : "")>"
      s += "<td class=\"group\">\(groupLabel(g, palette: palette))\(isRef ? " (reference)" : "")</td>"
      s += "<td class=\"num\">\(g.positives)</td><td class=\"num\">\(g.counts.negatives)</td>"
      if let est = sig.auc[i] {
        s +=
          "<td class=\"num\">\(num(est.auc))<span class=\"ci analytic\">[\(num(est.interval.lower)), \(num(est.interval.upper))]</span></td>"
      } else {
        s +=
          "<td class=\"num\">\(num(g[.auc]))<span class=\"ci\">no DeLong variance (fewer than 2 of a class)</span></td>"
      }
      s += cells(sig.aucTests[i])
      s += metricCell(g, .tpr)
      s += cells(sig.tprTests[i])
      s += "</tr>"
    }
    if let o = sig.overallAUC {
      s +=
        "<tr class=\"overall\"><td class=\"group\">All rows</td><td class=\"num\">\(a.overall.positives)</td><td class=\"num\">\(a.overall.counts.negatives)</td><td class=\"num\">\(num(o.auc))<span class=\"ci analytic\">[\(num(o.interval.lower)), \(num(o.interval.upper))]</span></td><td colspan=\"3\"></td>\(metricCell(a.overall, .tpr))<td colspan=\"3\"></td></tr>"
    }
    return s + "</tbody></table>"
  }

  // MARK: Style

  static let style = """
    .provenance{font-size:11.5px;color:#444;margin:6px 0;padding:5px 10px;border:1px solid #e2e2e2;border-radius:4px}
    .provenance dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 10px;margin:3px 0 0}
    .provenance dt{color:#666}.provenance dd{margin:0;overflow-wrap:anywhere}.provenance code{font-size:11px}
    .optimistic{color:#a33}
    body{font:14px/1.45 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;
    padding:20px 24px;max-width:1140px}
    h1{font-size:24px;margin:0 0 8px}h2{font-size:19px;margin:30px 0 8px;padding-bottom:3px;border-bottom:2px solid #ddd}
    h3{font-size:15px;margin:18px 0 6px}p{margin:6px 0}.lead{font-size:14.5px}.note{font-size:12.5px;color:#555}
    nav{font-size:13px;margin:10px 0;padding:6px 10px;background:#f4f6f8;border-radius:4px}nav a{color:#2a5d9f}
    ul.findings{margin:6px 0 10px;padding-left:20px}
    table{border-collapse:collapse;font-size:12.5px;margin:6px 0 10px}
    th,td{border:1px solid #d6d6d6;padding:3px 7px;vertical-align:top;text-align:left}
    thead th{background:#f1f3f5;text-align:center;vertical-align:bottom}
    td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    .ci{display:block;font-size:10.5px;color:#666;white-space:nowrap}
    td.undefined{color:#888}td.group{white-space:nowrap}
    tr.overall td{font-weight:600;background:#fafafa}tr.flagged td{color:#777}tr.reference td{background:#fffbe6}
    tr.low-p td,td.low-p{background:#fff4f0}
    .sw{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px;vertical-align:-1px}
    figure{margin:10px 0 18px;break-inside:avoid;page-break-inside:avoid}
    figure svg{display:block;max-width:100%;height:auto}
    figcaption{font-size:12.5px;color:#444;margin-top:4px;max-width:820px}
    .pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:8px 24px}
    .pair figure{margin:10px 0;min-width:0}.pair figure.wide{grid-column:1/-1}
    table.settings th,table.defs th{background:#f6f6f6;white-space:nowrap}table.defs{font-size:12px}footer{margin-top:28px;font-size:11.5px;color:#777}code{font-size:12px}
    table.checklist{font-size:12px}table.checklist td:first-child{white-space:nowrap}table.checklist a{color:#2a5d9f}
    .not-here{color:#666;font-style:italic}
    @page{size:A4;margin:14mm 12mm}
    @media print{
    body{max-width:none;margin:0;padding:0;font-size:10pt}
    nav{background:none;padding:0}
    section{break-before:page;page-break-before:always}section#summary{break-before:auto;page-break-before:auto}
    h2,h3{break-after:avoid;page-break-after:avoid}
    figure,svg,tr{break-inside:avoid;page-break-inside:avoid}
    thead{display:table-header-group}
    table{font-size:7pt;max-width:100%}th,td{padding:1px 3px}.ci{font-size:6pt}table.settings th{width:auto}
    table.settings,table.defs,table.gaps,table.checklist{font-size:7.5pt}
    .pair{display:block}.pair figure{max-width:100%}
    figcaption{max-width:none}
    a{color:inherit;text-decoration:none}
    a[href^="http"]::after{content:" (" attr(href) ")";font-size:8pt}
    tr.overall td,tr.reference td,tr.low-p td,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
    .sw{-webkit-print-color-adjust:exact;print-color-adjust:exact}
    }
    """
}
