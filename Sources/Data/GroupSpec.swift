import Foundation

/// Intersectional subgroups from chosen attributes, e.g. sex × age bins → "female|<40".
///
/// Text form (CLI `--groups`): comma-separated attributes, numeric ones with bins, as
/// `sex,age:<40,40-59,>=60` or by edges `sex,age:40:60` (see ``init(parsing:)``).
public struct GroupSpec: Sendable, Equatable, CustomStringConvertible {
  /// One attribute of the key, optionally binned at `edges` (ascending).
  public struct Field: Sendable, Equatable {
    public var attribute: String
    public var edges: [Double]?

    public init(_ attribute: String, edges: [Double]? = nil) {
      self.attribute = attribute
      self.edges = edges
    }

    /// The bin label of `value` ("<40", "40-59", ">=60"), or the value itself when not binned.
    public func label(_ value: String?) -> String {
      guard let value, value != unknownValue, !value.isEmpty else { return unknownValue }
      guard let edges, !edges.isEmpty else { return value }
      guard let x = Double(value) else { return unknownValue }
      let integral = edges.allSatisfy { $0 == $0.rounded() }
      func f(_ v: Double) -> String { formatNumber(v) }
      if x < edges[0] { return "<\(f(edges[0]))" }
      for i in 1..<edges.count where x < edges[i] {
        return integral ? "\(f(edges[i - 1]))-\(f(edges[i] - 1))" : "\(f(edges[i - 1]))-\(f(edges[i]))"
      }
      return ">=\(f(edges[edges.count - 1]))"
    }

    /// All bin labels in order (nil when not binned).
    public var binLabels: [String]? {
      guard let edges, !edges.isEmpty else { return nil }
      var out = [label(formatNumber(edges[0] - 1))]
      for e in edges { out.append(label(formatNumber(e))) }
      return out
    }
  }

  public var fields: [Field]

  public init(_ fields: [Field]) { self.fields = fields }

  /// Parses the text form. Two spellings of bins are accepted: edges after colons
  /// (`sex,age:40:60`) and the audit's bin labels (`sex,age:<40,40-59,>=60`, where tokens
  /// starting with '<', '>', a digit, '-', '+' or '.' continue the previous attribute's bins);
  /// both give the groups `{female,male} × {<40, 40-59, >=60}`. An empty string means one
  /// group "all".
  public init(parsing text: String) throws {
    var fields: [Field] = []
    var labels: [String] = []  // bin labels of the last field, audit spelling
    func closeLabels() throws {
      guard !labels.isEmpty, let last = fields.popLast() else { return }
      var edges: [Double] = []
      for l in labels { edges += try Self.edges(ofBinLabel: l, in: text) }
      fields.append(Field(last.attribute, edges: Array(Set(edges)).sorted()))
      labels = []
    }
    for raw in text.split(separator: ",") {
      let part = raw.trimmingCharacters(in: .whitespaces)
      if let c = part.first, !labels.isEmpty, "<>+-.0123456789".contains(c) {
        labels.append(part)
        continue
      }
      try closeLabels()
      let bits = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
      guard let name = bits.first, !name.isEmpty else { continue }
      if bits.count == 1 {
        fields.append(Field(name))
      } else if bits.dropFirst().allSatisfy({ Double($0) != nil }) {
        let edges = bits.dropFirst().map { Double($0)! }
        guard edges == edges.sorted() else { throw DataError.invalidArgument("bin edges must ascend in \(text)") }
        fields.append(Field(name, edges: edges))
      } else {
        fields.append(Field(name))
        labels = [bits.dropFirst().joined(separator: ":")]
      }
    }
    try closeLabels()
    self.init(fields)
  }

  /// Edges implied by one bin label: `<40` → 40, `>=60` → 60, `40-59` → 40 and 60 (integer
  /// bins include both ends), `40-60.5` → 40 and 60.5.
  static func edges(ofBinLabel label: String, in text: String) throws -> [Double] {
    func number(_ s: Substring) throws -> Double {
      guard let v = Double(s.trimmingCharacters(in: .whitespaces)) else {
        throw DataError.invalidArgument("bad bin '\(label)' in --groups \(text): use <a, a-b or >=b")
      }
      return v
    }
    if label.hasPrefix("<=") { return [try number(label.dropFirst(2)) + 1] }
    if label.hasPrefix("<") { return [try number(label.dropFirst())] }
    if label.hasPrefix(">=") { return [try number(label.dropFirst(2))] }
    if label.hasPrefix(">") { return [try number(label.dropFirst()) + 1] }
    let dash = label.dropFirst().firstIndex(of: "-")
    guard let dash else { throw DataError.invalidArgument("bad bin '\(label)' in --groups \(text): use <a, a-b or >=b") }
    let lo = try number(label[..<dash]), hi = try number(label[label.index(after: dash)...])
    guard lo <= hi else { throw DataError.invalidArgument("bin '\(label)' in --groups \(text) is empty") }
    return [lo, hi == hi.rounded() && lo == lo.rounded() ? hi + 1 : hi]
  }

  /// Sex × age bins {<40, 40–59, ≥60}: the dermatology default (METHOD.md §5).
  public static let sexAge = GroupSpec([Field("sex"), Field("age", edges: [40, 60])])

  /// The subgroup key of a sample: field labels joined by "|" ("all" when there are no fields).
  public func key(_ attributes: [String: String]) -> String {
    fields.isEmpty ? "all" : fields.map { $0.label(attributes[$0.attribute]) }.joined(separator: "|")
  }

  public func key(_ sample: Sample) -> String { key(sample.attributes) }

  public var description: String {
    fields.map { f in
      f.edges.map { ([f.attribute] + $0.map(formatNumber)).joined(separator: ":") } ?? f.attribute
    }.joined(separator: ",")
  }
}
