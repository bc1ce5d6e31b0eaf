import Dispatch
import Foundation
import Support

/// Work splitting over CPU cores for element-wise loops, reductions and per-head GEMMs.
///
/// The thread count defaults to the number of active cores; `FAIRMED_NUM_THREADS` overrides it at
/// start-up and ``threadCount`` at run time.
public enum Parallel {
  /// The process-wide thread count, read lazily (where nothing can throw: a malformed
  /// `FAIRMED_NUM_THREADS` falls back to the cores with a warning; the `fairmed` command and the
  /// library's entry points refuse it first) and guarded by a lock.
  private static let processThreadCount = LockedValue<Int>(
    {
      BLAS.threadCount = 1
      return EnvironmentVariable.numThreads.lenientValue(default: max(1, ProcessInfo.processInfo.activeProcessorCount))
    }())

  /// A thread count for the current task only (``withThreadCount(_:_:)``).
  @TaskLocal static var taskThreadCount: Int?

  /// Threads used by FairMed's loops and GEMM splits (BLAS itself runs single-threaded). Set it
  /// once at start-up; code running concurrently with other work uses ``withThreadCount(_:_:)``.
  public static var threadCount: Int {
    get { taskThreadCount ?? processThreadCount.value }
    set { processThreadCount.value = max(1, newValue) }
  }

  /// Runs `body` with `threads` threads for this task alone, leaving every other task's count.
  public static func withThreadCount<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    try $taskThreadCount.withValue(max(1, threads), operation: body)
  }

  /// Minimum elements per chunk before a loop is split: below it threads cost more than they save.
  public static let grain = 32_768

  /// Runs `body` over `0..<count` split into contiguous chunks, one per thread when worth it.
  @inlinable
  public static func forRange(_ count: Int, grain: Int = Parallel.grain, _ body: @Sendable (Range<Int>) -> Void) {
    let threads = min(threadCount, max(1, count / max(1, grain)))
    if threads <= 1 {
      if count > 0 { body(0..<count) }
      return
    }
    let chunk = (count + threads - 1) / threads
    DispatchQueue.concurrentPerform(iterations: threads) { t in
      let lo = t * chunk
      let hi = min(count, lo + chunk)
      if lo < hi { body(lo..<hi) }
    }
  }

  /// Runs `body(i)` for every `i` in `0..<count` over all threads (for coarse independent tasks).
  @inlinable
  public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 || threadCount <= 1 {
      for i in 0..<count { body(i) }
      return
    }
    let threads = min(threadCount, count)
    DispatchQueue.concurrentPerform(iterations: threads) { t in
      var i = t
      while i < count {
        body(i)
        i += threads
      }
    }
  }
}
