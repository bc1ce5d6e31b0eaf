import Distributed
import Foundation

/// `size` ranks as threads of this process, for testing data parallelism without MPI: every
/// collective is an exchange of each rank's values under one lock, reduced in rank order.
final class ThreadedWorld: @unchecked Sendable {
  let size: Int
  private let condition = NSCondition()
  private var slots: [[Float]]
  private var result: [[Float]] = []
  private var arrived = 0
  private var generation = 0

  init(size: Int) {
    self.size = size
    slots = Array(repeating: [], count: size)
  }

  /// Every rank's `values`, once all ranks have sent theirs.
  func exchange(rank: Int, _ values: [Float]) -> [[Float]] {
    condition.lock()
    defer { condition.unlock() }
    slots[rank] = values
    arrived += 1
    let mine = generation
    if arrived == size {
      result = slots
      arrived = 0
      generation += 1
      condition.broadcast()
    } else {
      while generation == mine { condition.wait() }
    }
    return result
  }

  /// Runs `body` once per rank, each on its own thread, and returns the results in rank order.
  static func run<T>(size: Int, _ body: @escaping @Sendable (any Communicator) throws -> T) throws -> [T] {
    let world = ThreadedWorld(size: size)
    let results = Results<T>(size)
    let done = DispatchGroup()
    for r in 0..<size {
      done.enter()
      let t = Thread {
        results.set(r, Result { try body(ThreadRank(rank: r, world: world)) })
        done.leave()
      }
      t.stackSize = 16 << 20
      t.start()
    }
    done.wait()
    return try results.all()
  }
}

private final class Results<T>: @unchecked Sendable {
  private var values: [Result<T, Error>?]
  private let lock = NSLock()
  init(_ n: Int) { values = Array(repeating: nil, count: n) }
  func set(_ i: Int, _ r: Result<T, Error>) { lock.lock(); values[i] = r; lock.unlock() }
  func all() throws -> [T] { try values.map { try $0!.get() } }
}

/// One rank of a ``ThreadedWorld``.
final class ThreadRank: Communicator, @unchecked Sendable {
  let rank: Int
  let world: ThreadedWorld
  init(rank: Int, world: ThreadedWorld) {
    self.rank = rank
    self.world = world
  }
  var size: Int { world.size }
  var communicationSeconds: Double { 0 }

  func allReduceSum(_ buffers: [UnsafeMutableBufferPointer<Float>]) throws {
    for b in buffers {
      let all = world.exchange(rank: rank, Array(b))
      for i in 0..<b.count { b[i] = all.reduce(0) { $0 + $1[i] } }
    }
  }
  func allReduceMax(_ values: [Float]) throws -> [Float] {
    let all = world.exchange(rank: rank, values)
    return values.indices.map { i in all.map { $0[i] }.max() ?? values[i] }
  }
  func allGather(_ local: [Float]) throws -> [[Float]] { world.exchange(rank: rank, local) }
  func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
    let all = world.exchange(rank: rank, Array(buffer))
    for i in 0..<buffer.count { buffer[i] = all[root][i] }
  }
  func barrier() throws { _ = world.exchange(rank: rank, []) }
  func abort(_ message: String) -> Never { fatalError(message) }
}
