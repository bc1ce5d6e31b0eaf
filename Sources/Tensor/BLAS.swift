import Support
import Dispatch

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
