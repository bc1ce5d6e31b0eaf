import Foundation
import Support

/// A 64-byte aligned Float32 buffer. Freed buffers go back to a small size-keyed pool so that a
/// training step re-uses the previous step's activations instead of faulting in fresh pages.
public final class TensorStorage: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<Float>
  public let count: Int

  /// Uninitialised storage for `count` floats.
  init(uninitializedCount count: Int) {
    self.count = count
    self.pointer = BufferPool.shared.take(count)
  }

  /// Zero-filled storage.
  convenience init(zeros count: Int) {
    self.init(uninitializedCount: count)
    pointer.update(repeating: 0, count: count)
  }

  deinit { BufferPool.shared.give(pointer, count) }
}

/// Recycles large buffers by exact size, up to a byte budget.
final class BufferPool: @unchecked Sendable {
  static let shared = BufferPool()
  private let lock = NSLock()
  private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
  private var pooledBytes = 0
  /// Buffers below this many floats use malloc directly (it is fast for them).
  private let minPooled = 4096
  private let budgetBytes = BufferPool.budgetBytes(
    megabytes: ProcessInfo.processInfo.environment[EnvironmentVariable.poolMB.name],
    physicalMemory: ProcessInfo.processInfo.physicalMemory)

  /// `FAIRMED_POOL_MB` (0 pools nothing; at most 2^30), else a quarter of physical memory. A
  /// training step frees its activations and gradients and the next step takes them again;
  /// buffers the pool cannot keep go back to the system and come back as freshly zeroed pages.
  /// Read where nothing can throw: a malformed or out-of-range value gives the default with a
  /// warning (the `fairmed` command and the library's entry points refuse it first).
  static func budgetBytes(megabytes: String?, physicalMemory: UInt64) -> Int {
    let quarter = Int(clamping: physicalMemory / 4)
    switch EnvironmentVariable.poolMB.check(megabytes) {
    case .success(let mb?): return mb << 20
    case .success(nil): return quarter
    case .failure(let e):
      EnvironmentVariable.warn(e, fallback: "a quarter of physical memory (\(quarter >> 20) MB)")
      return quarter
    }
  }

  func take(_ count: Int) -> UnsafeMutablePointer<Float> {
    let n = max(count, 1)
    if n >= minPooled {
      lock.lock()
      if var list = free[n], let p = list.popLast() {
        free[n] = list
        pooledBytes -= n * 4
        lock.unlock()
        return p
      }
      lock.unlock()
    }
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride) == 0, let raw else {
      fatalError("FairMed: out of memory allocating \(n) floats")
    }
    return raw.bindMemory(to: Float.self, capacity: n)
  }

  func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    let n = max(count, 1)
    if n >= minPooled {
      lock.lock()
      if pooledBytes + n * 4 <= budgetBytes {
        free[n, default: []].append(p)
        pooledBytes += n * 4
        lock.unlock()
        return
      }
      lock.unlock()
    }
    Foundation.free(p)
  }

  /// Returns every pooled buffer to the system.
  func drain() {
    lock.lock()
    for (_, list) in free { for p in list { Foundation.free(p) } }
    free.removeAll()
    pooledBytes = 0
    lock.unlock()
  }
}
