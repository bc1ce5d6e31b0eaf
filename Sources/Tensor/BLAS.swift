import CBF16GEMM
import Dispatch
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
    let parts = min(threads, max(1, (m * n * k) / (1 << 20)))
    if parts <= 1 {
      kernel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    } else if m >= n || m >= 64 * parts {
      // Each part writes its own rows (or, below, columns) of c.
      let a = SharedReads(a), b = SharedReads(b), c = DisjointWrites(c)
      let chunk = (m + parts - 1) / parts
      DispatchQueue.concurrentPerform(iterations: parts) { p in
        let lo = p * chunk, rows = min(m, lo + chunk) - lo
        guard rows > 0 else { return }
        kernel(
          transA, transB, rows, n, k, alpha, transA ? a + lo : a + lo * lda, lda, b.base, ldb, beta, c + lo * ldc, ldc)
      }
    } else {
      let a = SharedReads(a), b = SharedReads(b), c = DisjointWrites(c)
      let chunk = (n + parts - 1) / parts
      DispatchQueue.concurrentPerform(iterations: parts) { p in
        let lo = p * chunk, cols = min(n, lo + chunk) - lo
        guard cols > 0 else { return }
        kernel(transA, transB, m, cols, k, alpha, a.base, lda, transB ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc)
      }
    }
  }

  /// The bf16 GEMM (``Precision/bf16``): both operands rounded to bf16 into the calling thread's
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
    let (rowsA, colsA) = transA ? (k, m) : (m, k)
    let (rowsB, colsB) = transB ? (n, k) : (k, n)
    guard let a16 = fm_bf16_buffer(0, rowsA * colsA), let b16 = fm_bf16_buffer(1, rowsB * colsB) else {
      bf16FallbackCount.value += 1
      return false
    }
    let convertParts = min(threads, max(1, (rowsA * colsA + rowsB * colsB) / (1 << 18)))
    do {
      let a = SharedReads(a), b = SharedReads(b), a16 = DisjointWrites(a16), b16 = DisjointWrites(b16)
      @Sendable func convert(_ p: Int) {
        for (src, dst, rows, cols, ld) in [(a, a16, rowsA, colsA, lda), (b, b16, rowsB, colsB, ldb)] {
          let chunk = (rows + convertParts - 1) / convertParts
          let lo = p * chunk, count = min(rows, lo + chunk) - lo
          if count > 0 { fm_f32_to_bf16(src.base + lo * ld, Int32(count), Int32(cols), Int32(ld), dst + lo * cols) }
        }
      }
      if convertParts <= 1 {
        convert(0)
      } else {
        DispatchQueue.concurrentPerform(iterations: convertParts, execute: convert)
      }
    }
    let parts = min(threads, max(1, (m * n * k) / (1 << 20)))
    let failed = LockedValue(false)
    let a = SharedReads(UnsafePointer(a16)), b = SharedReads(UnsafePointer(b16)), c = DisjointWrites(c)
    let byRows = m >= n || m >= 64 * parts
    let chunk = byRows ? (m + parts - 1) / parts : (n + parts - 1) / parts
    @Sendable func part(_ p: Int) {
      let lo = p * chunk, count = min(byRows ? m : n, lo + chunk) - lo
      guard count > 0 else { return }
      let status =
        byRows
        ? fm_bf16_matmul(
          Int32(count), Int32(n), Int32(k), alpha, transA ? a + lo : a + lo * colsA, transA ? 1 : 0, Int32(colsA),
          b.base, transB ? 1 : 0, Int32(colsB), beta, c + lo * ldc, Int32(ldc))
        : fm_bf16_matmul(
          Int32(m), Int32(count), Int32(k), alpha, a.base, transA ? 1 : 0, Int32(colsA),
          transB ? b + lo * colsB : b + lo, transB ? 1 : 0, Int32(colsB), beta, c + lo, Int32(ldc))
      if status != 0 { failed.value = true }
    }
    if parts <= 1 { part(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: part) }
    guard failed.value else { return true }
    // oneDNN implements every plain-layout bf16 matmul, so only memory can run out here. With
    // beta 0 the fp32 path overwrites C whole; with beta ≠ 0 a part may already have added into C.
    precondition(beta == 0, "oneDNN's bf16 matmul failed on \(m)×\(n)×\(k) after updating part of C")
    bf16FallbackCount.value += 1
    return false
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
