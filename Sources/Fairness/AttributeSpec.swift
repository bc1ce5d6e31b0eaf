import Foundation

/// One numeric bin of an attribute, e.g. `<40`, `40-59` (= [40, 60)), `>=60`.
public struct NumericBin: Sendable, Equatable {
  public var label: String
  public var lower: Double
  public var lowerInclusive: Bool
  public var upper: Double
  public var upperInclusive: Bool

  public init(label: String, lower: Double, lowerInclusive: Bool, upper: Double, upperInclusive: Bool) {
    self.label = label
    self.lower = lower
    self.lowerInclusive = lowerInclusive
    self.upper = upper
    self.upperInclusive = upperInclusive
  }

  /// Whether `x` falls in this bin.
  public func contains(_ x: Double) -> Bool {
    (lowerInclusive ? x >= lower : x > lower) && (upperInclusive ? x <= upper : x < upper)
  }

  /// Whether the two bins share at least one value.
  public func overlaps(_ other: NumericBin) -> Bool {
    func below(_ a: NumericBin, _ b: NumericBin) -> Bool {  // a ends before b starts
      a.upper < b.lower || (a.upper == b.lower && !(a.upperInclusive && b.lowerInclusive))
    }
    return !below(self, other) && !below(other, self)
  }

  /// Parses one bin label: `<a`, `<=a`, `>a`, `>=a`, `a-b`, or a single value `a`.
  ///
  /// `a-b` with integer ends covers [a, b + 1) — `40-59` holds 59.5, so `<40,40-59,>=60` covers
  /// every age; with a fractional end it covers [a, b]. In a list of bins an integer range stops
  /// where the next bin starts (`31-45,>45`: 31-45 is [31, 45]).
  public static func parse(_ text: String) throws -> NumericBin {
    let t = text.trimmingCharacters(in: .whitespaces)
    func num(_ s: Substring) throws -> Double {
      guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
        throw AuditError.badOption("--groups: bin '\(text)': '\(s)' is not a finite number (use <a, a-b or >=b)")
      }
      return v
    }
    for (prefix, isLess, inclusive) in [
      ("<=", true, true), (">=", false, true), ("<", true, false), (">", false, false),
    ] {
      guard t.hasPrefix(prefix) else { continue }
      let v = try num(t.dropFirst(prefix.count))
      return isLess
        ? NumericBin(label: t, lower: -.infinity, lowerInclusive: true, upper: v, upperInclusive: inclusive)
        : NumericBin(label: t, lower: v, lowerInclusive: inclusive, upper: .infinity, upperInclusive: true)
    }
    // a-b, allowing a leading minus on a: split on the first '-' after position 0.
    if let dash = t.dropFirst().firstIndex(of: "-") {
      let a = try num(t[t.startIndex..<dash]), b = try num(t[t.index(after: dash)...])
      guard a <= b else { throw AuditError.badOption("--groups: bin '\(text)': lower end above upper end") }
      if isIntegral(a) && isIntegral(b) {
        return NumericBin(label: t, lower: a, lowerInclusive: true, upper: b + 1, upperInclusive: false)
      }
      return NumericBin(label: t, lower: a, lowerInclusive: true, upper: b, upperInclusive: true)
    }
    let v = try num(Substring(t))
    return NumericBin(label: t, lower: v, lowerInclusive: true, upper: v, upperInclusive: true)
  }

  /// Bins from strictly increasing edges e1 < … < ek: `<e1`, [e1, e2), …, `>=ek`. Integral
  /// edges give the labels `<40`, `40-59`, `>=60` (the same bins as that spelling).
  public static func fromEdges(_ edges: [Double]) throws -> [NumericBin] {
    guard let first = edges.first, let last = edges.last, edges.allSatisfy(\.isFinite),
      zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 })
    else {
      throw AuditError.badOption("--groups: bin edges must be finite and increasing, got \(edges.map(formatBinNumber))")
    }
    var bins = [
      NumericBin(
        label: "<\(formatBinNumber(first))", lower: -.infinity, lowerInclusive: true, upper: first,
        upperInclusive: false)
    ]
    for (a, b) in zip(edges, edges.dropFirst()) {
      let label =
        isIntegral(a) && isIntegral(b)
        ? "\(formatBinNumber(a))-\(formatBinNumber(b - 1))" : "[\(formatBinNumber(a)),\(formatBinNumber(b)))"
      bins.append(NumericBin(label: label, lower: a, lowerInclusive: true, upper: b, upperInclusive: false))
    }
    bins.append(
      NumericBin(
        label: ">=\(formatBinNumber(last))", lower: last, lowerInclusive: true, upper: .infinity, upperInclusive: true))
    return bins
  }

  static func isIntegral(_ x: Double) -> Bool { x == x.rounded() && abs(x) < 1e15 }
}

/// A number as a bin label writes it: `40`, `59.5`.
func formatBinNumber(_ x: Double) -> String { NumericBin.isIntegral(x) ? String(Int(x)) : String(x) }

/// How one attribute column becomes group levels.
public struct AttributeSpec: Sendable, Equatable {
  /// The column holding the attribute.
  public var column: String
  /// Numeric bins (levels in this order); nil for a categorical attribute.
  public var bins: [NumericBin]?
  /// Raw value → displayed level (applied before grouping; categorical attributes only).
  public var relabel: [String: String]

  public init(column: String, bins: [NumericBin]? = nil, relabel: [String: String] = [:]) {
    self.column = column; self.bins = bins; self.relabel = relabel
  }

  /// What one raw value of this attribute becomes.
  public enum Level: Equatable, Sendable {
    /// A level: a bin's label or the (relabelled) category.
    case level(String)
    /// One of the missing tokens.
    case missing
    /// A number outside every bin.
    case outsideBins
    /// Not a number, but the attribute is binned.
    case notANumber
  }

  /// The level of `raw`: the one rule that training, samplers, splits and the audit all follow.
  public func level(of raw: String, missingTokens: Set<String>) -> Level {
    let trimmed = raw.trimmingCharacters(in: .whitespaces)
    guard let bins else {
      let shown = relabel[raw] ?? raw
      return missingTokens.contains(shown.trimmingCharacters(in: .whitespaces)) ? .missing : .level(shown)
    }
    if missingTokens.contains(trimmed) { return .missing }
    guard let x = Double(trimmed), x.isFinite else { return .notANumber }
    return bins.first { $0.contains(x) }.map { .level($0.label) } ?? .outsideBins
  }
}

/// What to do with a missing value (or a number outside every bin) in an attribute.
public enum MissingPolicy: Sendable, Equatable {
  /// Drop the row from the audit (counted in the report).
  case drop
  /// Keep the row in a separate level with this name (default "unknown").
  case level(String)
}
