import Datasets
import Support

/// Resampling's sampler: every batch holds the same number of samples from each subgroup ×
/// label cell (the remainder going to randomly chosen cells), drawn with replacement, so small
/// cells are oversampled. An epoch has ⌊N / B⌋ batches, like a plain pass; draws are a function
/// of (seed, epoch) only.
public struct CellBalancedResampler: BatchSampler {
  public let cells: [[Int]]
  public let batchSize: Int
  public let batchesPerEpoch: Int
  public let seed: UInt64

  /// `cellOf[i]` is sample i's cell.
  public init(cellOf: [String], batchSize: Int, seed: UInt64) {
    var byCell: [String: [Int]] = [:]
    for (i, c) in cellOf.enumerated() { byCell[c, default: []].append(i) }
    cells = byCell.keys.sorted().map { byCell[$0]! }
    self.batchSize = batchSize
    batchesPerEpoch = max(1, cellOf.count / max(batchSize, 1))
    self.seed = seed
  }

  public func batches(epoch: Int) -> [[Int]] {
    var rng = SeededRNG(seed: seed, stream: UInt64(epoch), 0x5E5A)
    let quota = batchSize / cells.count, extra = batchSize % cells.count
    return (0..<batchesPerEpoch).map { _ in
      var order = Array(cells.indices)
      order.shuffle(using: &rng)
      var batch: [Int] = []
      for (rank, c) in order.enumerated() {
        for _ in 0..<(quota + (rank < extra ? 1 : 0)) { batch.append(cells[c][rng.below(cells[c].count)]) }
      }
      batch.shuffle(using: &rng)
      return batch
    }
  }
}
