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

/// FairMed's one way for concurrent workers to write one buffer: each at its own indices (the
/// caller guarantees that no two workers touch the same element and that the buffer outlives
/// them).
public struct DisjointWrites<T>: @unchecked Sendable {
  public let base: UnsafeMutablePointer<T>
  public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
  /// The buffer's elements, or nil for an empty buffer (which has no address and nothing to write).
  public init?(_ buffer: UnsafeMutableBufferPointer<T>) {
    guard let base = buffer.baseAddress else { return nil }
    self.base = base
  }
  public subscript(_ i: Int) -> T {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// A counter that concurrent workers increment (progress, hits), under a lock.
public final class SharedCounter: @unchecked Sendable {
  private var value = 0
  private let lock = NSLock()
  public init() {}
  /// Adds one and returns the new count.
  public func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
