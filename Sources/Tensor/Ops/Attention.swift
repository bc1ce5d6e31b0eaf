/// Fused scaled dot-product attention on packed heads.
///
/// `q`: `[B, Tq, H·D]`, `k`, `v`: `[B, Tk, H·D]` (exactly what the q/k/v projections produce);
/// returns `softmax(Q Kᵀ / √D + mask) V` as `[B, Tq, H·D]`. Each head is a strided sub-matrix
/// (leading dimension H·D), so no permute copies are made; the only stored intermediate is the
/// probability tensor `[B, H, Tq, Tk]` needed for backward. With `causal`, query i sees keys ≤ i;
/// with `keyMask` (`[B·Tk]`, false = padding, as BERT's attention mask) no query sees a masked key.
public func scaledDotProductAttention(
  _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, causal: Bool = false, keyMask: [Bool]? = nil
) throws -> Tensor {
  guard q.rank == 3, k.rank == 3, v.shape == k.shape, q.shape[0] == k.shape[0], q.shape[2] == k.shape[2],
    heads > 0, q.shape[2] % heads == 0
  else { throw TensorError.shapeMismatch(op: "scaledDotProductAttention (heads \(heads))", lhs: q.shape, rhs: k.shape) }
  let b = q.shape[0], tq = q.shape[1], tk = k.shape[1], width = q.shape[2], d = width / heads
  if let keyMask {
    guard keyMask.count == b * tk else {
      throw TensorError.invalidArgument("scaledDotProductAttention: key mask of \(keyMask.count) for \(b)×\(tk) keys")
    }
    for bi in 0..<b where !keyMask[(bi * tk)..<((bi + 1) * tk)].contains(true) {
      throw TensorError.invalidArgument("scaledDotProductAttention: row \(bi) masks every key")
    }
  }
  let scale = 1 / Float(d).squareRoot()
  let probs = Tensor(uninitialized: [b, heads, tq, tk])
  let out = Tensor(uninitialized: q.shape)
  let pq = q.pointer, pk = k.pointer, pv = v.pointer, pp = probs.pointer, po = out.pointer
  Parallel.forEach(b * heads) { bh in
    let bi = bh / heads, h = bh % heads
    let qh = pq + bi * tq * width + h * d, kh = pk + bi * tk * width + h * d
    let vh = pv + bi * tk * width + h * d, oh = po + bi * tq * width + h * d
    let p = pp + bh * tq * tk
    BLAS.sgemm(transA: false, transB: true, m: tq, n: tk, k: d, alpha: scale, a: qh, lda: width,
      b: kh, ldb: width, c: p, ldc: tk, threads: 1)
    for i in 0..<tq {
      let row = p + i * tk
      if causal && i + 1 < tk { (row + i + 1).update(repeating: -.infinity, count: tk - i - 1) }
      if let keyMask { for j in 0..<tk where !keyMask[bi * tk + j] { row[j] = -.infinity } }
      Tensor.softmaxLane(row, row, tk, 1)
    }
    BLAS.sgemm(transA: false, transB: false, m: tq, n: d, k: tk, a: p, lda: tk, b: vh, ldb: width,
      c: oh, ldc: width, threads: 1)
  }
  return Tensor.record(out, op: "scaledDotProductAttention", inputs: [q, k, v]) { [probs] g in
    _ = probs  // the saved probabilities behind `pp`
    let gq = Tensor(uninitialized: q.shape), gk = Tensor(uninitialized: k.shape)
    let gv = Tensor(uninitialized: v.shape)
    let pg = g.pointer, pgq = gq.pointer, pgk = gk.pointer, pgv = gv.pointer
    let scratch = Tensor(uninitialized: [Parallel.threadCount, tq, tk])
    let slots = SlotAllocator(Parallel.threadCount)
    Parallel.forEach(b * heads) { bh in
      let bi = bh / heads, h = bh % heads
      let off = h * d
      let qh = pq + bi * tq * width + off, kh = pk + bi * tk * width + off, vh = pv + bi * tk * width + off
      let goh = pg + bi * tq * width + off
      let p = pp + bh * tq * tk
      let slot = slots.acquire()
      defer { slots.release(slot) }
      let ds = scratch.pointer + slot * tq * tk
      // dV = Pᵀ dO
      BLAS.sgemm(transA: true, transB: false, m: tk, n: d, k: tq, a: p, lda: tk, b: goh, ldb: width,
        c: pgv + bi * tk * width + off, ldc: width, threads: 1)
      // dP = dO Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
      BLAS.sgemm(transA: false, transB: true, m: tq, n: tk, k: d, a: goh, lda: width, b: vh, ldb: width,
        c: ds, ldc: tk, threads: 1)
      for i in 0..<tq { fm_softmax_backward_row(p + i * tk, ds + i * tk, tk, scale) }
      // dQ = dS K, dK = dSᵀ Q
      BLAS.sgemm(transA: false, transB: false, m: tq, n: d, k: tk, a: ds, lda: tk, b: kh, ldb: width,
        c: pgq + bi * tq * width + off, ldc: width, threads: 1)
      BLAS.sgemm(transA: true, transB: false, m: tk, n: d, k: tq, a: ds, lda: tk, b: qh, ldb: width,
        c: pgk + bi * tk * width + off, ldc: width, threads: 1)
    }
    return [gq, gk, gv]
  }
}

/// Hands out per-thread scratch slots inside `Parallel.forEach`.
final class SlotAllocator: @unchecked Sendable {
  private var free: [Int]
  private let lock = NSLock()
  init(_ n: Int) { free = Array(0..<n) }
  func acquire() -> Int {
    lock.lock()
    defer { lock.unlock() }
    return free.removeLast()
  }
  func release(_ s: Int) {
    lock.lock()
    free.append(s)
    lock.unlock()
  }
}

import CVectorKernels
import Foundation
