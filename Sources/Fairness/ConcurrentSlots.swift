import Foundation

/// Lets disjoint interval slots be written from concurrent workers.
struct UnsafeMutableSendableIntervals: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<Interval?>
  init(_ base: UnsafeMutableBufferPointer<Interval?>) { self.base = base }
  subscript(_ i: Int) -> Interval? {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// A thread-safe progress counter.
final class Counter: @unchecked Sendable {
  private var value = 0
  private let lock = NSLock()
  func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

/// Lets disjoint slots of one buffer be written from concurrent workers.
struct UnsafeMutableSendableBuffer: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<Double>
  init(_ base: UnsafeMutableBufferPointer<Double>) { self.base = base }
  subscript(_ i: Int) -> Double {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}
