import Fairness
import Foundation
import Support

/// A sample-id → split-name assignment that can be saved, reloaded and applied to a dataset.
public struct SplitAssignment: Sendable, Equatable {
  public var splitOf: [String: String]

  public init(_ splitOf: [String: String]) { self.splitOf = splitOf }

  /// Seeded split, stratified by label × subgroup and grouped by ``Sample/groupID`` (lesion or
  /// patient): all images of one group go to the same split. Within each stratum, groups are
  /// shuffled and each goes to the split furthest below its target share of that stratum's images.
  public static func make(
    _ dataset: Dataset, fractions: [(String, Double)] = [("train", 0.7), ("val", 0.1), ("test", 0.2)],
    groups: GroupingSpec? = nil, seed: UInt64 = 0
  ) -> SplitAssignment {
    let spec = groups ?? dataset.defaultGroups
    // Units: samples sharing a group id.
    var unitOf: [String: Int] = [:]
    var units: [[Int]] = []
    for (i, s) in dataset.samples.enumerated() {
      let key = s.groupID ?? "\u{1}id:" + s.id
      if let u = unitOf[key] { units[u].append(i) } else { unitOf[key] = units.count; units.append([i]) }
    }
    var strata: [String: [Int]] = [:]
    for (u, members) in units.enumerated() {
      let first = dataset.samples[members[0]]
      let label = members.map { dataset.samples[$0].label }.max()!
      strata["\(label)#\(spec.key(first))", default: []].append(u)
    }
    let total = fractions.map(\.1).reduce(0, +)
    var result: [String: String] = [:]
    for (s, key) in strata.keys.sorted().enumerated() {
      var order = strata[key]!
      var rng = SeededRNG(seed: seed, stream: UInt64(s), 7)
      order.shuffle(using: &rng)
      let images = Double(order.reduce(0) { $0 + units[$1].count })
      var assigned = [Double](repeating: 0, count: fractions.count)
      for u in order {
        var best = 0
        var bestDeficit = -Double.infinity
        for (k, f) in fractions.enumerated() {
          let deficit = f.1 / total * images - assigned[k]
          if deficit > bestDeficit + 1e-9 { best = k; bestDeficit = deficit }
        }
        assigned[best] += Double(units[u].count)
        for i in units[u] { result[dataset.samples[i].id] = fractions[best].0 }
      }
    }
    return SplitAssignment(result)
  }

  /// Writes `id,split` rows (sorted by id).
  public func save(to path: String) throws {
    let rows = splitOf.keys.sorted().map { [$0, splitOf[$0]!] }
    try CSVTable.render(header: ["id", "split"], rows: rows).write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// Reads a file written by ``save(to:)``.
  public static func load(from path: String) throws -> SplitAssignment {
    let t = try CSVTable(contentsOf: path)
    let id = try t.require("id"), split = try t.require("split")
    var map: [String: String] = [:]
    for (i, r) in t.rows.enumerated() {
      if map[r[id]] != nil { throw DataError.badRow(file: path, row: i + 2, reason: "duplicate id \(r[id])") }
      map[r[id]] = r[split]
    }
    return SplitAssignment(map)
  }

  /// The dataset with ``Sample/split`` set from this assignment; every sample must be assigned.
  public func apply(to dataset: Dataset) throws -> Dataset {
    var d = dataset
    for i in d.samples.indices {
      guard let s = splitOf[d.samples[i].id] else {
        throw DataError.invalidArgument("split file does not assign sample \(d.samples[i].id)")
      }
      d.samples[i].split = s
    }
    return d
  }
}
