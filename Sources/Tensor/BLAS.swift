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
  /// so strided sub-matrices (one attention head inside `[T, H·D]`) need no copy.
  @inlinable
  public static func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    if m == 0 || n == 0 { return }
    if k == 0 {
      if beta == 0 {
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
      } else if beta != 1 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
      }
      return
    }
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

  /// Number of threads the BLAS library itself uses for one large GEMM.
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
