import Foundation

/// The intersectional groups of a study: which attributes, how numeric ones are binned, and what
/// happens to missing values. One grammar (`--groups`, docs/METHOD.md §10) and one level rule
/// (``AttributeSpec/level(of:missingTokens:)``) serve training, samplers, splits and the audit.
public struct GroupingSpec: Sendable, Equatable, CustomStringConvertible {
  public var attributes: [AttributeSpec]
  public var missing: MissingPolicy
  /// Raw values treated as missing.
  public var missingTokens: Set<String>

  public static let defaultMissingTokens: Set<String> = [
    "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "unknown",
  ]

  public init(
    attributes: [AttributeSpec], missing: MissingPolicy = .level("unknown"),
    missingTokens: Set<String> = GroupingSpec.defaultMissingTokens
  ) {
    self.attributes = attributes; self.missing = missing; self.missingTokens = missingTokens
  }

  /// Parses the `--groups` text; an empty text means one group, "all".
  public init(parsing text: String, missing: MissingPolicy = .level("unknown")) throws {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    self.init(attributes: trimmed.isEmpty ? [] : try Self.parse(trimmed), missing: missing)
  }

  /// Sex × age bins {<40, 40–59, ≥60}: the dermatology default (docs/METHOD.md §5).
  public static let sexAge = GroupingSpec(attributes: [
    AttributeSpec(column: "sex"),
    AttributeSpec(
      column: "age",
      bins: [
        NumericBin(label: "<40", lower: -.infinity, lowerInclusive: true, upper: 40, upperInclusive: false),
        NumericBin(label: "40-59", lower: 40, lowerInclusive: true, upper: 60, upperInclusive: false),
        NumericBin(label: ">=60", lower: 60, lowerInclusive: true, upper: .infinity, upperInclusive: true),
      ]),
  ])

  /// The level name of missing values (and of values outside every bin) in ``key(_:)``.
  public var missingLabel: String {
    if case .level(let l) = missing { return l }
    return "unknown"
  }

  /// The group key of one sample ("female|<40"; "all" without attributes). Missing values,
  /// numbers outside every bin and non-numbers in a binned attribute get ``missingLabel``
  /// (``validate(values:)`` refuses the last kind first).
  public func key(_ attributes: [String: String]) -> String {
    guard !self.attributes.isEmpty else { return "all" }
    return self.attributes.map { a in
      guard let raw = attributes[a.column], case .level(let l) = a.level(of: raw, missingTokens: missingTokens) else {
        return missingLabel
      }
      return l
    }.joined(separator: "|")
  }

  /// Checks that every attribute is a column of the data and that binned attributes hold
  /// numbers; `rows` are the data's attribute values, `source` names the data in errors.
  public func validate(rows: [[String: String]], source: String) throws {
    let columns = Set(rows.flatMap(\.keys))
    for a in attributes where !columns.contains(a.column) {
      throw AuditError.badOption(
        "--groups: '\(a.column)' is not an attribute of \(source) (it has: \(columns.sorted().joined(separator: ", ")))"
      )
    }
    for (i, row) in rows.enumerated() {
      for a in attributes where a.bins != nil {
        if let raw = row[a.column], a.level(of: raw, missingTokens: missingTokens) == .notANumber {
          throw AuditError.badInput(
            InputLocation(file: source, column: a.column),
            "sample \(i + 1): '\(raw)' is not a number, but --groups bins '\(a.column)'")
        }
      }
    }
  }

  /// The canonical text form; it parses back to an equal spec.
  public var description: String {
    attributes.map { a in
      guard let bins = a.bins else { return a.column }
      if (try? Self.bins(bins.map(\.label), edges: false, attribute: a.column)) == bins {
        return a.column + ":" + bins.map(\.label).joined(separator: ",")
      }
      let edges = bins.dropFirst().map(\.lower)
      return a.column + ":edges=" + edges.map(formatBinNumber).joined(separator: ",")
    }.joined(separator: ",")
  }
}

extension GroupingSpec {
  /// Parses the attribute list of `--groups`: `sex,age:<40,40-59,>=60`, `sex,age:40:60` or
  /// `sex,age:edges=40,60` (all three give the same groups).
  ///
  /// Split on commas; a token containing ':' starts a binned attribute; a token that starts with
  /// '<', '>', a digit, '-', '+' or '.' continues the bins of the previous binned attribute; any
  /// other token is a new categorical attribute. Bins must ascend and must not overlap.
  public static func parse(_ text: String) throws -> [AttributeSpec] {
    var specs: [AttributeSpec] = []
    var pending: [String] = []
    var edgesMode = false
    func flush() throws {
      guard !specs.isEmpty, !pending.isEmpty else { return }
      specs[specs.count - 1].bins = try bins(pending, edges: edgesMode, attribute: specs[specs.count - 1].column)
      pending = []
    }
    for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
      let token = raw.trimmingCharacters(in: .whitespaces)
      guard !token.isEmpty else { throw AuditError.badOption("--groups: empty entry in '\(text)'") }
      if let colon = token.firstIndex(of: ":") {
        try flush()
        let name = String(token[..<colon]).trimmingCharacters(in: .whitespaces)
        let parts = token[token.index(after: colon)...].split(separator: ":", omittingEmptySubsequences: false)
          .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !name.isEmpty, !parts.contains(where: \.isEmpty) else {
          throw AuditError.badOption(
            "--groups: bad binned attribute '\(token)' (write column:<a,a-b,>=b or column:a:b)")
        }
        edgesMode = parts.count > 1 || parts[0].hasPrefix("edges=")
        if parts[0].hasPrefix("edges=") {
          pending = [String(parts[0].dropFirst("edges=".count))]
        } else {
          pending = parts
        }
        specs.append(AttributeSpec(column: name))
      } else if let c = token.first, "<>0123456789-+.".contains(c) {
        guard !pending.isEmpty else {
          throw AuditError.badOption(
            "--groups: '\(token)' looks like a bin but follows no binned attribute (write column:bins)")
        }
        pending.append(token)
      } else {
        try flush()
        specs.append(AttributeSpec(column: token))
      }
    }
    try flush()
    let names = specs.map(\.column)
    guard Set(names).count == names.count else {
      throw AuditError.badOption("--groups: an attribute is listed twice in '\(text)'")
    }
    guard !specs.isEmpty else { throw AuditError.badOption("--groups: no group attributes given") }
    return specs
  }

  /// Applies `--relabel column:raw=shown` rules to the categorical attributes of `specs`.
  public static func relabel(_ specs: [AttributeSpec], rules: [String]) throws -> [AttributeSpec] {
    var specs = specs
    for r in rules {
      guard let colon = r.firstIndex(of: ":"), let eq = r[colon...].firstIndex(of: "=") else {
        throw AuditError.badOption("--relabel expects column:raw=shown, got '\(r)'")
      }
      let column = String(r[..<colon])
      guard let i = specs.firstIndex(where: { $0.column == column }) else {
        throw AuditError.badOption("--relabel: '\(column)' is not in --groups")
      }
      guard specs[i].bins == nil else {
        throw AuditError.badOption("--relabel: '\(column)' is binned; relabel applies to categories")
      }
      specs[i].relabel[String(r[r.index(after: colon)..<eq])] = String(r[r.index(after: eq)...])
    }
    return specs
  }

  /// The bins of one attribute from its tokens (bin labels, or edges).
  static func bins(_ tokens: [String], edges: Bool, attribute: String) throws -> [NumericBin] {
    if edges {
      let values = try tokens.map { s -> Double in
        guard let v = Double(s), v.isFinite else {
          throw AuditError.badOption("--groups: edge '\(s)' of '\(attribute)' is not a finite number")
        }
        return v
      }
      return try NumericBin.fromEdges(values)
    }
    var bins = try tokens.map(NumericBin.parse)
    // An integer range a-b covers [a, b + 1), but stops where the next bin starts (31-45,>45).
    for i in bins.indices.dropLast()
    where !bins[i].upperInclusive && bins[i].upper > bins[i + 1].lower
      && bins[i + 1].lower >= bins[i].upper - 1 && bins[i].lower.isFinite && bins[i].upper.isFinite
    {
      bins[i].upper = bins[i + 1].lower
      bins[i].upperInclusive = !bins[i + 1].lowerInclusive
    }
    for (a, b) in zip(bins, bins.dropFirst()) {
      if a.overlaps(b) {
        throw AuditError.badOption("--groups: bins '\(a.label)' and '\(b.label)' of '\(attribute)' overlap")
      }
      if b.lower < a.lower {
        throw AuditError.badOption(
          "--groups: bins of '\(attribute)' must ascend ('\(b.label)' comes after '\(a.label)')")
      }
    }
    for (i, a) in bins.enumerated() {
      for b in bins[(i + 1)...] where a.overlaps(b) {
        throw AuditError.badOption("--groups: bins '\(a.label)' and '\(b.label)' of '\(attribute)' overlap")
      }
    }
    return bins
  }
}
