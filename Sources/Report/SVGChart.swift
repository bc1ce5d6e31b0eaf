import Foundation

/// A minimal SVG chart: a plot area mapping data ranges to pixels, axes with ticks, and primitives.
struct SVGChart {
  let width: Double, height: Double
  let left: Double, top: Double
  let right: Double, bottom: Double
  var x: ClosedRange<Double>, y: ClosedRange<Double>
  private(set) var body = ""

  init(
    width: Double = 420, height: Double = 320, left: Double = 56, top: Double = 24, right: Double = 16,
    bottom: Double = 44, x: ClosedRange<Double>, y: ClosedRange<Double>
  ) {
    self.width = width; self.height = height; self.left = left; self.top = top; self.right = right
    self.bottom = bottom
    self.x = x.lowerBound == x.upperBound ? (x.lowerBound - 1)...(x.upperBound + 1) : x
    self.y = y.lowerBound == y.upperBound ? (y.lowerBound - 1)...(y.upperBound + 1) : y
  }

  func px(_ v: Double) -> Double { left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * (width - left - right) }
  func py(_ v: Double) -> Double {
    height - bottom - (v - y.lowerBound) / (y.upperBound - y.lowerBound) * (height - top - bottom)
  }

  static func n(_ v: Double) -> String { String(format: "%.1f", v) }
  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// Nice tick values covering `range`.
  static func ticks(_ range: ClosedRange<Double>, count: Int = 5) -> [Double] {
    let span = range.upperBound - range.lowerBound
    guard span > 0 else { return [range.lowerBound] }
    let raw = span / Double(count)
    let mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
    let start = ceil(range.lowerBound / step) * step
    return stride(from: start, through: range.upperBound + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
  }

  mutating func axes(xLabel: String, yLabel: String, title: String, yTicks: Bool = true, xTicks: Bool = true) {
    var s =
      "<rect x=\"\(Self.n(left))\" y=\"\(Self.n(top))\" width=\"\(Self.n(width - left - right))\" height=\"\(Self.n(height - top - bottom))\" fill=\"none\" stroke=\"#999\"/>"
    for t in xTicks ? Self.ticks(x) : [] {
      s +=
        "<line x1=\"\(Self.n(px(t)))\" x2=\"\(Self.n(px(t)))\" y1=\"\(Self.n(height - bottom))\" y2=\"\(Self.n(height - bottom + 4))\" stroke=\"#666\"/>"
      s +=
        "<text x=\"\(Self.n(px(t)))\" y=\"\(Self.n(height - bottom + 16))\" text-anchor=\"middle\">\(Self.label(t))</text>"
    }
    for t in yTicks ? Self.ticks(y) : [] {
      s +=
        "<line x1=\"\(Self.n(left - 4))\" x2=\"\(Self.n(left))\" y1=\"\(Self.n(py(t)))\" y2=\"\(Self.n(py(t)))\" stroke=\"#666\"/>"
      s += "<text x=\"\(Self.n(left - 6))\" y=\"\(Self.n(py(t) + 4))\" text-anchor=\"end\">\(Self.label(t))</text>"
    }
    s +=
      "<text x=\"\(Self.n((left + width - right) / 2))\" y=\"\(Self.n(height - 8))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>"
    s +=
      "<text transform=\"translate(14,\(Self.n((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>"
    s += "<text x=\"\(Self.n(left))\" y=\"16\" font-weight=\"bold\">\(Self.escape(title))</text>"
    body += s
  }

  static func label(_ v: Double) -> String {
    abs(v) >= 100 || v == v.rounded() ? String(format: "%.0f", v) : String(format: "%g", (v * 1000).rounded() / 1000)
  }

  mutating func polyline(
    _ points: [(Double, Double)], color: String, width: Double = 1.5, dash: Bool = false,
    title: String? = nil, cssClass: String? = nil, dashPattern: String? = nil, group: String? = nil
  ) {
    guard !points.isEmpty else { return }
    let d = points.map { "\(Self.n(px($0.0))),\(Self.n(py($0.1)))" }.joined(separator: " ")
    let pattern = dashPattern ?? (dash ? "4 3" : nil)
    body +=
      "<polyline\(cssClass.map { " class=\"\($0)\"" } ?? "")\(Self.groupAttribute(group)) points=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"\(pattern.map { " stroke-dasharray=\"\($0)\"" } ?? "")>"
    body += title.map { "<title>\(Self.escape($0))</title>" } ?? ""
    body += "</polyline>"
  }

  mutating func circle(
    _ p: (Double, Double), r: Double, color: String, title: String, cssClass: String? = nil, group: String? = nil
  ) {
    body +=
      "<circle\(cssClass.map { " class=\"\($0)\"" } ?? "")\(Self.groupAttribute(group)) cx=\"\(Self.n(px(p.0)))\" cy=\"\(Self.n(py(p.1)))\" r=\"\(Self.n(r))\" fill=\"\(color)\" fill-opacity=\"0.8\"><title>\(Self.escape(title))</title></circle>"
  }

  mutating func raw(_ s: String) { body += s }

  /// ` data-group="NAME"`: which group a mark draws (tests read the colour each figure gives it).
  static func groupAttribute(_ name: String?) -> String { name.map { " data-group=\"\(escape($0))\"" } ?? "" }

  /// The chart's marks without the outer `<svg>`, moved by (dx, dy): a panel of a larger figure.
  func placed(dx: Double, dy: Double) -> String {
    "<g transform=\"translate(\(Self.n(dx)),\(Self.n(dy)))\">\(body)</g>"
  }

  /// One legend line: a short line (or a square) in the series' colour, then its text.
  struct LegendEntry {
    var text: String
    var color: String
    var dash: String? = nil
    var group: String? = nil
    var marker = false
  }

  /// A column of legend entries from (x, y), 15 px apart; returns the SVG.
  static func legend(_ entries: [LegendEntry], x: Double, y: Double) -> String {
    var s = "<g class=\"legend\">"
    for (i, e) in entries.enumerated() {
      let yy = y + Double(i) * 15
      if e.marker {
        s +=
          "<circle\(groupAttribute(e.group)) cx=\"\(n(x + 9))\" cy=\"\(n(yy - 4))\" r=\"4\" fill=\"\(e.color)\" stroke=\"#fff\"/>"
      } else {
        s +=
          "<line\(groupAttribute(e.group)) x1=\"\(n(x))\" x2=\"\(n(x + 18))\" y1=\"\(n(yy - 4))\" y2=\"\(n(yy - 4))\" stroke=\"\(e.color)\" stroke-width=\"2.5\"\(e.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
      }
      s += "<text x=\"\(n(x + 24))\" y=\"\(n(yy))\">\(escape(e.text))</text>"
    }
    return s + "</g>"
  }
  var svg: String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\(body)</svg>"
  }

  /// The i-th colour of ``Palette/colors`` (cycling after 24).
  static func color(_ i: Int) -> String { Palette.colors[i % Palette.colors.count] }
}

/// Colours of named series, the same in every figure of a report: the names are sorted and the
/// k-th name takes the k-th of 24 fixed qualitative colours (Tableau 10, then 14 chosen greedily to
/// be as far as possible in CIEDE2000 from all before them, at CIELAB lightness 25–78: every pair is
/// at least ΔE2000 18 apart). Past 24 names the colours repeat, each further round of 24 drawn with
/// its own dash pattern (and said so in the report).
struct Palette {
  static let colors = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#114433", "#660088", "#771122", "#554400", "#aabbff", "#bb22ff", "#444455", "#bb1177", "#998822", "#336600",
    "#00bbff", "#667766", "#aa3300", "#ff99ff",
  ]
  /// The dash pattern of the second, third, … round of 24 names.
  static let dashes = ["6 3", "2 2", "8 3 2 3", "1 3"]

  /// Rank of each name in sorted order.
  let rank: [String: Int]

  init<S: Sequence>(names: S) where S.Element == String {
    rank = Dictionary(uniqueKeysWithValues: Set(names).sorted().enumerated().map { ($1, $0) })
  }

  /// More names than colours: colours repeat with dashes.
  var cycles: Bool { rank.count > Self.colors.count }

  func color(_ name: String) -> String { Self.colors[(rank[name] ?? 0) % Self.colors.count] }

  /// nil in the first round of 24 names; a dash pattern after.
  func dash(_ name: String) -> String? {
    let round = (rank[name] ?? 0) / Self.colors.count
    return round == 0 ? nil : Self.dashes[(round - 1) % Self.dashes.count]
  }
}
