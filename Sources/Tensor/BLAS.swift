import CBF16GEMM
import CVectorKernels
import Dispatch
import Foundation
import Support

#if canImport(Accelerate)
  import Accelerate
#else
  import CBLAS
#endif

/// The one place that knows which BLAS FairMed links: OpenBLAS on Linux, Accelerate on Apple platforms.
public enum BLAS {
  /// Single-precision GEMM on row-major matrices: `C = alpha · op(A) · op(B) + beta · C`.
  ///
  /// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`; leading dimensions are row strides,
  /// so strided sub-matrices (one attention head inside `[T, H·D]`) need no copy. Large products
  /// are split over ``Parallel/threadCount`` threads by rows (or columns) of `C`, each running
  /// the single-threaded BLAS kernel: FairMed owns all threading, so BLAS worker threads never
  /// spin against FairMed's own loops. Pass `threads: 1` from inside a parallel region.
  @inlinable
  public static func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
    threads: Int = Parallel.threadCount
  ) {
    if m == 0 || n == 0 { return }
    if k == 0 {
      for i in 0..<m {
        let row = c + i * ldc
        if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
      }
      return
    }
    if Precision.current == .bf16 && m * n * k >= Precision.bf16MinimumWork
      && bf16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads: threads)
    {
      return
    }
    split(
      transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, threads: threads
    ) {
      m, n, a, b, c in kernel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
  }

  /// Runs one GEMM as `part(m′, n′, a′, b′, c′)` calls on disjoint blocks of C, the one rule every
  /// backend's split follows: products of at least 2²⁰ multiply-adds per thread go to up to
  /// `threads` parts, by rows of C (or by columns when C is much wider than tall), each part on
  /// its own thread with the operands' matching sub-matrices (`op(A)` rows, `op(B)` columns).
  @usableFromInline
  static func split<T>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>,
    ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
    _ part:
      @Sendable (_ m: Int, _ n: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<Float>) ->
      Void
  ) {
    let parts = min(threads, max(1, (m * n * k) / (1 << 20)))
    if parts <= 1 { return part(m, n, a, b, c) }
    let byRows = m >= n || m >= 64 * parts
    let total = byRows ? m : n, chunk = (total + parts - 1) / parts
    // Each part writes its own rows (or columns) of c.
    let a = SharedReads(a), b = SharedReads(b), c = DisjointWrites(c)
    DispatchQueue.concurrentPerform(iterations: parts) { p in
      let lo = p * chunk, count = min(total, lo + chunk) - lo
      guard count > 0 else { return }
      if byRows {
        part(count, n, transA ? a + lo : a + lo * lda, b.base, c + lo * ldc)
      } else {
        part(m, count, a.base, transB ? b + lo * ldb : b + lo, c + lo)
      }
    }
  }

  /// Whether a GEMM of `m·n·k` multiply-adds runs in bf16 on this task: ``Precision/current`` is
  /// bf16 and the work reaches ``Precision/bf16MinimumWork``.
  public static func roundsToBF16(m: Int, n: Int, k: Int) -> Bool {
    Precision.current == .bf16 && m * n * k >= Precision.bf16MinimumWork
  }

  /// One GEMM operand of ``gemm(transA:transB:m:n:k:alpha:a:b:beta:c:ldc:threads:)``: fp32 (row
  /// stride `ld`), rounded to bf16 by the call, or a ``BF16Matrix`` rounded once before.
  public enum Operand {
    case float(UnsafePointer<Float>, ld: Int)
    case rounded(BF16Matrix)
  }

  /// `C = alpha · op(A) · op(B) + beta · C` in bf16 with fp32 accumulation, for operands a caller
  /// reads more than once (a weight in the forward and backward pass): a ``BF16Matrix`` is not
  /// rounded again. False when oneDNN failed (memory); the caller then computes it in fp32.
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, a: Operand, b: Operand,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Parallel.threadCount
  ) -> Bool {
    if m == 0 || n == 0 { return true }
    return bf16(transA, transB, m, n, k, alpha, a, b, beta, c, ldc, threads: threads)
  }

  /// The bf16 GEMM (``Precision/bf16``): fp32 operands rounded to bf16 into the calling thread's
  /// buffers (split over the threads), then oneDNN's matmul with fp32 accumulation on the same
  /// row (or column) split as the fp32 path, one single-threaded oneDNN call per part. False only
  /// when oneDNN refused the shape or memory ran out (counted in ``bf16Fallbacks``; the caller
  /// then computes it in fp32).
  @usableFromInline
  static func bf16(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, threads: Int
  ) -> Bool {
    bf16(transA, transB, m, n, k, alpha, .float(a, ld: lda), .float(b, ld: ldb), beta, c, ldc, threads: threads)
  }

  static func bf16(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: Operand, _ b: Operand, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, threads: Int
  ) -> Bool {
    let (rowsA, colsA) = transA ? (k, m) : (m, k)
    let (rowsB, colsB) = transB ? (n, k) : (k, n)
    // The operands still in fp32 are rounded into this thread's two buffers.
    var pending: [(src: SharedReads<Float>, ld: Int, rows: Int, cols: Int, dst: DisjointWrites<UInt16>)] = []
    func bf16Pointer(_ operand: Operand, slot: Int32, rows: Int, cols: Int) -> UnsafePointer<UInt16>? {
      switch operand {
      case .rounded(let matrix):
        precondition(
          matrix.rows == rows && matrix.cols == cols, "BF16Matrix \(matrix.rows)×\(matrix.cols) read as \(rows)×\(cols)"
        )
        return UnsafePointer(matrix.pointer)
      case .float(let p, let ld):
        guard let buffer = fm_bf16_buffer(slot, rows * cols) else { return nil }
        pending.append((SharedReads(p), ld, rows, cols, DisjointWrites(buffer)))
        return UnsafePointer(buffer)
      }
    }
    guard let a16 = bf16Pointer(a, slot: 0, rows: rowsA, cols: colsA),
      let b16 = bf16Pointer(b, slot: 1, rows: rowsB, cols: colsB)
    else {
      bf16FallbackCount.value += 1
      return false
    }
    if !pending.isEmpty {
      let work = pending.reduce(0) { $0 + $1.rows * $1.cols }
      BF16Matrix.round(pending, parts: min(threads, max(1, work / (1 << 18))))
    }
    let done = splitOneDNN(
      transA: transA, transB: transB, m: m, n: n, k: k, a: a16, lda: colsA, b: b16, ldb: colsB, c: c, ldc: ldc,
      threads: threads
    ) { m, n, a, b, c in
      fm_bf16_matmul(
        Int32(m), Int32(n), Int32(k), alpha, a, transA ? 1 : 0, Int32(colsA), b, transB ? 1 : 0, Int32(colsB), beta, c,
        Int32(ldc))
    }
    if done { return true }
    // oneDNN implements every plain-layout bf16 matmul, so only memory can run out here. With
    // beta 0 the fp32 path overwrites C whole; with beta ≠ 0 a part may already have added into C.
    precondition(beta == 0, "oneDNN's bf16 matmul failed on \(m)×\(n)×\(k) after updating part of C")
    bf16FallbackCount.value += 1
    return false
  }

  /// One single-threaded bf16 GEMM (inside a parallel region) on operands given by their row and
  /// column strides (one of the two is 1, as for an attention head inside a packed projection):
  /// both rounded into this thread's buffers, then oneDNN. False when oneDNN failed (memory).
  public static func bf16Product(
    m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
    b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) -> Bool {
    // A row-contiguous operand keeps its orientation; a column-contiguous one is rounded as its
    // transpose (rows of the stored matrix) and read transposed.
    func round(_ p: UnsafePointer<Float>, rows: Int, cols: Int, rowStride: Int, colStride: Int, slot: Int32)
      -> (UnsafePointer<UInt16>, Bool, Int)?
    {
      guard let buffer = fm_bf16_buffer(slot, rows * cols) else { return nil }
      if colStride == 1 {
        fm_f32_to_bf16(p, Int32(rows), Int32(cols), Int32(rowStride), buffer)
        return (UnsafePointer(buffer), false, cols)
      }
      precondition(rowStride == 1, "bf16Product: an operand with strides \(rowStride), \(colStride)")
      fm_f32_to_bf16(p, Int32(cols), Int32(rows), Int32(colStride), buffer)
      return (UnsafePointer(buffer), true, rows)
    }
    guard let (a16, ta, lda) = round(a, rows: m, cols: k, rowStride: rowStrideA, colStride: colStrideA, slot: 0),
      let (b16, tb, ldb) = round(b, rows: k, cols: n, rowStride: rowStrideB, colStride: colStrideB, slot: 1),
      fm_bf16_matmul(
        Int32(m), Int32(n), Int32(k), alpha, a16, ta ? 1 : 0, Int32(lda), b16, tb ? 1 : 0, Int32(ldb), 0, c,
        Int32(ldc)) == 0
    else {
      bf16FallbackCount.value += 1
      return false
    }
    return true
  }

  /// The fp32 GEMM on oneDNN's matmul, on the same split as OpenBLAS's: `fairmed-bench` measures
  /// it against OpenBLAS per shape family (rows `openblas_vs_onednn_f32_*`). fp32 training stays on
  /// OpenBLAS: oneDNN was 2–18 % faster on those families here, but its result for one row of A
  /// depends on how many rows share the call (ViT-B/16's k = 768: 64 rows and 1576 rows differ in
  /// the last bits), so a sample's score would depend on its batch; OpenBLAS's does not. False
  /// where oneDNN is absent or failed (memory).
  public static func oneDNNFP32(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int
  ) -> Bool {
    splitOneDNN(
      transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
      threads: Parallel.threadCount
    ) { m, n, a, b, c in
      fm_dnnl_f32_matmul(
        Int32(m), Int32(n), Int32(k), 1, a, transA ? 1 : 0, Int32(lda), b, transB ? 1 : 0, Int32(ldb), 0, c, Int32(ldc))
    }
  }

  /// ``split(transA:transB:m:n:k:a:lda:b:ldb:c:ldc:threads:_:)`` with one oneDNN call per part
  /// (`call` returns its status); false when any part failed.
  static func splitOneDNN<T>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>,
    ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
    _ call:
      @Sendable (_ m: Int, _ n: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<Float>)
      -> Int32
  ) -> Bool {
    let failed = LockedValue(false)
    split(
      transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, threads: threads
    ) {
      m, n, a, b, c in
      if call(m, n, a, b, c) != 0 { failed.value = true }
    }
    return !failed.value
  }

  /// `OpenBLAS` directly, never oneDNN: `fairmed-bench`'s side of the backend comparison.
  public static func openBLAS(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
    ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    split(
      transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
      threads: Parallel.threadCount
    ) { m, n, a, b, c in kernel(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc) }
  }

  static let bf16FallbackCount = LockedValue(0)

  /// bf16 GEMMs computed in fp32 instead (their bf16 buffers or oneDNN's scratchpad could not be
  /// allocated); benchmarks and tests check it stays 0.
  public static var bf16Fallbacks: Int { bf16FallbackCount.value }

  @usableFromInline
  static func kernel(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    #if canImport(Accelerate)
      cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    #else
      cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
        blasint(ldc))
    #endif
  }

  /// The kernel set the BLAS library chose for this CPU (OpenBLAS's core name, e.g. `Haswell`;
  /// `OPENBLAS_CORETYPE` overrides it), for benchmark reports.
  public static var coreName: String {
    #if canImport(Accelerate)
      return "Accelerate"
    #else
      guard let name = openblas_get_corename() else { return "unknown" }
      return String(cString: name)
    #endif
  }

  /// The kernel families that decide fp32 results on this machine: OpenBLAS's core and which of
  /// FairMed's vector kernels run (AVX2+FMA or portable). Machines that differ here round
  /// differently, so a long training run from the same seed ends in different weights; run
  /// records and benchmark reports name it.
  public static var kernelFamily: String {
    "OpenBLAS core \(coreName), vector kernels \(fm_cpu_has_avx2_fma() != 0 ? "AVX2+FMA" : "portable")"
  }

  /// OpenBLAS's kernel sets that need more than SSE (names as `OPENBLAS_CORETYPE` takes them, in
  /// any case) and the instructions each needs. Forced on a CPU without them, OpenBLAS stops the
  /// process with an illegal instruction at its first GEMM (measured: SkylakeX without AVX-512).
  static let coreTypeNeeds: [String: (avx2: Bool, avx512: Bool, bf16: Bool, amx: Bool)] = [
    "haswell": (true, false, false, false), "zen": (true, false, false, false),
    "skylakex": (true, true, false, false), "cooperlake": (true, true, true, false),
    "sapphirerapids": (true, true, true, true),
  ]

  /// Why `OPENBLAS_CORETYPE=value` cannot run on a CPU with `features` (and AVX2 + FMA where
  /// `avx2`), or nil.
  static func coreTypeProblem(_ value: String, features: BF16Support.Features, avx2: Bool) -> String? {
    guard let needs = coreTypeNeeds[value.lowercased()] else { return nil }
    var missing: [String] = []
    if needs.avx2 && !avx2 { missing.append("AVX2 and FMA") }
    if needs.avx512 && !features.avx512F { missing.append("AVX-512F") }
    if needs.bf16 && !features.avx512BF16 { missing.append("AVX512_BF16") }
    if needs.amx && !features.amxBF16 { missing.append("AMX-BF16") }
    guard !missing.isEmpty else { return nil }
    let fallback = avx2 ? "Haswell runs on every AVX2 CPU" : "unset it to let OpenBLAS choose"
    return
      "an OpenBLAS kernel set this CPU can run (\(value) needs \(missing.joined(separator: " and ")), which this CPU lacks; \(fallback))"
  }

  /// Refuses an `OPENBLAS_CORETYPE` that names kernels this CPU cannot run (OpenBLAS would stop
  /// the process with an illegal instruction), as ``EnvironmentError``; part of
  /// ``validateComputeEnvironment(_:)``.
  public static func validateCoreType(
    _ environment: [String: String] = ProcessInfo.processInfo.environment,
    features: BF16Support.Features = BF16Support.features, avx2: Bool = fm_cpu_has_avx2_fma() != 0
  ) throws {
    guard let value = environment["OPENBLAS_CORETYPE"],
      let problem = coreTypeProblem(value, features: features, avx2: avx2)
    else { return }
    throw EnvironmentError(variable: "OPENBLAS_CORETYPE", value: value, expected: problem)
  }

  /// Number of threads the BLAS library itself uses for one GEMM call (FairMed keeps it at 1
  /// and splits large products itself).
  public static var threadCount: Int {
    get {
      #if canImport(Accelerate)
        return 1
      #else
        return Int(openblas_get_num_threads())
      #endif
    }
    set {
      #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(max(1, newValue)))
      #endif
    }
  }
}

/// A dense row-major matrix rounded to bf16 once, for a GEMM operand read more than once in a
/// step: a weight, rounded in the forward pass and read again by backward's input gradient, or an
/// output gradient read by both backward GEMMs.
public final class BF16Matrix: @unchecked Sendable {
  public let rows: Int, cols: Int
  let pointer: UnsafeMutablePointer<UInt16>
  /// Two bf16 values per float of the engine's buffer pool, so the next step reuses this one's.
  private let storage: TensorStorage

  /// Uninitialised.
  init(rows: Int, cols: Int) {
    self.rows = rows
    self.cols = cols
    storage = TensorStorage(uninitializedCount: (rows * cols + 1) / 2)
    // Only C (the conversion and oneDNN) reads or writes it as bf16; Swift never dereferences it.
    pointer = UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self)
  }

  /// `blocks` (each `rows × cols` fp32 at row stride `ld`) rounded one below the other, e.g. the
  /// stacked q/k/v weights.
  public convenience init(stacking blocks: [(UnsafePointer<Float>, rows: Int, ld: Int)], cols: Int) {
    self.init(rows: blocks.reduce(0) { $0 + $1.rows }, cols: cols)
    var row = 0
    var pending: [(src: SharedReads<Float>, ld: Int, rows: Int, cols: Int, dst: DisjointWrites<UInt16>)] = []
    for (p, rows, ld) in blocks {
      pending.append((SharedReads(p), ld, rows, cols, DisjointWrites(pointer + row * cols)))
      row += rows
    }
    Self.round(pending, parts: Swift.min(Parallel.threadCount, Swift.max(1, self.rows * cols / (1 << 18))))
  }

  /// Rounds each fp32 block into its destination, every block's rows split over `parts` threads.
  static func round(
    _ blocks: [(src: SharedReads<Float>, ld: Int, rows: Int, cols: Int, dst: DisjointWrites<UInt16>)], parts: Int
  ) {
    @Sendable func convert(_ p: Int) {
      for block in blocks {
        let chunk = (block.rows + parts - 1) / parts
        let lo = p * chunk, count = Swift.min(block.rows, lo + chunk) - lo
        if count > 0 {
          fm_f32_to_bf16(
            block.src.base + lo * block.ld, Int32(count), Int32(block.cols), Int32(block.ld),
            block.dst.base + lo * block.cols)
        }
      }
    }
    if parts <= 1 { convert(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: convert) }
  }
}

/// Checks every environment variable FairMed's computation reads: the `FAIRMED_*` ones
/// (``Support/validateEnvironment(_:)``) and `OPENBLAS_CORETYPE` (``BLAS/validateCoreType(_:features:)``).
/// The `fairmed` command calls it before any command, and the library's entry points (training,
/// prediction, studies, feature export) call it too.
public func validateComputeEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
  try validateEnvironment(environment)
  try BLAS.validateCoreType(environment)
}
