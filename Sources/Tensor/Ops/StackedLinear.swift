import Support
/// Several affine maps of one input as one GEMM: `x · [W₁; W₂; …]ᵀ + [b₁, b₂, …] + [a₁, a₂, …]`,
/// each `Wᵢ` in the Hugging Face layout `[outᵢ, in]`. The result is `[..., Σ outᵢ]`, the maps'
/// outputs side by side (a fused q/k/v projection). A missing bias adds zeros; an addend `aᵢ`
/// (`[..., outᵢ]`, e.g. a LoRA term) is written into its slice before the GEMM accumulates onto
/// it, so no extra full-width tensor is kept for backward. Backward runs one GEMM for the input's
/// gradient and one for all the weights' (their gradients are views of it).
public func linear(_ x: Tensor, stackedWeights weights: [Tensor], biases: [Tensor?], addends: [Tensor?] = []) throws
  -> Tensor
{
  let addends = addends.isEmpty ? [Tensor?](repeating: nil, count: weights.count) : addends
  guard !weights.isEmpty, biases.count == weights.count, addends.count == weights.count else {
    throw TensorError.invalidArgument(
      "linear(stackedWeights:): \(weights.count) weights, \(biases.count) biases, \(addends.count) addends")
  }
  guard x.rank >= 1 else { throw TensorError.shapeMismatch(op: "linear", lhs: x.shape, rhs: weights[0].shape) }
  let inF = x.shape[x.rank - 1], rowShape = Array(x.shape.dropLast())
  for ((w, b), a) in zip(zip(weights, biases), addends) {
    guard w.rank == 2, w.shape[1] == inF else {
      throw TensorError.shapeMismatch(op: "linear", lhs: x.shape, rhs: w.shape)
    }
    if let b, b.shape != [w.shape[0]] {
      throw TensorError.shapeMismatch(op: "linear (bias)", lhs: w.shape, rhs: b.shape)
    }
    if let a, a.shape != rowShape + [w.shape[0]] {
      throw TensorError.shapeMismatch(op: "linear (addend)", lhs: w.shape, rhs: a.shape)
    }
  }
  let layout = StackedLayout(outs: weights.map { $0.shape[0] }, inF: inF, rows: x.count / Swift.max(inF, 1))
  let out = Tensor(uninitialized: rowShape + [layout.total])
  let accumulate = layout.fill(out.pointer, biases: biases, addends: addends)
  // Under bf16 the weights are rounded once here and read again by backward's input gradient.
  let rounded = layout.roundedWeights(weights)
  let done =
    rounded.map { w16 in
      BLAS.gemm(
        transA: false, transB: true, m: layout.rows, n: layout.total, k: inF, a: .float(x.pointer, ld: inF),
        b: .rounded(w16), beta: accumulate ? 1 : 0, c: out.pointer, ldc: layout.total)
    } ?? false
  if !done {
    withExtendedLifetime(layout.stack(weights)) { stacked in
      BLAS.sgemm(
        transA: false, transB: true, m: layout.rows, n: layout.total, k: inF, a: x.pointer, lda: inF,
        b: stacked.pointer, ldb: inF, beta: accumulate ? 1 : 0, c: out.pointer, ldc: layout.total)
    }
  }
  let keptWeights = x.requiresGrad && done ? rounded : nil, backwardInBF16 = done
  let presentBiases = biases.compactMap { $0 }, presentAddends = addends.compactMap { $0 }
  return Tensor.record(
    out, op: weights.count == 1 ? "linear" : "linear(stackedWeights:)",
    inputs: [x] + weights + presentBiases + presentAddends
  ) { g in
    var gx: Tensor? = nil
    // Under bf16, g is rounded once for both GEMMs.
    let g16 =
      backwardInBF16
      ? BF16Matrix(stacking: [(UnsafePointer(g.pointer), layout.rows, layout.total)], cols: layout.total) : nil
    if x.requiresGrad {  // fp32: the weights are stacked again rather than kept from the forward pass
      let r = Tensor(uninitialized: x.shape)
      var done = false
      if let w16 = keptWeights, let g16 {
        done = BLAS.gemm(
          transA: false, transB: false, m: layout.rows, n: inF, k: layout.total, a: .rounded(g16),
          b: .rounded(w16), c: r.pointer, ldc: inF)
      }
      if !done {
        withExtendedLifetime(layout.stack(weights)) { stacked in
          BLAS.sgemm(
            transA: false, transB: false, m: layout.rows, n: inF, k: layout.total, a: g.pointer, lda: layout.total,
            b: stacked.pointer, ldb: inF, c: r.pointer, ldc: inF)
        }
      }
      gx = r
    }
    return [gx] + layout.weightGradients(g, rounded: g16, x: x, weights: weights)
      + layout.biasGradients(g, biases: biases)
      + layout.addendGradients(g, addends: addends)
  }
}

/// Column slices of a stacked projection: slice `i` holds `outs[i]` of `total` columns.
struct StackedLayout {
  let outs: [Int], inF: Int, rows: Int
  let starts: [Int], total: Int

  init(outs: [Int], inF: Int, rows: Int) {
    self.outs = outs
    self.inF = inF
    self.rows = rows
    starts = outs.indices.map { i in outs[..<i].reduce(0, +) }
    total = outs.reduce(0, +)
  }

  /// `[total, inF]`: the weights one above the other (a single weight as it is).
  func stack(_ weights: [Tensor]) -> Tensor {
    if weights.count == 1 { return weights[0] }
    let stacked = Tensor(uninitialized: [total, inF])
    for (w, start) in zip(weights, starts) { (stacked.pointer + start * inF).update(from: w.pointer, count: w.count) }
    return stacked
  }

  /// Under ``Precision/bf16`` with enough work for it (``BLAS/roundsToBF16(m:n:k:)``): the weights
  /// rounded to bf16, one above the other; else (or out of memory) nil.
  func roundedWeights(_ weights: [Tensor]) -> BF16Matrix? {
    guard BLAS.roundsToBF16(m: rows, n: total, k: inF) else { return nil }
    return BF16Matrix(stacking: weights.map { (UnsafePointer($0.pointer), $0.shape[0], inF) }, cols: inF)
  }

  /// Writes each row's biases plus addends into `out`; false (out untouched) when there are none.
  func fill(_ out: UnsafeMutablePointer<Float>, biases: [Tensor?], addends: [Tensor?]) -> Bool {
    guard biases.contains(where: { $0 != nil }) || addends.contains(where: { $0 != nil }) else { return false }
    let pb = biases.map { $0.map { SharedReads($0.pointer) } }, pa = addends.map { $0.map { SharedReads($0.pointer) } }
    let out = DisjointWrites(out)  // each row has one worker
    Parallel.forRange(rows, grain: Swift.max(1, Parallel.grain / Swift.max(total, 1))) { r in
      for row in r {
        for (i, (start, n)) in zip(starts, outs).enumerated() {
          let dst = out + row * total + start
          switch (pb[i]?.base, pa[i]?.base) {
          case (nil, nil): dst.update(repeating: 0, count: n)
          case (let b?, nil): dst.update(from: b, count: n)
          case (nil, let a?): dst.update(from: a + row * n, count: n)
          case (let b?, let a?): for j in 0..<n { dst[j] = a[row * n + j] + b[j] }
          }
        }
      }
    }
    return true
  }

  /// One GEMM `gᵀ x` for every weight; each trained weight's gradient is a view of it.
  /// `rounded`: `g` already rounded to bf16 (under ``Precision/bf16``).
  func weightGradients(_ g: Tensor, rounded: BF16Matrix?, x: Tensor, weights: [Tensor]) -> [Tensor?] {
    guard weights.contains(where: { $0.requiresGrad }) else { return weights.map { _ in nil } }
    let all = Tensor(uninitialized: [total, inF])
    let done =
      rounded.map { g16 in
        BLAS.gemm(
          transA: true, transB: false, m: total, n: inF, k: rows, a: .rounded(g16), b: .float(x.pointer, ld: inF),
          c: all.pointer, ldc: inF)
      } ?? false
    if !done {
      BLAS.sgemm(
        transA: true, transB: false, m: total, n: inF, k: rows, a: g.pointer, lda: total,
        b: x.pointer, ldb: inF, c: all.pointer, ldc: inF)
    }
    return weights.indices.map { i in
      weights[i].requiresGrad ? Tensor(shape: weights[i].shape, storage: all.storage, offset: starts[i] * inF) : nil
    }
  }

  /// Column sums of `g` as views, one per present bias (nil where it is not trained).
  func biasGradients(_ g: Tensor, biases: [Tensor?]) -> [Tensor?] {
    let present = biases.indices.filter { biases[$0] != nil }
    guard present.contains(where: { biases[$0]?.requiresGrad == true }) else { return present.map { _ in nil } }
    let sums = columnSums(g.pointer, rows: rows, cols: total)
    return present.map { i in
      biases[i]?.requiresGrad == true ? Tensor(shape: [outs[i]], storage: sums.storage, offset: starts[i]) : nil
    }
  }

  /// Each present addend's gradient: its slice of `g`, copied out.
  func addendGradients(_ g: Tensor, addends: [Tensor?]) -> [Tensor?] {
    addends.indices.compactMap { i -> Tensor?? in
      guard let a = addends[i] else { return nil }
      guard a.requiresGrad else { return .some(nil) }
      let r = Tensor(uninitialized: a.shape)
      let n = outs[i], src = SharedReads(g.pointer + starts[i]), dst = DisjointWrites(r.pointer)
      Parallel.forRange(rows, grain: Swift.max(1, Parallel.grain / Swift.max(n, 1))) { range in
        for row in range { (dst + row * n).update(from: src + row * total, count: n) }
      }
      return .some(r)
    }
  }
}
