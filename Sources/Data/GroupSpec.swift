import Foundation

/// Intersectional subgroups from chosen attributes, e.g. sex × age bins → "female|<40".
///
/// Text form (CLI `--groups`): comma-separated attributes, numeric ones with bin edges after
/// colons: `sex,age:40:60` gives the groups `{female,male} × {<40, 40-59, >=60}`.
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

  /// Parses the text form (see the type's documentation); an empty string means one group "all".
  public init(parsing text: String) throws {
    var fields: [Field] = []
    for part in text.split(separator: ",") {
      let bits = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
      guard let name = bits.first, !name.isEmpty else { continue }
      if bits.count == 1 {
        fields.append(Field(name))
      } else {
        let edges = try bits.dropFirst().map { s -> Double in
          guard let v = Double(s) else { throw DataError.invalidArgument("bad bin edge '\(s)' in --groups \(text)") }
          return v
        }
        guard edges == edges.sorted() else { throw DataError.invalidArgument("bin edges must ascend in \(text)") }
        fields.append(Field(name, edges: edges))
      }
    }
    self.init(fields)
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
