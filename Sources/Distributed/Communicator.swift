import Foundation

/// The processes of one run and the collective operations between them. Every rank must call
/// the same collectives in the same order (MPI's rule); a rank that fails alone ends the job
/// with ``abort(_:)`` rather than leaving the others waiting.
public protocol Communicator: AnyObject, Sendable {
  /// This process's index, in `0..<size`.
  var rank: Int { get }
  /// Number of processes.
  var size: Int { get }
  /// Sums every buffer element-wise over all ranks, in place. The buffers are reduced as
  /// separate concurrent reductions (buckets), so one large model is not one huge message.
  func allReduceSum(_ buffers: [UnsafeMutableBufferPointer<Float>]) throws
  /// The element-wise maximum over all ranks of a few values.
  func allReduceMax(_ values: [Float]) throws -> [Float]
  /// Every rank's `local` values (lengths may differ), in rank order.
  func allGather(_ local: [Float]) throws -> [[Float]]
  /// Overwrites `buffer` on every rank with `root`'s.
  func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws
  /// Waits until every rank has arrived.
  func barrier() throws
  /// Prints `message` (prefixed with the rank when there are several) and ends every process of
  /// the job with exit status 1.
  func abort(_ message: String) -> Never
  /// Wall-clock seconds this process has spent inside collectives.
  var communicationSeconds: Double { get }
}

extension Communicator {
  /// Whether this process writes the run's files (rank 0).
  public var isLeader: Bool { rank == 0 }

  /// Sums one buffer over all ranks, in place.
  public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
    try allReduceSum([buffer])
  }
}

/// Why a collective failed or a world could not start.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
  /// The MPI library returned an error code.
  case mpi(call: String, message: String)
  /// A size does not fit MPI's 32-bit counts, or ranks disagree on a shape.
  case invalidSize(String)
  /// Another rank failed a step every rank takes together (its own message names the cause).
  case peerFailed(rank: Int, step: String)
  /// Launched by `mpirun`/`srun` with several processes, but built without MPI.
  case notBuiltWithMPI(processes: Int)

  public var description: String {
    switch self {
    case let .mpi(call, message): return "\(call) failed: \(message)"
    case let .invalidSize(what): return what
    case let .peerFailed(rank, step): return "rank \(rank) failed while \(step) (its message says why)"
    case let .notBuiltWithMPI(n):
      return
        "launched as one of \(n) MPI processes, but this fairmed was built without MPI: each process would train alone "
        + "into the same folder. Install MPI (Scripts/install-deps --mpi) and build with `swift build -c release --traits MPI`"
    }
  }
}

/// The one-process world: every collective is the identity.
public final class SingleProcess: Communicator {
  public init() {}
  public var rank: Int { 0 }
  public var size: Int { 1 }
  public func allReduceSum(_ buffers: [UnsafeMutableBufferPointer<Float>]) throws {}
  public func allReduceMax(_ values: [Float]) throws -> [Float] { values }
  public func allGather(_ local: [Float]) throws -> [[Float]] { [local] }
  public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {}
  public func barrier() throws {}
  public func abort(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
  }
  public var communicationSeconds: Double { 0 }
}

extension Communicator {
  /// Runs `body`; with several processes, an error ends the whole job (``abort(_:)``) instead of
  /// leaving the other ranks waiting, and a rank that only learnt of another's failure
  /// (``DistributedError/peerFailed(rank:step:)``) exits quietly. One process rethrows as usual.
  public func endingJobOnFailure(_ body: () throws -> Void) throws {
    guard size > 1 else { return try body() }
    do { try body() } catch let e as DistributedError {
      if case .peerFailed = e { exit(1) }
      abort("Error: \(e)")
    } catch {
      abort("Error: \(error)")
    }
  }
}
