#if MPI
  import CMPI
  import Foundation

  /// `MPI_COMM_WORLD`: collectives of the MPI library this build links (Open MPI or MPICH).
  /// Only the thread that initialised MPI calls it (`MPI_THREAD_FUNNELED`).
  public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let lock = NSLock()
    private var seconds = 0.0

    private init(rank: Int, size: Int) {
      self.rank = rank
      self.size = size
    }

    /// Initialises MPI (once per process) and registers `MPI_Finalize` to run at exit.
    static func initialize() throws -> MPICommunicator {
      var provided: Int32 = 0
      try check("MPI_Init_thread", MPI_Init_thread(nil, nil, fm_mpi_thread_funneled(), &provided))
      atexit { _ = MPI_Finalize() }
      var r: Int32 = 0, s: Int32 = 0
      try check("MPI_Comm_rank", MPI_Comm_rank(fm_mpi_comm_world(), &r))
      try check("MPI_Comm_size", MPI_Comm_size(fm_mpi_comm_world(), &s))
      return MPICommunicator(rank: Int(r), size: Int(s))
    }

    public var communicationSeconds: Double { lock.lock(); defer { lock.unlock() }; return seconds }

    private func timed<T>(_ body: () throws -> T) rethrows -> T {
      let start = DispatchTime.now().uptimeNanoseconds
      defer {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lock.lock(); seconds += elapsed; lock.unlock()
      }
      return try body()
    }

    public func allReduceSum(_ buffers: [UnsafeMutableBufferPointer<Float>]) throws {
      let parts = buffers.filter { $0.count > 0 }
      var pointers: [UnsafeMutablePointer<Float>?] = parts.map { $0.baseAddress }
      var counts = try parts.map { try Self.count($0.count) }
      try timed {
        try Self.check("MPI_Iallreduce", fm_mpi_allreduce_sum_buckets(&pointers, &counts, Int32(parts.count)))
      }
    }

    public func allReduceMax(_ values: [Float]) throws -> [Float] {
      var out = values
      try timed {
        try Self.check(
          "MPI_Allreduce",
          MPI_Allreduce(
            fm_mpi_in_place(), &out, try Self.count(out.count), fm_mpi_float(), fm_mpi_max(), fm_mpi_comm_world()))
      }
      return out
    }

    public func allGather(_ local: [Float]) throws -> [[Float]] {
      try timed {
        var mine = try Self.count(local.count)
        var counts = [Int32](repeating: 0, count: size)
        try Self.check(
          "MPI_Allgather", MPI_Allgather(&mine, 1, fm_mpi_int(), &counts, 1, fm_mpi_int(), fm_mpi_comm_world()))
        var displacements = [Int32](repeating: 0, count: size)
        var total = 0
        for r in 0..<size {
          displacements[r] = try Self.count(total)
          total += Int(counts[r])
        }
        _ = try Self.count(total)
        var all = [Float](repeating: 0, count: total)
        var send = local
        try Self.check(
          "MPI_Allgatherv",
          MPI_Allgatherv(
            &send, mine, fm_mpi_float(), &all, &counts, &displacements, fm_mpi_float(), fm_mpi_comm_world()))
        return (0..<size).map { r in Array(all[Int(displacements[r])..<(Int(displacements[r]) + Int(counts[r]))]) }
      }
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
      guard buffer.count > 0 else { return }
      try timed {
        try Self.check(
          "MPI_Bcast",
          MPI_Bcast(buffer.baseAddress, try Self.count(buffer.count), fm_mpi_float(), Int32(root), fm_mpi_comm_world()))
      }
    }

    public func barrier() throws {
      try timed { try Self.check("MPI_Barrier", MPI_Barrier(fm_mpi_comm_world())) }
    }

    public func abort(_ message: String) -> Never {
      FileHandle.standardError.write(Data(((size > 1 ? "rank \(rank): " : "") + message + "\n").utf8))
      _ = MPI_Abort(fm_mpi_comm_world(), 1)
      exit(1)
    }

    /// MPI counts are 32-bit: larger buffers are refused (callers bucket big ones).
    static func count(_ n: Int) throws -> Int32 {
      guard n >= 0, n <= Int(Int32.max) else {
        throw DistributedError.invalidSize("\(n) elements exceed MPI's 32-bit count")
      }
      return Int32(n)
    }

    static func check(_ call: String, _ code: Int32) throws {
      guard code != fm_mpi_success() else { return }
      var text = [CChar](repeating: 0, count: Int(fm_mpi_max_error_string()) + 1)
      var length: Int32 = 0
      _ = MPI_Error_string(code, &text, &length)
      let bytes = text.prefix(max(0, min(Int(length), text.count))).map { UInt8(bitPattern: $0) }
      throw DistributedError.mpi(call: call, message: String(decoding: bytes, as: UTF8.self))
    }
  }
#endif
