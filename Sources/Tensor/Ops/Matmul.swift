import Support
/// Matrix products. Every GEMM goes to BLAS; transposes are BLAS flags, never copies.
extension Tensor {
  /// Runs `batch` GEMMs `C_i = op(A_i) op(B_i) (+ beta C_i)`, in parallel over the batch when the
  /// matrices are too small for BLAS to use all cores itself.
  static func gemmBatch(
    _ a: UnsafePointer<Float>, _ ta: Bool, strideA: Int,
    _ b: UnsafePointer<Float>, _ tb: Bool, strideB: Int,
    _ c: UnsafeMutablePointer<Float>, strideC: Int,
    m: Int, n: Int, k: Int, batch: Int, beta: Float = 0
  ) {
    let lda = ta ? m : k, ldb = tb ? k : n
    if batch > 1 && m * n * k < 1 << 22 {
      let a = SharedReads(a), b = SharedReads(b), c = DisjointWrites(c)  // batch i writes its own c
      Parallel.forEach(batch) { i in
        BLAS.sgemm(
          transA: ta, transB: tb, m: m, n: n, k: k, a: a + i * strideA, lda: lda,
          b: b + i * strideB, ldb: ldb, beta: beta, c: c + i * strideC, ldc: n, threads: 1)
      }
    } else {
      for i in 0..<batch {
        BLAS.sgemm(
          transA: ta, transB: tb, m: m, n: n, k: k, a: a + i * strideA, lda: lda,
          b: b + i * strideB, ldb: ldb, beta: beta, c: c + i * strideC, ldc: n)
      }
    }
  }
}

/// Matrix product of the last two axes, `op(a) · op(b)`, with `op` an optional transpose.
///
/// Shapes: `a` is `[..., M, K]` (`[..., K, M]` when `transposeA`), `b` is `[..., K, N]`
/// (`[..., N, K]` when `transposeB`). The batch axes of `a` and `b` must be equal, or `b` is 2-D
/// and shared by every matrix of `a` (then one large GEMM runs).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
  guard a.rank >= 2, b.rank >= 2 else { throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape) }
  let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
  let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
  let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
  let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
  let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
  guard k == kb, batchA == batchB || batchB.isEmpty else {
    throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape)
  }
  let batch = batchA.reduce(1, *)
  let out = Tensor(uninitialized: batchA + [m, n])
  let sharedB = batchB.isEmpty
  if sharedB && !transposeA {
    BLAS.sgemm(
      transA: false, transB: transposeB, m: batch * m, n: n, k: k, a: a.pointer, lda: k,
      b: b.pointer, ldb: transposeB ? k : n, c: out.pointer, ldc: n)
  } else {
    Tensor.gemmBatch(
      a.pointer, transposeA, strideA: m * k, b.pointer, transposeB, strideB: sharedB ? 0 : k * n,
      out.pointer, strideC: m * n, m: m, n: n, k: k, batch: batch)
  }
  return Tensor.record(out, op: "matmul", inputs: [a, b]) { g in
    var ga: Tensor? = nil, gb: Tensor? = nil
    if a.requiresGrad {
      let r = Tensor(uninitialized: a.shape)
      if !transposeA {  // dA = dC · op(B)ᵀ
        Tensor.gemmBatch(
          g.pointer, false, strideA: m * n, b.pointer, !transposeB, strideB: sharedB ? 0 : k * n,
          r.pointer, strideC: m * k, m: m, n: k, k: n, batch: batch)
      } else {  // dA = op(B) · dCᵀ
        Tensor.gemmBatch(
          b.pointer, transposeB, strideA: sharedB ? 0 : k * n, g.pointer, true, strideB: m * n,
          r.pointer, strideC: m * k, m: k, n: m, k: n, batch: batch)
      }
      ga = r
    }
    if b.requiresGrad {
      let r = Tensor(uninitialized: b.shape)
      if sharedB && !transposeA {
        // Shared B: the batch folds into the GEMM's inner dimension.
        if !transposeB {
          BLAS.sgemm(
            transA: true, transB: false, m: k, n: n, k: batch * m, a: a.pointer, lda: k,
            b: g.pointer, ldb: n, c: r.pointer, ldc: n)
        } else {
          BLAS.sgemm(
            transA: true, transB: false, m: n, n: k, k: batch * m, a: g.pointer, lda: n,
            b: a.pointer, ldb: k, c: r.pointer, ldc: k)
        }
      } else {
        for i in 0..<batch {
          let beta: Float = (sharedB && i > 0) ? 1 : 0
          let dst = r.pointer + (sharedB ? 0 : i * k * n)
          if !transposeB {  // dB = op(A)ᵀ · dC
            BLAS.sgemm(
              transA: !transposeA, transB: false, m: k, n: n, k: m, a: a.pointer + i * m * k,
              lda: transposeA ? m : k, b: g.pointer + i * m * n, ldb: n, beta: beta, c: dst, ldc: n)
          } else {  // dB = dCᵀ · op(A)
            BLAS.sgemm(
              transA: true, transB: transposeA, m: n, n: k, k: m, a: g.pointer + i * m * n, lda: n,
              b: a.pointer + i * m * k, ldb: transposeA ? m : k, beta: beta, c: dst, ldc: k)
          }
        }
      }
      gb = r
    }
    return [ga, gb]
  }
}

/// Affine map `x · Wᵀ + b` with the Hugging Face weight layout `W: [out, in]`; the bias is added
/// by the GEMM itself (beta = 1 over bias rows). One map of ``linear(_:stackedWeights:biases:addends:)``.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
  try linear(x, stackedWeights: [weight], biases: [bias])
}

/// Column sums of a row-major `[rows, cols]` buffer (bias gradients), split over column blocks.
func columnSums(_ p: UnsafePointer<Float>, rows: Int, cols: Int) -> Tensor {
  let out = Tensor.zeros([cols])
  let po = DisjointWrites(out.pointer), p = SharedReads(p)  // each column block has one worker
  let block = 256
  Parallel.forRange((cols + block - 1) / block, grain: Swift.max(1, Parallel.grain / Swift.max(rows * block, 1))) {
    blocks in
    for bi in blocks {
      let lo = bi * block, hi = Swift.min(cols, lo + block)
      for r in 0..<rows {
        let row = p + r * cols
        for j in lo..<hi { po[j] += row[j] }
      }
    }
  }
  return out
}
