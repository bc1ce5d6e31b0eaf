import Fairness
import Foundation
import Support

/// Produces the batches (sample indices) of one epoch; seeded and deterministic.
public protocol BatchSampler: Sendable {
  func batches(epoch: Int) -> [[Int]]
}

/// Shuffles all indices each epoch and cuts them into batches.
public struct ShuffleBatchSampler: BatchSampler {
  public var count: Int
  public var batchSize: Int
  public var seed: UInt64
  /// Drop a last, smaller batch.
  public var dropLast: Bool

  public init(count: Int, batchSize: Int, seed: UInt64 = 0, dropLast: Bool = false) {
    precondition(batchSize > 0, "batch size must be positive")
    self.count = count
    self.batchSize = batchSize
    self.seed = seed
    self.dropLast = dropLast
  }

  public func batches(epoch: Int) -> [[Int]] {
    var order = Array(0..<count)
    var rng = SeededRNG(seed: seed, stream: UInt64(epoch), 1)
    order.shuffle(using: &rng)
    var out: [[Int]] = []
    var i = 0
    while i < count {
      let end = min(count, i + batchSize)
      if end - i == batchSize || !dropLast { out.append(Array(order[i..<end])) }
      i = end
    }
    return out
  }
}

/// Guarantees at least `minPerCell` samples of every cell (intersectional subgroup, or subgroup ×
/// label) in every batch, where the data allow: a cell with fewer samples than that contributes
/// all it has. Each batch first takes its quota from every cell (unvisited samples first, then
/// reshuffled repeats: small cells are oversampled), then fills up from a shuffled pass over the
/// unvisited samples. An epoch ends once every sample has been visited: between ⌈N / B⌉ and
/// ⌈N / (B − k·cells)⌉ full batches, depending on how much the small cells are oversampled.
public struct GroupBalancedBatchSampler: BatchSampler {
  public let cellOf: [String]
  public let batchSize: Int
  public let minPerCell: Int
  public let seed: UInt64
  /// Cell names, sorted.
  public let cells: [String]
  let members: [[Int]]

  /// `cellOf[i]` is sample i's cell (e.g. `GroupingSpec.key` or key + "#" + label). Throws when
  /// `cells × minPerCell` exceeds the batch size.
  public init(cellOf: [String], batchSize: Int, minPerCell: Int = 2, seed: UInt64 = 0) throws {
    let cells = Array(Set(cellOf)).sorted()
    var members = [[Int]](repeating: [], count: cells.count)
    let position = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($1, $0) })
    for (i, c) in cellOf.enumerated() { members[position[c]!].append(i) }
    let needed = zip(members, cells).reduce(0) { $0 + min($1.0.count, minPerCell) }
    guard needed <= batchSize else {
      throw DataError.invalidArgument(
        "--batch-size \(batchSize) cannot hold --min-per-cell \(minPerCell) of each of the \(cells.count) cells (needs \(needed)); raise --batch-size, lower --min-per-cell or use --sampler shuffle"
      )
    }
    self.cellOf = cellOf
    self.batchSize = batchSize
    self.minPerCell = minPerCell
    self.seed = seed
    self.cells = cells
    self.members = members
  }

  /// Cells from a dataset's subgroups (``Dataset/defaultGroups`` unless given), split further by
  /// label when `byLabel` (cell names "female|<40#1").
  public init(
    dataset: Dataset, groups: GroupingSpec? = nil, byLabel: Bool = false, batchSize: Int,
    minPerCell: Int = 2, seed: UInt64 = 0
  ) throws {
    let spec = groups ?? dataset.defaultGroups
    try self.init(
      cellOf: dataset.samples.map { byLabel ? "\(spec.key($0))#\($0.label)" : spec.key($0) },
      batchSize: batchSize, minPerCell: minPerCell, seed: seed)
  }

  public func batches(epoch: Int) -> [[Int]] {
    let n = cellOf.count
    guard n > 0 else { return [] }
    var rng = SeededRNG(seed: seed, stream: UInt64(epoch), 2)
    var global = Array(0..<n)
    global.shuffle(using: &rng)
    var globalPos = 0
    var visited = [Bool](repeating: false, count: n)
    var remaining = n
    var unvisitedIn = members.map(\.count)
    let cellIndex = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($1, $0) })
    var streams = members.map { $0.shuffled(using: &rng) }
    var streamPos = [Int](repeating: 0, count: members.count)
    let size = min(batchSize, n)
    func visit(_ i: Int) {
      if !visited[i] {
        visited[i] = true
        remaining -= 1
        unvisitedIn[cellIndex[cellOf[i]]!] -= 1
      }
    }
    var out: [[Int]] = []
    while remaining > 0 {
      var batch: [Int] = []
      var taken = Set<Int>()
      for c in members.indices {
        let want = min(minPerCell, members[c].count)
        var got = 0
        while got < want {
          if streamPos[c] == streams[c].count { streams[c].shuffle(using: &rng); streamPos[c] = 0 }
          let i = streams[c][streamPos[c]]
          streamPos[c] += 1
          if visited[i] && unvisitedIn[c] > 0 { continue }  // unvisited samples first
          if taken.insert(i).inserted { batch.append(i); visit(i); got += 1 }
        }
      }
      while batch.count < size {
        while globalPos < n && visited[global[globalPos]] { globalPos += 1 }
        let i = globalPos < n ? global[globalPos] : Int(rng.next() % UInt64(n))
        if taken.insert(i).inserted { batch.append(i); visit(i) }
      }
      batch.shuffle(using: &rng)
      out.append(batch)
    }
    return out
  }
}

/// How well batches cover the cells: the statistic behind the paper's failure mode (MMD is
/// unreliable when a subgroup is absent or tiny in a batch).
public struct BatchCoverage: Sendable, CustomStringConvertible {
  public let cells: [String]
  /// `counts[b][c]`: samples of cell c in batch b.
  public let counts: [[Int]]

  public init(batches: [[Int]], cellOf: [String]) {
    let cells = Array(Set(cellOf)).sorted()
    let position = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ($1, $0) })
    self.cells = cells
    counts = batches.map { b in
      var c = [Int](repeating: 0, count: cells.count)
      for i in b { c[position[cellOf[i]]!] += 1 }
      return c
    }
  }

  /// Smallest per-batch count of each cell.
  public var minimum: [Int] { cells.indices.map { c in counts.map { $0[c] }.min() ?? 0 } }

  /// Mean per-batch count of each cell.
  public var mean: [Double] {
    cells.indices.map { c in Double(counts.map { $0[c] }.reduce(0, +)) / Double(max(1, counts.count)) }
  }

  /// Fraction of batches in which each cell has at least `m` samples.
  public func fraction(atLeast m: Int) -> [Double] {
    cells.indices.map { c in Double(counts.filter { $0[c] >= m }.count) / Double(max(1, counts.count)) }
  }

  /// Fraction of batches in which every cell has at least `m` samples.
  public func fractionAllCells(atLeast m: Int) -> Double {
    Double(counts.filter { $0.allSatisfy { $0 >= m } }.count) / Double(max(1, counts.count))
  }

  public var description: String {
    let f2 = fraction(atLeast: 2), mn = minimum, me = mean
    var lines = ["cell                      min   mean  batches with >=2"]
    for (c, name) in cells.enumerated() {
      lines.append(
        name.padding(toLength: 24, withPad: " ", startingAt: 0)
          + String(format: "%5d %6.1f  %5.1f%%", mn[c], me[c], 100 * f2[c]))
    }
    return lines.joined(separator: "\n")
  }
}
