import Fairness
import Dispatch
import Foundation
import Support

/// A batch of model inputs with no engine dependency: `pixels` holds N × 3 × size × size Float32
/// values (sample-major, then CHW), normalised for the image tower.
public struct ImageBatch: Sendable {
  public var pixels: [Float]
  public var size: Int
  public var labels: [Int]
  /// Subgroup key of each sample (``GroupingSpec/key(_:)-swift.method``).
  public var groups: [String]
  public var ids: [String]
  public var texts: [String?]
  /// Indices into the dataset's samples.
  public var indices: [Int]

  public var count: Int { labels.count }
}

/// Decodes and transforms batches on all cores, running at most `prefetch` batches ahead of the
/// consumer. The output is identical for a given seed regardless of thread timing: each sample's
/// augmentation draws from a generator seeded by (seed, epoch, sample index). Dropping the loader
/// early stops its background producer.
public final class BatchLoader: @unchecked Sendable {
  private let queue: PrefetchQueue

  public init(
    dataset: Dataset, batches: [[Int]], transform: ImageTransform, groups: GroupingSpec? = nil,
    seed: UInt64 = 0, epoch: Int = 0, prefetch: Int = 2,
    threads: Int = ProcessInfo.processInfo.activeProcessorCount
  ) {
    queue = PrefetchQueue(
      builder: BatchBuilder(
        dataset: dataset, transform: transform, groups: groups ?? dataset.defaultGroups,
        seed: seed, epoch: epoch, threads: max(1, threads)),
      batches: batches, prefetch: max(1, prefetch))
  }

  deinit { queue.cancel() }

  /// The next batch in order, nil at the end; rethrows the first decode error (file named).
  public func next() throws -> ImageBatch? { try queue.next() }

  /// Decodes and transforms one batch directly (parallel over its samples).
  public func makeBatch(_ indices: [Int]) throws -> ImageBatch { try queue.builder.make(indices) }
}

/// Builds one batch: decode + transform of each sample, spread over `threads`.
struct BatchBuilder: Sendable {
  let dataset: Dataset
  let transform: ImageTransform
  let groups: GroupingSpec
  let seed: UInt64
  let epoch: Int
  let threads: Int

  func make(_ indices: [Int]) throws -> ImageBatch {
    let n = indices.count, plane = 3 * transform.size * transform.size
    var pixels = [Float](repeating: 0, count: n * plane)
    let errors = ErrorSlot()
    pixels.withUnsafeMutableBufferPointer { buffer in
      guard let start = buffer.baseAddress else { return }
      let base = DisjointWrites(start)
      let workers = min(threads, n)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        var j = w
        while j < n {
          let index = indices[j]
          do {
            let image = try dataset.samples[index].source.load()
            var rng = SeededRNG(seed: seed, stream: UInt64(epoch), UInt64(index))
            transform.apply(
              image, rng: &rng, into: UnsafeMutableBufferPointer(start: base.base + j * plane, count: plane))
          } catch {
            errors.set(error)
          }
          j += workers
        }
      }
    }
    if let e = errors.error { throw e }
    let samples = indices.map { dataset.samples[$0] }
    return ImageBatch(
      pixels: pixels, size: transform.size, labels: samples.map(\.label),
      groups: samples.map(groups.key), ids: samples.map(\.id), texts: samples.map(\.text),
      indices: indices)
  }
}

/// The bounded queue between the producer thread and the consumer.
final class PrefetchQueue: @unchecked Sendable {
  let builder: BatchBuilder
  private let batches: [[Int]]
  private let prefetch: Int
  private let condition = NSCondition()
  private var ready: [Int: Result<ImageBatch, Error>] = [:]
  private var produced = 0
  private var consumed = 0
  private var cancelled = false
  private var started = false

  init(builder: BatchBuilder, batches: [[Int]], prefetch: Int) {
    self.builder = builder
    self.batches = batches
    self.prefetch = prefetch
  }

  func cancel() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    condition.unlock()
  }

  func next() throws -> ImageBatch? {
    condition.lock()
    defer { condition.unlock() }
    if !started {
      started = true
      Thread { self.produce() }.start()  // holds the queue (not the loader) until it finishes
    }
    guard consumed < batches.count else { return nil }
    while ready[consumed] == nil { condition.wait() }
    let result = ready.removeValue(forKey: consumed)!
    consumed += 1
    condition.broadcast()
    return try result.get()
  }

  private func produce() {
    for b in batches.indices {
      condition.lock()
      while produced - consumed >= prefetch && !cancelled { condition.wait() }
      let stop = cancelled
      condition.unlock()
      if stop { return }
      let result = Result { try builder.make(batches[b]) }
      condition.lock()
      ready[b] = result
      produced += 1
      if case .failure = result {
        // Every later batch reports the same error; the producer stops.
        for rest in b..<batches.count { ready[rest] = result }
      }
      condition.broadcast()
      condition.unlock()
      if case .failure = result { return }
    }
  }
}

/// The first error of parallel work (loaders, renderers), kept under a lock.
package final class ErrorSlot: @unchecked Sendable {
  private let lock = NSLock()
  package private(set) var error: Error?
  package init() {}
  package func set(_ e: Error) {
    lock.lock()
    if error == nil { error = e }
    lock.unlock()
  }
}
