import Foundation

/// One (intersectional) subgroup: its attribute values and display name ("female|<40").
public struct GroupDescriptor: Sendable, Equatable {
  public var attributes: [String]
  public var values: [String]
  public var name: String { values.joined(separator: "|") }
}

/// The assignment of every row to a subgroup. Rows with `rowGroup[i] < 0` are dropped.
public struct Grouping: Sendable {
  /// Attribute names, in the order of the spec.
  public var attributes: [String]
  /// Levels of each attribute, in display order (bins in spec order, categories sorted, the missing level last).
  public var levels: [[String]]
  /// Present groups, ordered by attribute levels.
  public var groups: [GroupDescriptor]
  /// Level index of each attribute for each group.
  public var groupLevels: [[Int]]
  /// Group index per row (-1 = dropped by the missing policy).
  public var rowGroup: [Int32]
  /// Rows dropped because of a missing value, per attribute (a row counts once, for its first missing attribute).
  public var droppedRows: [String: Int]
  /// Numeric values that fell outside every bin, per attribute (handled by the missing policy).
  public var outOfBins: [String: Int]

  public var groupCount: Int { groups.count }

  /// Builds groups from raw attribute columns (text, as read from CSV) following `spec`.
  public init(spec: GroupingSpec, columns: [CategoricalColumn], file: String = "input") throws {
    guard columns.count == spec.attributes.count else {
      throw AuditError.badOption("\(spec.attributes.count) group attributes but \(columns.count) columns")
    }
    let rows = columns.first?.codes.count ?? 0
    var levelNames: [[String]] = []
    var maps: [[Int32]] = []  // raw code -> level index (-1 missing, -2 outside every bin)
    var outOfBins: [String: Int] = [:]
    let missingLabel: String? = { if case .level(let l) = spec.missing { return l } else { return nil } }()
    for (attribute, column) in zip(spec.attributes, columns) {
      var levelOfCode: [String?] = []
      var outside = Set<Int>()
      for (code, raw) in column.levels.enumerated() {
        switch attribute.level(of: raw, missingTokens: spec.missingTokens) {
        case .level(let l): levelOfCode.append(l == missingLabel ? nil : l)
        case .missing: levelOfCode.append(nil)
        case .outsideBins: levelOfCode.append(nil); outside.insert(code)
        case .notANumber:
          let row = column.codes.firstIndex(of: UInt32(code)).map { " (first in data row \($0 + 1))" } ?? ""
          throw AuditError.badInput(InputLocation(file: file, column: attribute.column),
                                    "'\(raw)' is not a number, but the attribute is binned\(row)")
        }
      }
      var names = attribute.bins?.map(\.label) ?? Array(Set(levelOfCode.compactMap { $0 })).sorted()
      if let missingLabel { names.removeAll { $0 == missingLabel }; names.append(missingLabel) }
      let index = Dictionary(names.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
      maps.append(levelOfCode.indices.map { code in
        outside.contains(code) ? -2 : levelOfCode[code].flatMap { index[$0] } ?? -1
      })
      levelNames.append(names)
      outOfBins[attribute.column] = 0
    }

    let dropMissing: Bool = { if case .drop = spec.missing { return true } else { return false } }()
    var radix: [Int] = levelNames.map(\.count)
    guard radix.reduce((1, false), { acc, n in acc.1 ? acc : acc.0.multipliedReportingOverflow(by: n) }).1 == false else {
      throw AuditError.badOption("--groups: the attributes' level combinations overflow a 64-bit key; group by fewer attributes")
    }
    var key = [Int](repeating: 0, count: rows)
    var dropped = [String: Int]()
    var outCounts = [Int](repeating: 0, count: columns.count)
    for r in 0..<rows {
      var k = 0
      var drop = false
      for a in 0..<columns.count {
        var level = maps[a][Int(columns[a].codes[r])]
        if level == -2 { outCounts[a] += 1; level = -1 }
        if level < 0 {
          if dropMissing {
            if !drop { dropped[spec.attributes[a].column, default: 0] += 1 }
            drop = true
            continue
          }
          level = Int32(radix[a] - 1)  // the missing level is last
        }
        k = k * radix[a] + Int(level)
      }
      key[r] = drop ? -1 : k
    }
    for a in columns.indices { outOfBins[spec.attributes[a].column] = outCounts[a] }
    // Compact the present keys, in key order (= lexicographic order of levels).
    let total = radix.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
    let present: [Int]
    if total <= 1 << 22 {
      var seen = [Bool](repeating: false, count: total)
      for k in key where k >= 0 { seen[k] = true }
      present = seen.indices.filter { seen[$0] }
      var compact = [Int32](repeating: -1, count: total)
      for (i, k) in present.enumerated() { compact[k] = Int32(i) }
      rowGroup = key.map { $0 < 0 ? -1 : compact[$0] }
    } else {
      present = Array(Set(key.filter { $0 >= 0 })).sorted()
      let compact = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, Int32($0)) })
      rowGroup = key.map { $0 < 0 ? -1 : compact[$0] ?? -1 }
    }
    attributes = spec.attributes.map(\.column)
    levels = levelNames
    groupLevels = present.map { k in
      var rest = k
      var out = [Int](repeating: 0, count: radix.count)
      for a in stride(from: radix.count - 1, through: 0, by: -1) { out[a] = rest % radix[a]; rest /= radix[a] }
      return out
    }
    radix = []
    groups = groupLevels.map { lv in
      GroupDescriptor(attributes: spec.attributes.map(\.column), values: lv.enumerated().map { levelNames[$0][$1] })
    }
    droppedRows = dropped
    self.outOfBins = outOfBins
  }

  private init(attributes: [String], levels: [[String]], groups: [GroupDescriptor], groupLevels: [[Int]],
               rowGroup: [Int32], droppedRows: [String: Int], outOfBins: [String: Int]) {
    self.attributes = attributes; self.levels = levels; self.groups = groups; self.groupLevels = groupLevels
    self.rowGroup = rowGroup; self.droppedRows = droppedRows; self.outOfBins = outOfBins
  }

  /// For each group, its group in the single-attribute view of attribute `index`.
  public func viewMap(attribute index: Int) -> [Int32] {
    let present = Array(Set(groupLevels.map { $0[index] })).sorted()
    let compact = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, Int32($0)) })
    return groupLevels.map { compact[$0[index]] ?? -1 }
  }

  /// The single-attribute view: the same rows grouped by attribute `index` alone.
  public func view(attribute index: Int) -> Grouping {
    let present = Array(Set(groupLevels.map { $0[index] })).sorted()
    let toView = viewMap(attribute: index)
    let rows = rowGroup.map { $0 < 0 ? -1 : toView[Int($0)] }
    let name = attributes[index]
    return Grouping(
      attributes: [name], levels: [levels[index]],
      groups: present.map { GroupDescriptor(attributes: [name], values: [levels[index][$0]]) },
      groupLevels: present.map { [$0] }, rowGroup: rows, droppedRows: droppedRows, outOfBins: outOfBins)
  }

  /// Row count per group (dropped rows excluded).
  public func sizes() -> [Int] {
    var n = [Int](repeating: 0, count: groups.count)
    for g in rowGroup where g >= 0 { n[Int(g)] += 1 }
    return n
  }
}
