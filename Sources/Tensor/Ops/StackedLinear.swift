/// Several affine maps of one input as one GEMM: `x · [W₁; W₂; …]ᵀ + [b₁, b₂, …]`, each `Wᵢ` in the
/// Hugging Face layout `[outᵢ, in]`. The result is `[..., Σ outᵢ]`, the maps' outputs side by side
/// (a fused q/k/v projection). A missing bias adds zeros. Backward runs one GEMM for the input's
/// gradient and one for all the weights' (their gradients are views of it).
public func linear(_ x: Tensor, stackedWeights weights: [Tensor], biases: [Tensor?]) throws -> Tensor {
  guard !weights.isEmpty, biases.count == weights.count, x.rank >= 1 else {
    throw TensorError.invalidArgument("linear(stackedWeights:): \(weights.count) weights, \(biases.count) biases")
  }
  let inF = x.shape[x.rank - 1]
  for (w, b) in zip(weights, biases) {
    guard w.rank == 2, w.shape[1] == inF else { throw TensorError.shapeMismatch(op: "linear (stacked)", lhs: x.shape, rhs: w.shape) }
    if let b, b.shape != [w.shape[0]] { throw TensorError.shapeMismatch(op: "linear (stacked bias)", lhs: w.shape, rhs: b.shape) }
  }
  let outs = weights.map { $0.shape[0] }
  let total = outs.reduce(0, +)
  let starts = outs.indices.map { i in outs[..<i].reduce(0, +) }
  let stacked = Tensor(uninitialized: [total, inF])
  for (w, start) in zip(weights, starts) { (stacked.pointer + start * inF).update(from: w.pointer, count: w.count) }
  let hasBias = biases.contains { $0 != nil }
  let bias = Tensor(uninitialized: [total])
  if hasBias {
    for ((b, start), n) in zip(zip(biases, starts), outs) {
      if let b { (bias.pointer + start).update(from: b.pointer, count: n) } else { (bias.pointer + start).update(repeating: 0, count: n) }
    }
  }
  let rows = x.count / Swift.max(inF, 1)
  let out = Tensor(uninitialized: Array(x.shape.dropLast()) + [total])
  let po = out.pointer
  if hasBias {
    let pb = bias.pointer
    Parallel.forRange(rows, grain: Swift.max(1, Parallel.grain / Swift.max(total, 1))) { r in
      for i in r { (po + i * total).update(from: pb, count: total) }
    }
  }
  BLAS.sgemm(transA: false, transB: true, m: rows, n: total, k: inF, a: x.pointer, lda: inF,
    b: stacked.pointer, ldb: inF, beta: hasBias ? 1 : 0, c: po, ldc: total)
  let presentBiases = biases.compactMap { $0 }
  return Tensor.record(out, op: "linear(stackedWeights:)", inputs: [x] + weights + presentBiases) { g in
    var gx: Tensor? = nil
    if x.requiresGrad {
      let r = Tensor(uninitialized: x.shape)
      BLAS.sgemm(transA: false, transB: false, m: rows, n: inF, k: total, a: g.pointer, lda: total,
        b: stacked.pointer, ldb: inF, c: r.pointer, ldc: inF)
      gx = r
    }
    var gw = [Tensor?](repeating: nil, count: weights.count)
    if weights.contains(where: { $0.requiresGrad }) {
      let all = Tensor(uninitialized: [total, inF])
      BLAS.sgemm(transA: true, transB: false, m: total, n: inF, k: rows, a: g.pointer, lda: total,
        b: x.pointer, ldb: inF, c: all.pointer, ldc: inF)
      for i in weights.indices where weights[i].requiresGrad {
        gw[i] = Tensor(shape: weights[i].shape, storage: all.storage, offset: starts[i] * inF)
      }
    }
    var gb: [Tensor?] = []
    if presentBiases.contains(where: { $0.requiresGrad }) {
      let sums = columnSums(g.pointer, rows: rows, cols: total)
      for i in biases.indices { if let b = biases[i] { gb.append(b.requiresGrad ? Tensor(shape: b.shape, storage: sums.storage, offset: starts[i]) : nil) } }
    } else {
      gb = presentBiases.map { _ in nil }
    }
    return [gx] + gw + gb
  }
}
