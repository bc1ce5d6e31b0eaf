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
@frozen public struct DisjointWrites<T>: @unchecked Sendable {
  public let base: UnsafeMutablePointer<T>
  @inlinable public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
  /// The buffer's elements, or nil for an empty buffer (which has no address and nothing to write).
  public init?(_ buffer: UnsafeMutableBufferPointer<T>) {
    guard let base = buffer.baseAddress else { return nil }
    self.base = base
  }
  @inlinable public subscript(_ i: Int) -> T {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// A buffer concurrent workers only read (the caller guarantees that nobody writes it while they
/// run and that it outlives them): the read-only partner of ``DisjointWrites``.
@frozen public struct SharedReads<T>: @unchecked Sendable {
  public let base: UnsafePointer<T>
  @inlinable public init(_ base: UnsafePointer<T>) { self.base = base }
  @inlinable public init(_ base: UnsafeMutablePointer<T>) { self.base = UnsafePointer(base) }
  @inlinable public subscript(_ i: Int) -> T { base[i] }
}

extension DisjointWrites {
  /// The address `n` elements in (a worker's own slice).
  @inlinable public static func + (p: Self, n: Int) -> UnsafeMutablePointer<T> { p.base + n }
}

extension SharedReads {
  /// The address `n` elements in.
  @inlinable public static func + (p: Self, n: Int) -> UnsafePointer<T> { p.base + n }
}

/// A value any thread may read or replace, under a lock (settings such as the thread count).
public final class LockedValue<T: Sendable>: @unchecked Sendable {
  private var stored: T
  private let lock = NSLock()
  public init(_ value: T) { stored = value }
  public var value: T {
    get { lock.lock(); defer { lock.unlock() }; return stored }
    set { lock.lock(); defer { lock.unlock() }; stored = newValue }
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
