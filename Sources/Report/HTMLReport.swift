import Foundation
import Fairness

/// audit.html: one self-contained page (inline SVG, no scripts, no network): per-group TPR/FPR bars
/// with interval whiskers, ROC curves, certainty KDEs and a calibration plot.
public enum HTMLReport {
  public static func text(_ r: AuditResult) -> String {
    let a = r.intersectional
    let legend = a.groups.enumerated().map { i, g in
      "<span class=\"key\"><i style=\"background:\(SVGChart.color(i))\"></i>\(SVGChart.escape(g.name))\(g.flags.isEmpty ? "" : " ⚑")</span>"
    }.joined(separator: " ")
    var html = """
      <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>FairMed audit</title>
      <style>body{font-family:sans-serif;margin:24px;max-width:1100px;color:#222}h1{font-size:22px}
      .plots{display:flex;flex-wrap:wrap;gap:16px}.key{display:inline-block;margin:2px 10px 2px 0;font-size:12px}
      .key i{display:inline-block;width:10px;height:10px;margin-right:4px}table{border-collapse:collapse;font-size:12px}
      td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child{text-align:left}</style></head><body>
      <h1>Fairness audit</h1>
      <p>\(SVGChart.escape(r.source)): \(r.rowsUsed) of \(r.rows) rows, \(a.groups.count) groups (\(SVGChart.escape(a.attributes.joined(separator: " × ")))).
      Threshold <b>\(SVGChart.escape(r.threshold.rule)) = \(r.threshold.value)</b>: \(SVGChart.escape(r.threshold.detail)).</p>
      <p>\(headline(a))</p><p>\(legend)</p><div class="plots">
      """
    html += rateBars(a) + roc(r) + kde(r) + calibration(r) + "</div>"
    html += table(a)
    if !r.warnings.isEmpty {
      html += "<h2>Warnings</h2><ul>" + r.warnings.map { "<li>\(SVGChart.escape($0))</li>" }.joined() + "</ul>"
    }
    return html + "</body></html>\n"
  }

  static func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "—" }

  static func headline(_ a: GroupAudit) -> String {
    [AggregateKey.deltaTPR, .worstGroupTPR, .deodds, .dpd, .esAUC].map { k in
      let v = a.aggregates[k]!
      var s = "<b>\(k.rawValue)</b> \(f(v.value))"
      if let i = a.aggregateIntervals[k] { s += " [\(f(i.lower)), \(f(i.upper))]" }
      if let lo = v.minGroup { s += " (\(SVGChart.escape(a.groups[lo].name)))" }
      return s
    }.joined(separator: " · ")
  }

  /// Horizontal TPR and FPR bars per group, with bootstrap whiskers when available.
  static func rateBars(_ a: GroupAudit) -> String {
    let rowH = 26.0
    var chart = SVGChart(
      width: 680, height: 70 + rowH * Double(a.groups.count), right: 170,
      x: 0...1, y: 0...Double(max(1, a.groups.count)))
    chart.axes(xLabel: "rate", yLabel: "", title: "TPR (blue) and FPR (orange) per group, 95% intervals", yTicks: false)
    for (i, g) in a.groups.enumerated() {
      let y0 = Double(a.groups.count - i)
      for (j, key) in [MetricKey.tpr, .fpr].enumerated() {
        let color = j == 0 ? "#4e79a7" : "#f28e2b"
        let yTop = chart.py(y0) + 3 + Double(j) * 10
        if let v = g[key] {
          chart.raw(
            "<rect x=\"\(SVGChart.n(chart.px(0)))\" y=\"\(SVGChart.n(yTop))\" width=\"\(SVGChart.n(chart.px(v) - chart.px(0)))\" height=\"9\" fill=\"\(color)\"\(g.flags.isEmpty ? "" : " fill-opacity=\"0.4\"")><title>\(SVGChart.escape(g.name)) \(key.rawValue) \(f(v))</title></rect>"
          )
        }
        if let ci = g.intervals[key] {
          let yc = SVGChart.n(yTop + 4.5)
          chart.raw(
            "<line x1=\"\(SVGChart.n(chart.px(ci.lower)))\" x2=\"\(SVGChart.n(chart.px(ci.upper)))\" y1=\"\(yc)\" y2=\"\(yc)\" stroke=\"#222\"/>"
          )
          for e in [ci.lower, ci.upper] {
            chart.raw(
              "<line x1=\"\(SVGChart.n(chart.px(e)))\" x2=\"\(SVGChart.n(chart.px(e)))\" y1=\"\(SVGChart.n(yTop + 1))\" y2=\"\(SVGChart.n(yTop + 8))\" stroke=\"#222\"/>"
            )
          }
        }
      }
      chart.raw(
        "<text x=\"\(SVGChart.n(chart.px(1) + 6))\" y=\"\(SVGChart.n(chart.py(y0) + 15))\">\(SVGChart.escape(g.name))\(g.flags.isEmpty ? "" : " ⚑")</text>"
      )
    }
    return chart.svg
  }

  static func roc(_ r: AuditResult) -> String {
    var chart = SVGChart(x: 0...1, y: 0...1)
    chart.axes(xLabel: "FPR", yLabel: "TPR", title: "ROC per group")
    chart.polyline([(0, 0), (1, 1)], color: "#bbb", width: 1, dash: true)
    for (i, curve) in r.roc.dropLast().enumerated() {
      let g = r.intersectional.groups[i]
      chart.polyline(curve.map { ($0.fpr, $0.tpr) }, color: SVGChart.color(i), title: "\(g.name) AUC \(f(g[.auc]))")
    }
    if let overall = r.roc.last {
      chart.polyline(overall.map { ($0.fpr, $0.tpr) }, color: "#000", width: 2.5, title: "overall")
    }
    return chart.svg
  }

  static func kde(_ r: AuditResult) -> String {
    guard let c = r.certainty, let lo = c.grid.first, let hi = c.grid.last else { return "" }
    // Flagged (small / one-class) groups are left out: their KDEs are spikes that would set the scale.
    let shown = c.groups.indices.filter { r.intersectional.groups[$0].flags.isEmpty }
    let top = shown.flatMap { c.groups[$0].density }.max() ?? 1
    var chart = SVGChart(x: lo...hi, y: 0...(top * 1.05))
    chart.axes(
      xLabel: "certainty margin s", yLabel: "density", title: "Certainty KDE per group (flagged groups omitted)")
    chart.raw(
      "<rect x=\"\(SVGChart.n(chart.px(max(lo, -c.options.delta))))\" y=\"\(SVGChart.n(chart.top))\" width=\"\(SVGChart.n(chart.px(min(hi, c.options.delta)) - chart.px(max(lo, -c.options.delta))))\" height=\"\(SVGChart.n(chart.height - chart.top - chart.bottom))\" fill=\"#eee\"><title>uncertainty zone |s| &lt; \(c.options.delta)</title></rect>"
    )
    for i in shown where !c.groups[i].density.isEmpty {
      let s = c.groups[i]
      chart.polyline(Array(zip(c.grid, s.density)), color: SVGChart.color(i), title: r.intersectional.groups[i].name)
    }
    return chart.svg
  }

  static func calibration(_ r: AuditResult) -> String {
    let a = r.intersectional
    guard a.tally.probabilities else { return "" }
    var chart = SVGChart(x: 0...1, y: 0...1)
    chart.axes(
      xLabel: "mean predicted probability", yLabel: "observed positive rate", title: "Calibration (reliability)")
    chart.polyline([(0, 0), (1, 1)], color: "#bbb", width: 1, dash: true)
    for g in a.groups.indices {
      let points = a.tally.reliability(g).filter { $0.n > 0 }.map { ($0.score / $0.n, $0.label / $0.n) }
      chart.polyline(points, color: SVGChart.color(g), width: 1, title: a.groups[g].name)
    }
    let all = a.tally.reliability(nil).filter { $0.n > 0 }
    chart.polyline(all.map { ($0.score / $0.n, $0.label / $0.n) }, color: "#000", width: 2.5, title: "overall")
    for b in all { chart.circle((b.score / b.n, b.label / b.n), r: 3, color: "#000", title: "n=\(Int(b.n))") }
    return chart.svg
  }

  static func table(_ a: GroupAudit) -> String {
    let keys: [MetricKey] = [.prevalence, .tpr, .fpr, .ppv, .accuracy, .balancedAccuracy, .auc, .brier, .ece]
    var s =
      "<h2>Groups</h2><table><tr><th>group</th><th>n</th><th>positives</th>"
      + keys.map { "<th>\($0.rawValue)</th>" }.joined() + "<th>flags</th></tr>"
    for g in a.groups + [a.overall] {
      s += "<tr><td>\(SVGChart.escape(g.name))</td><td>\(g.n)</td><td>\(g.positives)</td>"
      s += keys.map { k in "<td title=\"\(SVGChart.escape(g.metrics[k]?.reason ?? ""))\">\(f(g[k]))</td>" }.joined()
      s += "<td>\(g.flags.joined(separator: ", "))</td></tr>"
    }
    return s + "</table>"
  }
}
