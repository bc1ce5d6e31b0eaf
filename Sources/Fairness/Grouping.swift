import Foundation
import Support

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
    var levelNames: [[String]] = [], maps: [[Int32]] = []
    for (attribute, column) in zip(spec.attributes, columns) {
      let (names, map) = try Self.levelMap(attribute, column, spec: spec, file: file)
      levelNames.append(names)
      maps.append(map)
    }
    let radix = levelNames.map(\.count)
    guard let total = checkedProduct(radix) else {
      throw AuditError.badOption(
        "--groups: the attributes' level combinations overflow a 64-bit key; group by fewer attributes")
    }
    let keyed = Self.rowKeys(columns, maps: maps, radix: radix, spec: spec)
    let (present, rowGroup) = Self.compact(keyed.keys, total: total)
    let groupLevels = present.map { k in
      var rest = k
      var out = [Int](repeating: 0, count: radix.count)
      for a in stride(from: radix.count - 1, through: 0, by: -1) { out[a] = rest % radix[a]; rest /= radix[a] }
      return out
    }
    let names = spec.attributes.map(\.column)
    self.init(
      attributes: names, levels: levelNames,
      groups: groupLevels.map { lv in
        GroupDescriptor(attributes: names, values: lv.enumerated().map { levelNames[$0][$1] })
      },
      groupLevels: groupLevels, rowGroup: rowGroup, droppedRows: keyed.dropped,
      outOfBins: Dictionary(uniqueKeysWithValues: zip(names, keyed.outside)))
  }

  /// One attribute's levels in display order (bins in spec order, categories sorted, the missing
  /// level last) and each raw code's level index (-1 missing, -2 outside every bin).
  static func levelMap(
    _ attribute: AttributeSpec, _ column: CategoricalColumn, spec: GroupingSpec,
    file: String
  ) throws -> (names: [String], map: [Int32]) {
    let missingLabel: String? = { if case .level(let l) = spec.missing { return l } else { return nil } }()
    var levelOfCode: [String?] = []
    var outside = Set<Int>()
    for (code, raw) in column.levels.enumerated() {
      switch attribute.level(of: raw, missingTokens: spec.missingTokens) {
      case .level(let l): levelOfCode.append(l == missingLabel ? nil : l)
      case .missing: levelOfCode.append(nil)
      case .outsideBins: levelOfCode.append(nil); outside.insert(code)
      case .notANumber:
        let row = column.codes.firstIndex(of: UInt32(code)).map { " (first in data row \($0 + 1))" } ?? ""
        throw AuditError.badInput(
          InputLocation(file: file, column: attribute.column),
          "'\(raw)' is not a number, but the attribute is binned\(row)")
      }
    }
    var names = attribute.bins?.map(\.label) ?? Array(Set(levelOfCode.compactMap { $0 })).sorted()
    if let missingLabel { names.removeAll { $0 == missingLabel }; names.append(missingLabel) }
    let index = Dictionary(names.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    return (
      names,
      levelOfCode.indices.map { code in outside.contains(code) ? -2 : levelOfCode[code].flatMap { index[$0] } ?? -1 }
    )
  }

  /// Each row's mixed-radix group key (-1 = dropped), the rows dropped per attribute and the
  /// values outside every bin per attribute.
  static func rowKeys(
    _ columns: [CategoricalColumn], maps: [[Int32]], radix: [Int],
    spec: GroupingSpec
  ) -> (keys: [Int], dropped: [String: Int], outside: [Int]) {
    let dropMissing: Bool = { if case .drop = spec.missing { return true } else { return false } }()
    let rows = columns.first?.codes.count ?? 0
    var keys = [Int](repeating: 0, count: rows)
    var dropped = [String: Int]()
    var outside = [Int](repeating: 0, count: columns.count)
    for r in 0..<rows {
      var k = 0
      var drop = false
      for a in 0..<columns.count {
        var level = maps[a][Int(columns[a].codes[r])]
        if level == -2 { outside[a] += 1; level = -1 }
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
      keys[r] = drop ? -1 : k
    }
    return (keys, dropped, outside)
  }

  /// The present keys in key order (= lexicographic order of levels) and each row's index among them.
  static func compact(_ keys: [Int], total: Int) -> (present: [Int], rowGroup: [Int32]) {
    if total <= 1 << 22 {
      var seen = [Bool](repeating: false, count: total)
      for k in keys where k >= 0 { seen[k] = true }
      let present = seen.indices.filter { seen[$0] }
      var index = [Int32](repeating: -1, count: total)
      for (i, k) in present.enumerated() { index[k] = Int32(i) }
      return (present, keys.map { $0 < 0 ? -1 : index[$0] })
    }
    let present = Array(Set(keys.filter { $0 >= 0 })).sorted()
    let index = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, Int32($0)) })
    return (present, keys.map { $0 < 0 ? -1 : index[$0] ?? -1 })
  }

  private init(
    attributes: [String], levels: [[String]], groups: [GroupDescriptor], groupLevels: [[Int]],
    rowGroup: [Int32], droppedRows: [String: Int], outOfBins: [String: Int]
  ) {
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
