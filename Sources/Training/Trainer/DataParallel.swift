import Datasets
import Distributed
import Fairness
import Foundation
import Tensor

/// Data parallelism over a ``Communicator``: every rank holds the whole model and encodes its
/// own shard of each global batch; the loss is then computed on the *global* batch from the
/// gathered embeddings, so every rank gets the same loss value and, after the gradient
/// all-reduce (a sum), the same gradient as one process training on the concatenated batch.
///
/// Exactness rests on two rules: embeddings gathered from the shards pass gradient back to this
/// rank's rows only (``gather(_:)``), and values every rank computes alike from the shared
/// weights (class-prompt embeddings, the temperature) pass 1/size of theirs
/// (``replicated(_:)``); method parameters that see only the global batch (an adversary) are
/// averaged instead of summed.
public struct DataParallel {
  public let world: any Communicator
  public init(world: any Communicator) { self.world = world }

  public var size: Int { world.size }
  public var rank: Int { world.rank }

  /// Each rank's positions in `batch`: samples are grouped by `cell` (subgroup × label) and dealt
  /// round-robin across ranks, cell after cell, so shards differ in size by at most one and every
  /// cell with at least `ranks` members in the batch is on every rank. One rank keeps `batch` as is.
  public static func shards(of batch: [Int], cell: (Int) -> String, ranks: Int) -> [[Int]] {
    guard ranks > 1 else { return [batch] }
    let cells = batch.map(cell)
    let order = batch.indices.sorted { (cells[$0], $0) < (cells[$1], $1) }
    var out = [[Int]](repeating: [], count: ranks)
    for (k, position) in order.enumerated() { out[k % ranks].append(batch[position]) }
    return out
  }

  /// The rows `[n_r, …]` of every rank's `local`, concatenated in rank order. The backward pass
  /// returns this rank's rows of the gradient only: the other rows are constants here, and their
  /// own ranks back-propagate them.
  public func gather(_ local: Tensor) throws -> Tensor {
    guard size > 1 else { return local }
    let rowShape = Array(local.shape.dropFirst())
    let parts = try world.allGather(local.scalars)
    let rowSize = rowShape.reduce(1, *)
    var rows = [Int]()
    for (r, part) in parts.enumerated() {
      guard rowSize > 0 ? part.count % rowSize == 0 : part.isEmpty else {
        throw DistributedError.invalidSize("rank \(r) sent \(part.count) values, not whole rows of shape \(rowShape)")
      }
      rows.append(rowSize > 0 ? part.count / rowSize : 0)
    }
    let offset = rows.prefix(rank).reduce(0, +), mine = local.shape.first ?? 0
    let global = try Tensor(parts.flatMap { $0 }, shape: [rows.reduce(0, +)] + rowShape)
    return Tensor.customOp(global, name: "gatherShards", inputs: [local]) { g in
      [try g.narrow(axis: 0, start: offset, length: mine).copy()]
    }
  }

  /// `value` unchanged, with 1/size of its gradient: for what every rank computes identically from
  /// the shared weights, whose gradient the all-reduce would otherwise count `size` times.
  public func replicated(_ value: Tensor) -> Tensor {
    guard size > 1 else { return value }
    let share = 1 / Float(size)
    return Tensor.customOp(value.detached(), name: "replicated", inputs: [value]) { g in [g * share] }
  }

  /// Gradients with fewer elements than this are coalesced into shared buckets for the all-reduce
  /// (one reduction per tiny bias would cost a latency each); larger ones are reduced in place.
  public static let coalesceBelow = 1 << 16
  /// Elements per coalesced bucket (4 MiB).
  public static let bucketElements = 1 << 20

  /// Sums the gradients of `summed` over all ranks and averages those of `averaged`, in place. A
  /// parameter that has a gradient on any rank gets one (zeros where it had none) on all.
  public func reduceGradients(summed: [Tensor], averaged: [Tensor]) throws {
    guard size > 1 else { return }
    let all = summed + averaged
    let present = try world.allReduceMax(all.map { $0.grad == nil ? 0 : 1 })
    var owners = Set<ObjectIdentifier>()
    var large: [Tensor] = [], small: [Tensor] = []
    for (p, flag) in zip(all, present) where flag > 0 {
      // A gradient may share storage with another (backward hands the same tensor to both
      // inputs of an add): reduce a private copy so no buffer is summed twice.
      let g = p.grad ?? Tensor.zeros(p.shape)
      let own = g.offset == 0 && g.storage.count == g.count && owners.insert(ObjectIdentifier(g.storage)).inserted
      let reduced = own ? g : g.copy()
      owners.insert(ObjectIdentifier(reduced.storage))
      p.grad = reduced
      if reduced.count < Self.coalesceBelow { small.append(reduced) } else { large.append(reduced) }
    }
    var buckets: [[Tensor]] = [[]]
    var filled = 0
    for g in small {
      if filled + g.count > Self.bucketElements, !(buckets.last ?? []).isEmpty { buckets.append([]); filled = 0 }
      buckets[buckets.count - 1].append(g)
      filled += g.count
    }
    let staging = buckets.filter { !$0.isEmpty }.map {
      members -> (members: [Tensor], buffer: UnsafeMutableBufferPointer<Float>) in
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, members.reduce(0) { $0 + $1.count }))
      var at = 0
      for g in members { buffer.baseAddress.map { ($0 + at).update(from: g.pointer, count: g.count) }; at += g.count }
      return (members, buffer)
    }
    defer { for s in staging { s.buffer.deallocate() } }
    try world.allReduceSum(
      large.map { UnsafeMutableBufferPointer(start: $0.pointer, count: $0.count) } + staging.map(\.buffer))
    for s in staging {
      var at = 0
      for g in s.members { s.buffer.baseAddress.map { g.pointer.update(from: $0 + at, count: g.count) }; at += g.count }
    }
    let share = 1 / Float(size)
    for (p, flag) in zip(averaged, present.suffix(averaged.count)) where flag > 0 {
      if let g = p.grad { for i in 0..<g.count { g.pointer[i] *= share } }
    }
  }

  /// Copies rank 0's values of `tensors` to every rank.
  public func broadcast(_ tensors: [Tensor]) throws {
    guard size > 1 else { return }
    for t in tensors { try world.broadcast(UnsafeMutableBufferPointer(start: t.pointer, count: t.count), root: 0) }
  }

  /// Runs `body` on every rank, then lets every rank know whether it failed anywhere: a failing
  /// rank rethrows its error, the others throw ``DistributedError/peerFailed(rank:step:)``, so no
  /// rank goes on to wait in a collective for one that has given up.
  public func together<T>(_ step: String, _ body: () throws -> T) throws -> T {
    try agree(step, Result { try body() }).get()
  }

  /// Runs `body` on rank 0 alone (file writes), then as ``together(_:_:)``; nil on the others.
  @discardableResult
  public func onLeader<T>(_ step: String, _ body: () throws -> T) throws -> T? {
    try agree(step, world.isLeader ? Result { try body() } : .success(nil)).get()
  }

  private func agree<T>(_ step: String, _ result: Result<T, Error>) throws -> Result<T, Error> {
    guard size > 1 else { return result }
    var mine = [Float](repeating: 0, count: size)
    if case .failure = result { mine[rank] = 1 }
    let failed = try world.allReduceMax(mine)
    if case .failure = result { return result }
    if let r = failed.firstIndex(where: { $0 > 0 }) { throw DistributedError.peerFailed(rank: r, step: step) }
    return result
  }

  /// Refuses a global batch that cannot give every rank a sample.
  public func check(batchSize: Int) throws {
    guard batchSize >= size else {
      throw TrainingError.invalidConfig([
        "--batch-size \(batchSize) is the global batch and must be ≥ the \(size) processes (mpirun -np)"
      ])
    }
  }

  /// Refuses an epoch with a batch smaller than the world (a training set with fewer samples than
  /// processes): some rank would have nothing to encode.
  public func check(batches: [[Int]], dataset: String) throws {
    guard let smallest = batches.map(\.count).min(), smallest < size else { return }
    throw TrainingError.invalidConfig([
      "\(dataset): a training batch holds \(smallest) samples, fewer than the \(size) processes (mpirun -np); use fewer processes"
    ])
  }

  /// This rank's contiguous share of `count` rows (earlier ranks take one more when it does not divide).
  public func rows(of count: Int) -> Range<Int> { Self.rows(of: count, rank: rank, size: size) }

  static func rows(of count: Int, rank: Int, size: Int) -> Range<Int> {
    let base = count / size, extra = count % size
    let start = rank * base + min(rank, extra)
    return start..<(start + base + (rank < extra ? 1 : 0))
  }

  /// Predictions on every row of `dataset`: each rank computes its ``rows(of:)`` with `compute`,
  /// and the probabilities and margins are gathered so every rank holds all rows, in order.
  public func predictions(dataset: Dataset, groupSpec: GroupingSpec, _ compute: (Range<Int>) throws -> Predictions)
    throws -> Predictions
  {
    let local = try together("predicting its share of \(dataset.name)") { try compute(rows(of: dataset.count)) }
    guard size > 1 else { return local }
    let width = (local.classProbabilities.first?.count ?? 0) + 1
    let widths = try world.allReduceMax([Float(width)])
    guard let w = widths.first, Int(w) == width || local.ids.isEmpty else {
      throw DistributedError.invalidSize("ranks disagree on the number of classes of \(dataset.name)")
    }
    let parts = try world.allGather(
      zip(local.classProbabilities, local.margins).flatMap { $0.map(Float.init) + [Float($1)] })
    var out = Predictions()
    out.threshold = local.threshold
    for (r, part) in parts.enumerated() {
      let range = Self.rows(of: dataset.count, rank: r, size: size)
      let columns = Int(w)
      guard part.count == range.count * columns else {
        throw DistributedError.invalidSize(
          "rank \(r) sent \(part.count) prediction values for \(range.count) rows of \(dataset.name)")
      }
      let rowsOut = (0..<range.count).map { Array(part[($0 * columns)..<(($0 + 1) * columns)]) }
      out.append(
        samples: range.map { dataset.samples[$0] }, probabilities: rowsOut.map { $0.dropLast().map(Double.init) },
        margins: rowsOut.map { Double($0[columns - 1]) }, groups: groupSpec)
    }
    return out
  }
}
