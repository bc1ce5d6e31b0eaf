import Foundation

/// One subgroup's density of the certainty margin, sampled on a grid (`xs[i]` ↦ `density[i]`).
public struct DensityCurve: Sendable, Equatable {
  public var group: String
  public var xs: [Double]
  public var density: [Double]
  public init(group: String, xs: [Double], density: [Double]) {
    self.group = group; self.xs = xs; self.density = density
  }
}

/// One panel of the certainty-gap figure (e.g. "ERM" or "CMAC-MMD"): one curve per subgroup.
public struct CertaintyPanel: Sendable, Equatable {
  public var title: String
  public var curves: [DensityCurve]
  /// Half-width of the uncertainty zone |s| < δ, shaded in the panel.
  public var delta: Double
  public init(title: String, curves: [DensityCurve], delta: Double) {
    self.title = title; self.curves = curves; self.delta = delta
  }
}

/// One (method, λ) cell of the accuracy–fairness frontier: means over seeds, with optional std.
public struct FrontierPoint: Sendable, Equatable {
  public var method: String
  public var lambda: Double
  public var deltaTPR: Double
  public var deltaTPRStd: Double?
  public var auc: Double
  public var aucStd: Double?
  /// How the point's λ is labelled (default: the value; "val." where each run chose its own).
  public var lambdaText: String?
  public init(
    method: String, lambda: Double, deltaTPR: Double, deltaTPRStd: Double? = nil, auc: Double, aucStd: Double? = nil,
    lambdaText: String? = nil
  ) {
    self.method = method; self.lambda = lambda; self.deltaTPR = deltaTPR; self.deltaTPRStd = deltaTPRStd
    self.auc = auc; self.aucStd = aucStd; self.lambdaText = lambdaText
  }
}

/// Batch-size sensitivity for one batch size: share of batches covering every subgroup (0–1) and
/// the variance of the MMD estimate across batches (nil when not measured).
public struct BatchSizeRow: Sendable, Equatable {
  public var batchSize: Int
  public var coverageShare: Double
  public var mmdVariance: Double?
  public init(batchSize: Int, coverageShare: Double, mmdVariance: Double?) {
    self.batchSize = batchSize; self.coverageShare = coverageShare; self.mmdVariance = mmdVariance
  }
}

/// A subgroup's TPR (nil when undefined, e.g. no positives) with an optional bootstrap interval.
public struct GroupTPR: Sendable, Equatable {
  public var group: String
  public var tpr: Double?
  public var lower: Double?
  public var upper: Double?
  public init(group: String, tpr: Double?, lower: Double? = nil, upper: Double? = nil) {
    self.group = group; self.tpr = tpr; self.lower = lower; self.upper = upper
  }
}

/// One method's per-subgroup TPRs.
public struct MethodGroupTPRs: Sendable, Equatable {
  public var method: String
  public var groups: [GroupTPR]
  /// The method name its colour is looked up by in ``MethodColors`` (default: `method`), e.g.
  /// "cmac-mmd" for a bar labelled "cmac-mmd (λ=0.1)".
  public var colorKey: String?
  public init(method: String, groups: [GroupTPR], colorKey: String? = nil) {
    self.method = method; self.groups = groups; self.colorKey = colorKey
  }
}

/// A named line of values against training step (or epoch): `steps[i]` ↦ `values[i]`.
public struct CurveSeries: Sendable, Equatable {
  public var name: String
  public var steps: [Double]
  public var values: [Double]
  /// The method name its colour is looked up by in ``MethodColors`` (default: `name`).
  public var colorKey: String?
  /// Drawn dashed (e.g. a method's second loss term, in the method's colour).
  public var dashed: Bool
  public init(name: String, steps: [Double], values: [Double], colorKey: String? = nil, dashed: Bool = false) {
    self.name = name; self.steps = steps; self.values = values; self.colorKey = colorKey; self.dashed = dashed
  }
}

/// One colour per method across every study figure: the method names are sorted and the k-th
/// takes ``Palette``'s k-th colour (after 24 names the colours repeat with dashes). Build one from
/// every method of a study and pass it to each figure; a figure given none colours its own names
/// the same way.
public struct MethodColors: Sendable {
  let palette: Palette
  public init<S: Sequence>(methods: S) where S.Element == String { palette = Palette(names: methods) }
  /// The method's colour (a name it was not built with takes the first colour).
  public func color(_ method: String) -> String { palette.color(method) }
  /// nil for the first 24 names; a dash pattern after.
  public func dash(_ method: String) -> String? { palette.dash(method) }
}

/// The study's figures as standalone SVG documents (xmlns, size, `<title>`, labelled axes, legend;
/// no scripts, links or external fonts). Output is deterministic. Marks carry CSS classes
/// (`series`, `point`, `bar`, `na`, `errorbar`, `whisker`, `zone`, `legend-entry`) for tests and styling.
public enum StudyFigures {
  // MARK: 1. Certainty gap

  /// Side-by-side certainty-margin densities per subgroup, one panel per method, on shared axes,
  /// with s = 0 marked and the uncertainty zone |s| < δ shaded.
  public static func certaintyKDEs(
    panels: [CertaintyPanel], title: String = "Certainty gap: density of the certainty margin per subgroup"
  ) -> String {
    let allX = panels.flatMap { p in p.curves.flatMap(\.xs) + [-abs(p.delta), abs(p.delta)] }
    let xr = range(allX + [0], pad: 0)
    let yMax = panels.flatMap { $0.curves.flatMap(\.density) }.filter(\.isFinite).max() ?? 1
    let yr = 0...(max(yMax, 1e-12) * 1.05)
    let groups = ordered(panels.flatMap { $0.curves.map(\.group) })
    let pw = 380.0, ph = 300.0, legendW = 160.0, top = 28.0
    let width = pw * Double(max(1, panels.count)) + legendW
    var body = heading(title)
    for (k, p) in panels.enumerated() {
      var c = SVGChart(width: pw, height: ph, x: xr, y: yr)
      let d = abs(p.delta)
      if d > 0 {
        let x0 = c.px(max(-d, xr.lowerBound)), x1 = c.px(min(d, xr.upperBound))
        c.raw(
          "<rect class=\"zone\" x=\"\(n(x0))\" y=\"\(n(c.py(yr.upperBound)))\" width=\"\(n(x1 - x0))\" height=\"\(n(c.py(yr.lowerBound) - c.py(yr.upperBound)))\" fill=\"#ddd\" fill-opacity=\"0.6\"><title>uncertainty zone |s| &lt; \(SVGChart.label(d))</title></rect>"
        )
      }
      c.axes(xLabel: "certainty margin s (cosine units)", yLabel: "density (per cosine unit)", title: p.title)
      c.raw(
        "<line class=\"zero\" x1=\"\(n(c.px(0)))\" x2=\"\(n(c.px(0)))\" y1=\"\(n(c.py(yr.lowerBound)))\" y2=\"\(n(c.py(yr.upperBound)))\" stroke=\"#000\" stroke-dasharray=\"3 3\"/>"
      )
      for curve in p.curves {
        let i = groups.firstIndex(of: curve.group) ?? 0
        c.polyline(
          finitePairs(curve.xs, curve.density), color: SVGChart.color(i), width: 2, dash: i >= 10,
          title: "\(p.title): \(curve.group)", cssClass: "series")
      }
      body += "<g class=\"panel\" transform=\"translate(\(n(pw * Double(k))),\(n(top)))\">\(c.body)</g>"
    }
    var entries = groups.enumerated().map { (i, g) in
      LegendEntry(name: g, color: SVGChart.color(i), kind: .line(dash: i >= 10))
    }
    entries.append(LegendEntry(name: "|s| < δ (uncertain)", color: "#ddd", kind: .box))
    body += legend(entries, x: width - legendW + 8, y: top + 30)
    return document(width: width, height: ph + top, title: title, body: body)
  }

  // MARK: 2. Frontier

  /// The λ accuracy–fairness frontier: AUC against ΔTPR, one colour per method, points joined in
  /// λ order, labelled with λ, with mean ± std error bars in both directions where std is given.
  public static func frontier(
    points: [FrontierPoint], title: String = "Accuracy–fairness frontier over λ (mean ± std over seeds)",
    colors: MethodColors? = nil
  ) -> String {
    let pts = points.filter { $0.deltaTPR.isFinite && $0.auc.isFinite }
    let xs = pts.flatMap { p in [p.deltaTPR - (p.deltaTPRStd ?? 0), p.deltaTPR + (p.deltaTPRStd ?? 0)] }
    let ys = pts.flatMap { p in [p.auc - (p.aucStd ?? 0), p.auc + (p.aucStd ?? 0)] }
    let legendW = legendWidth(pts.map(\.method))
    var c = SVGChart(
      width: 400 + legendW, height: 380, right: legendW, x: range(xs, pad: 0.08), y: range(ys, pad: 0.08))
    c.axes(
      xLabel: "ΔTPR (max − min subgroup TPR, 0–1; lower is fairer)", yLabel: "AUC (0–1; higher is better)", title: title
    )
    let methods = ordered(pts.map(\.method))
    let colors = colors ?? MethodColors(methods: methods)
    for m in methods {
      let color = colors.color(m)
      let mine = pts.filter { $0.method == m }.sorted { $0.lambda < $1.lambda }
      c.polyline(
        mine.map { ($0.deltaTPR, $0.auc) }, color: color, width: 1.5, title: m, cssClass: "series",
        dashPattern: colors.dash(m))
      for p in mine {
        let (cx, cy) = (c.px(p.deltaTPR), c.py(p.auc))
        var bars = ""
        if let s = p.deltaTPRStd, s.isFinite, s > 0 {
          let (a, b) = (c.px(p.deltaTPR - s), c.px(p.deltaTPR + s))
          bars += line(a, cy, b, cy, color) + line(a, cy - 3, a, cy + 3, color) + line(b, cy - 3, b, cy + 3, color)
        }
        if let s = p.aucStd, s.isFinite, s > 0 {
          let (a, b) = (c.py(p.auc - s), c.py(p.auc + s))
          bars += line(cx, a, cx, b, color) + line(cx - 3, a, cx + 3, a, color) + line(cx - 3, b, cx + 3, b, color)
        }
        if !bars.isEmpty { c.raw("<g class=\"errorbar\">\(bars)</g>") }
        let label =
          "\(m), λ = \(p.lambdaText ?? SVGChart.label(p.lambda)): ΔTPR \(f(p.deltaTPR))\(pm(p.deltaTPRStd)), AUC \(f(p.auc))\(pm(p.aucStd))"
        c.circle((p.deltaTPR, p.auc), r: 4, color: color, title: label, cssClass: "point", group: m)
        c.raw(
          "<text class=\"lambda-label\" x=\"\(n(cx + 6))\" y=\"\(n(cy - 6))\" fill=\"#333\">λ=\(SVGChart.escape(p.lambdaText ?? SVGChart.label(p.lambda)))</text>"
        )
      }
    }
    let entries = methods.map { LegendEntry(name: $0, color: colors.color($0), kind: .point) }
    c.raw(legend(entries, x: c.width - legendW + 12, y: c.top + 12))
    return document(width: c.width, height: c.height, title: title, body: c.body)
  }

  // MARK: 4. Per-subgroup TPR bars

  /// Grouped bars: for each subgroup, one bar per method (TPR, 0–1) with bootstrap-interval whiskers
  /// where given; an undefined TPR is drawn as an empty dashed box labelled "n/a".
  public static func groupTPRBars(
    methods: [MethodGroupTPRs], title: String = "TPR per subgroup and method (95% bootstrap intervals)",
    colors: MethodColors? = nil
  ) -> String {
    let colors = colors ?? MethodColors(methods: methods.map { $0.colorKey ?? $0.method })
    let groups = ordered(methods.flatMap { $0.groups.map(\.group) })
    let legendW = legendWidth(methods.map(\.method) + ["n/a: TPR undefined"])
    let width = max(480, 90 + legendW + Double(groups.count) * (Double(max(1, methods.count)) * 18 + 16))
    var c = SVGChart(
      width: width, height: 380, right: legendW, bottom: 96,
      x: 0...Double(max(1, groups.count)), y: 0...1)
    c.axes(xLabel: "subgroup", yLabel: "TPR (true-positive rate, 0–1)", title: title, xTicks: false)
    let slot = c.px(1) - c.px(0)
    let barW = min(28, (slot - 12) / Double(max(1, methods.count)))
    for (gi, g) in groups.enumerated() {
      let x0 = c.px(Double(gi)) + (slot - barW * Double(methods.count)) / 2
      for (mi, m) in methods.enumerated() {
        guard let r = m.groups.first(where: { $0.group == g }) else { continue }
        let bx = x0 + Double(mi) * barW, color = colors.color(m.colorKey ?? m.method)
        let what = "\(m.method), \(g)"
        if let v = r.tpr, v.isFinite {
          let top = c.py(min(1, max(0, v)))
          c.raw(
            "<rect class=\"bar\"\(SVGChart.groupAttribute(m.colorKey ?? m.method)) x=\"\(n(bx + 1))\" y=\"\(n(top))\" width=\"\(n(barW - 2))\" height=\"\(n(c.py(0) - top))\" fill=\"\(color)\"><title>\(SVGChart.escape(what)): TPR \(f(v))\(r.lower != nil && r.upper != nil ? " [\(f(r.lower)), \(f(r.upper))]" : "")</title></rect>"
          )
        } else {
          let top = c.py(0.12)
          c.raw(
            "<g class=\"na\"><rect x=\"\(n(bx + 1))\" y=\"\(n(top))\" width=\"\(n(barW - 2))\" height=\"\(n(c.py(0) - top))\" fill=\"none\" stroke=\"\(color)\" stroke-dasharray=\"3 2\"/>"
              + line(bx + 1, c.py(0), bx + barW - 1, top, color)
              + "<text x=\"\(n(bx + barW / 2))\" y=\"\(n(top - 3))\" text-anchor=\"middle\" font-size=\"9\">n/a</text><title>\(SVGChart.escape(what)): TPR undefined</title></g>"
          )
        }
        if let lo = r.lower, let hi = r.upper, lo.isFinite, hi.isFinite {
          let xm = bx + barW / 2, (a, b) = (c.py(min(1, max(0, lo))), c.py(min(1, max(0, hi))))
          c.raw(
            "<g class=\"whisker\">" + line(xm, a, xm, b, "#222") + line(xm - 3, a, xm + 3, a, "#222")
              + line(xm - 3, b, xm + 3, b, "#222") + "</g>")
        }
      }
      let lx = c.px(Double(gi) + 0.5), ly = c.py(0) + 12
      c.raw(
        "<text class=\"category\" x=\"\(n(lx))\" y=\"\(n(ly))\" text-anchor=\"end\" transform=\"rotate(-30 \(n(lx)) \(n(ly)))\">\(SVGChart.escape(g))</text>"
      )
    }
    var entries = methods.map {
      LegendEntry(name: $0.method, color: colors.color($0.colorKey ?? $0.method), kind: .box)
    }
    if methods.contains(where: { $0.groups.contains { $0.tpr.map { !$0.isFinite } ?? true } }) {
      entries.append(LegendEntry(name: "n/a: TPR undefined", color: "#666", kind: .emptyBox))
    }
    c.raw(legend(entries, x: c.width - legendW + 12, y: c.top + 12))
    return document(width: c.width, height: c.height, title: title, body: c.body)
  }

  // MARK: 5. Training curves

  /// Lines of value against step (one per series, e.g. l_clip, l_cmac, validation AUC) with a legend.
  public static func trainingCurves(
    series: [CurveSeries], yLabel: String, xLabel: String = "training step",
    title: String = "Training curves", colors: MethodColors? = nil
  ) -> String {
    let colors = colors ?? MethodColors(methods: series.map { $0.colorKey ?? $0.name })
    func key(_ s: CurveSeries) -> String { s.colorKey ?? s.name }
    func dash(_ s: CurveSeries) -> String? { colors.dash(key(s)) ?? (s.dashed ? "4 3" : nil) }
    let pairs = series.map { finitePairs($0.steps, $0.values) }
    let legendW = legendWidth(series.map(\.name))
    var c = SVGChart(
      width: 400 + legendW, height: 340, right: legendW,
      x: range(pairs.flatMap { $0.map(\.0) }, pad: 0), y: range(pairs.flatMap { $0.map(\.1) }, pad: 0.05))
    c.axes(xLabel: xLabel, yLabel: yLabel, title: title)
    for (i, s) in series.enumerated() {
      c.polyline(
        pairs[i], color: colors.color(key(s)), width: 1.8, title: s.name, cssClass: "series", dashPattern: dash(s),
        group: key(s))
    }
    let entries = series.map {
      LegendEntry(name: $0.name, color: colors.color(key($0)), kind: .line(dash: dash($0) != nil))
    }
    c.raw(legend(entries, x: c.width - legendW + 12, y: c.top + 12))
    return document(width: c.width, height: c.height, title: title, body: c.body)
  }

  // MARK: 3. Batch-size sensitivity

  /// Two panels against batch size (log₂ axis): the share of batches covering every subgroup (0–1),
  /// and the variance of the MMD estimate across batches.
  public static func batchSizeSensitivity(rows: [BatchSizeRow], title: String = "Batch-size sensitivity") -> String {
    let rs = rows.filter { $0.batchSize > 0 }.sorted { $0.batchSize < $1.batchSize }
    let lx = rs.map { log2(Double($0.batchSize)) }
    let xr = range(lx, pad: 0.08)
    let vars = rs.compactMap(\.mmdVariance).filter(\.isFinite)
    let pw = 400.0, ph = 320.0, top = 28.0
    var body = heading(title)
    for k in 0..<2 {
      let yr: ClosedRange<Double> = k == 0 ? 0...1 : 0...(max(vars.max() ?? 1, 1e-12) * 1.1)
      var c = SVGChart(width: pw, height: ph, x: xr, y: yr)
      c.axes(
        xLabel: "batch size (samples, log₂ scale)",
        yLabel: k == 0
          ? "share of batches covering every subgroup (0–1)"
          : "variance of MMD estimate across batches (estimate units²)",
        title: k == 0 ? "Subgroup coverage per batch" : "Variance of the MMD estimate", xTicks: false)
      for (r, x) in zip(rs, lx) {
        c.raw(line(c.px(x), c.py(yr.lowerBound), c.px(x), c.py(yr.lowerBound) + 4, "#666"))
        c.raw(
          "<text x=\"\(n(c.px(x)))\" y=\"\(n(c.py(yr.lowerBound) + 16))\" text-anchor=\"middle\">\(r.batchSize)</text>")
      }
      // Greys: not methods, so no method's palette colour.
      let color = k == 0 ? "#444444" : "#888888"
      let pts: [(Int, Double, Double?)] = zip(rs, lx).map {
        ($0.batchSize, $1, k == 0 ? $0.coverageShare : $0.mmdVariance)
      }
      let defined = pts.compactMap { p in p.2.flatMap { $0.isFinite ? (p.1, $0) : nil } }
      c.polyline(
        defined, color: color, width: 1.8, title: k == 0 ? "coverage share" : "MMD variance", cssClass: "series")
      for p in pts {
        if let v = p.2, v.isFinite {
          c.circle((p.1, v), r: 4, color: color, title: "batch size \(p.0): \(SVGChart.label(v))", cssClass: "point")
        } else {
          c.raw(
            "<text class=\"na\" x=\"\(n(c.px(p.1)))\" y=\"\(n(c.py(yr.lowerBound) - 6))\" text-anchor=\"middle\" fill=\"#666\">n/a</text>"
          )
        }
      }
      c.raw(
        legend(
          [LegendEntry(name: k == 0 ? "coverage share" : "MMD variance", color: color, kind: .point)], x: c.left + 8,
          y: c.top + 14))
      body += "<g class=\"panel\" transform=\"translate(\(n(pw * Double(k))),\(n(top)))\">\(c.body)</g>"
    }
    return document(width: pw * 2, height: ph + top, title: title, body: body)
  }

  // MARK: Helpers

  /// Room for a legend of these names at 11 px sans-serif (about 6.2 px a character), at least 160 px.
  static func legendWidth(_ names: [String]) -> Double {
    max(160, 36 + 6.2 * Double(names.map(\.count).max() ?? 0))
  }

  struct LegendEntry {
    enum Kind { case line(dash: Bool), point, box, emptyBox }
    var name: String, color: String, kind: Kind
  }

  static func legend(_ entries: [LegendEntry], x: Double, y: Double) -> String {
    var s = "<g class=\"legend\">"
    for (i, e) in entries.enumerated() {
      let yy = y + Double(i) * 16
      s += "<g class=\"legend-entry\">"
      switch e.kind {
      case .line(let dash):
        s +=
          "<line x1=\"\(n(x))\" x2=\"\(n(x + 18))\" y1=\"\(n(yy - 4))\" y2=\"\(n(yy - 4))\" stroke=\"\(e.color)\" stroke-width=\"2\"\(dash ? " stroke-dasharray=\"4 3\"" : "")/>"
      case .point:
        s += "<circle cx=\"\(n(x + 9))\" cy=\"\(n(yy - 4))\" r=\"4\" fill=\"\(e.color)\"/>"
      case .box:
        s +=
          "<rect x=\"\(n(x + 3))\" y=\"\(n(yy - 10))\" width=\"12\" height=\"10\" fill=\"\(e.color)\" stroke=\"#999\"/>"
      case .emptyBox:
        s +=
          "<rect x=\"\(n(x + 3))\" y=\"\(n(yy - 10))\" width=\"12\" height=\"10\" fill=\"none\" stroke=\"\(e.color)\" stroke-dasharray=\"3 2\"/>"
      }
      s += "<text x=\"\(n(x + 24))\" y=\"\(n(yy))\">\(SVGChart.escape(e.name))</text></g>"
    }
    return s + "</g>"
  }

  /// Wraps a body in a standalone SVG document with a `<title>` (first child, for accessibility).
  static func document(width: Double, height: Double, title: String, body: String) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\" font-size=\"11\"><title>\(SVGChart.escape(title))</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\(body)</svg>"
  }

  static func heading(_ title: String) -> String {
    "<text class=\"figure-title\" x=\"12\" y=\"18\" font-size=\"13\" font-weight=\"bold\">\(SVGChart.escape(title))</text>"
  }

  static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: String) -> String {
    "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(color)\"/>"
  }

  static func n(_ v: Double) -> String { SVGChart.n(v.isFinite ? v : 0) }
  static func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
  static func pm(_ v: Double?) -> String { v.map { " ± " + String(format: "%.3f", $0) } ?? "" }

  /// Finite values' range, widened by `pad` × span on each side; 0...1 when there are none.
  static func range(_ values: [Double], pad: Double) -> ClosedRange<Double> {
    let v = values.filter(\.isFinite)
    guard let lo = v.min(), let hi = v.max() else { return 0...1 }
    let span = hi - lo
    return span > 0 ? (lo - span * pad)...(hi + span * pad) : lo...hi
  }

  static func finitePairs(_ xs: [Double], _ ys: [Double]) -> [(Double, Double)] {
    zip(xs, ys).filter { $0.0.isFinite && $0.1.isFinite }
  }

  /// Unique names in order of first appearance.
  static func ordered(_ names: [String]) -> [String] {
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
  }
}
