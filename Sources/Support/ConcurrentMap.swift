import Dispatch
import Foundation

/// `body(0) … body(count - 1)` computed on all cores, results in index order.
public func concurrentMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
  let slots = ResultSlots<T>(count)
  DispatchQueue.concurrentPerform(iterations: count) { slots.set($0, body($0)) }
  return slots.values()
}

/// Results written from concurrent workers, one slot each, under a lock.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
  private var slots: [T?]
  private let lock = NSLock()
  init(_ count: Int) { slots = [T?](repeating: nil, count: count) }
  func set(_ i: Int, _ value: T) { lock.lock(); slots[i] = value; lock.unlock() }
  func values() -> [T] { lock.lock(); defer { lock.unlock() }; return slots.compactMap { $0 } }
}

/// A buffer that concurrent workers write at disjoint indices (the caller guarantees that no two
/// workers touch the same element and that the buffer outlives them).
public struct DisjointWrites<T>: @unchecked Sendable {
  public let base: UnsafeMutablePointer<T>
  public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
  public subscript(_ i: Int) -> T {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}
