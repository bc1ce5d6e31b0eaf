import Foundation

/// One numeric bin of an attribute, e.g. `<40`, `40-59` (both ends included), `>=60`.
public struct NumericBin: Sendable, Equatable {
  public var label: String
  public var lower: Double
  public var lowerInclusive: Bool
  public var upper: Double
  public var upperInclusive: Bool

  /// Whether `x` falls in this bin.
  public func contains(_ x: Double) -> Bool {
    (lowerInclusive ? x >= lower : x > lower) && (upperInclusive ? x <= upper : x < upper)
  }

  /// Parses one bin label: `<a`, `<=a`, `>a`, `>=a`, `a-b` (a ≤ x ≤ b), or a single value `a`.
  public static func parse(_ text: String) throws -> NumericBin {
    let t = text.trimmingCharacters(in: .whitespaces)
    func num(_ s: Substring) throws -> Double {
      guard let v = Double(s.trimmingCharacters(in: .whitespaces)) else {
        throw AuditError.badOption("bin '\(text)': '\(s)' is not a number")
      }
      return v
    }
    for (prefix, isLess, inclusive) in [("<=", true, true), (">=", false, true), ("<", true, false), (">", false, false)] {
      if t.hasPrefix(prefix) {
        let v = try num(t.dropFirst(prefix.count))
        return isLess
          ? NumericBin(label: t, lower: -.infinity, lowerInclusive: true, upper: v, upperInclusive: inclusive)
          : NumericBin(label: t, lower: v, lowerInclusive: inclusive, upper: .infinity, upperInclusive: true)
      }
    }
    // a-b, allowing a leading minus on a: split on the first '-' after position 0.
    if let dash = t.dropFirst().firstIndex(of: "-") {
      let a = try num(t[t.startIndex..<dash]), b = try num(t[t.index(after: dash)...])
      guard a <= b else { throw AuditError.badOption("bin '\(text)': lower end above upper end") }
      return NumericBin(label: t, lower: a, lowerInclusive: true, upper: b, upperInclusive: true)
    }
    let v = try num(Substring(t))
    return NumericBin(label: t, lower: v, lowerInclusive: true, upper: v, upperInclusive: true)
  }

  /// Bins from explicit edges e1 < e2 < ...: `<e1`, `[e1,e2)`, ..., `>=ek`.
  public static func fromEdges(_ edges: [Double]) throws -> [NumericBin] {
    guard !edges.isEmpty, zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
      throw AuditError.badOption("bin edges must be increasing: \(edges)")
    }
    func f(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
    var bins = [NumericBin(label: "<\(f(edges[0]))", lower: -.infinity, lowerInclusive: true, upper: edges[0], upperInclusive: false)]
    for (a, b) in zip(edges, edges.dropFirst()) {
      bins.append(NumericBin(label: "[\(f(a)),\(f(b)))", lower: a, lowerInclusive: true, upper: b, upperInclusive: false))
    }
    bins.append(NumericBin(label: ">=\(f(edges.last!))", lower: edges.last!, lowerInclusive: true, upper: .infinity, upperInclusive: true))
    return bins
  }
}

/// How one attribute column becomes group levels.
public struct AttributeSpec: Sendable, Equatable {
  /// The CSV column holding the attribute.
  public var column: String
  /// Numeric bins (levels in this order); nil for a categorical attribute.
  public var bins: [NumericBin]?
  /// Raw value → displayed level (applied before grouping; categorical attributes only).
  public var relabel: [String: String]

  public init(column: String, bins: [NumericBin]? = nil, relabel: [String: String] = [:]) {
    self.column = column; self.bins = bins; self.relabel = relabel
  }
}

/// What to do with a missing value (or a number outside every bin) in an attribute.
public enum MissingPolicy: Sendable, Equatable {
  /// Drop the row from the audit (counted in the report).
  case drop
  /// Keep the row in a separate level with this name (default "unknown").
  case level(String)
}

/// The full specification of intersectional groups.
public struct GroupingSpec: Sendable, Equatable {
  public var attributes: [AttributeSpec]
  public var missing: MissingPolicy
  /// Raw values treated as missing.
  public var missingTokens: Set<String>

  public static let defaultMissingTokens: Set<String> = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "unknown"]

  public init(attributes: [AttributeSpec], missing: MissingPolicy = .level("unknown"),
              missingTokens: Set<String> = GroupingSpec.defaultMissingTokens) {
    self.attributes = attributes; self.missing = missing; self.missingTokens = missingTokens
  }

  /// Parses the CLI form `sex,age:<40,40-59,>=60` or `sex,age:edges=40,60`.
  ///
  /// Split on commas; a token containing ':' starts a binned attribute; a token that starts with
  /// '<', '>', a digit, '-', '+' or '.' continues the bins of the previous binned attribute; any
  /// other token is a new categorical attribute.
  public static func parse(_ text: String) throws -> [AttributeSpec] {
    var specs: [AttributeSpec] = []
    var pendingBins: [String] = []
    var edgesMode = false
    func flush() throws {
      guard !specs.isEmpty, !pendingBins.isEmpty else { return }
      if edgesMode {
        let edges = try pendingBins.map { s -> Double in
          guard let v = Double(s) else { throw AuditError.badOption("edge '\(s)' is not a number") }
          return v
        }
        specs[specs.count - 1].bins = try NumericBin.fromEdges(edges)
      } else {
        specs[specs.count - 1].bins = try pendingBins.map(NumericBin.parse)
      }
      pendingBins = []
    }
    for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
      let token = raw.trimmingCharacters(in: .whitespaces)
      guard !token.isEmpty else { throw AuditError.badOption("empty entry in groups '\(text)'") }
      if let colon = token.firstIndex(of: ":") {
        try flush()
        let name = String(token[..<colon])
        var first = String(token[token.index(after: colon)...])
        edgesMode = first.hasPrefix("edges=")
        if edgesMode { first = String(first.dropFirst("edges=".count)) }
        guard !name.isEmpty, !first.isEmpty else { throw AuditError.badOption("bad binned attribute '\(token)'") }
        specs.append(AttributeSpec(column: name))
        pendingBins = [first]
      } else if let c = token.first, "<>0123456789-+.".contains(c) {
        guard !pendingBins.isEmpty else {
          throw AuditError.badOption("'\(token)' looks like a bin but follows no binned attribute (write column:bins)")
        }
        pendingBins.append(token)
      } else {
        try flush()
        specs.append(AttributeSpec(column: token))
      }
    }
    try flush()
    let names = specs.map(\.column)
    guard Set(names).count == names.count else { throw AuditError.badOption("an attribute is listed twice in '\(text)'") }
    guard !specs.isEmpty else { throw AuditError.badOption("no group attributes given") }
    return specs
  }
}
