import Support
import CVectorKernels
import Foundation

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
  let width = q.shape[2]
  let layout = AttentionLayout(
    batch: q.shape[0], heads: heads, headWidth: width / heads, queries: q.shape[1],
    keys: k.shape[1], queryRow: width, keyRow: width)
  try layout.check(keyMask: keyMask)
  let (out, probs) = layout.forward(q: q.pointer, k: k.pointer, v: v.pointer, causal: causal, keyMask: keyMask)
  return Tensor.record(out, op: "scaledDotProductAttention", inputs: [q, k, v]) { g in
    let gq = Tensor(uninitialized: q.shape), gk = Tensor(uninitialized: k.shape), gv = Tensor(uninitialized: v.shape)
    layout.backward(
      g.pointer, probs: probs, q: q.pointer, k: k.pointer, v: v.pointer,
      gq: gq.pointer, gk: gk.pointer, gv: gv.pointer)
    return [gq, gk, gv]
  }
}

/// Self-attention on one packed projection `qkv: [B, T, 3·H·D]` (q, k and v side by side on each
/// row, as one fused q/k/v GEMM writes them). Same result as the three-tensor form; its gradient
/// is one packed tensor too, so the projection's backward is one GEMM.
public func scaledDotProductAttention(
  packed qkv: Tensor, heads: Int, causal: Bool = false, keyMask: [Bool]? = nil
) throws -> Tensor {
  guard qkv.rank == 3, qkv.shape[2] % 3 == 0, heads > 0, (qkv.shape[2] / 3) % heads == 0 else {
    throw TensorError.invalidArgument(
      "scaledDotProductAttention(packed:): shape \(qkv.shape) is not [B, T, 3·\(heads)·D]")
  }
  let width = qkv.shape[2] / 3, tokens = qkv.shape[1]
  let layout = AttentionLayout(
    batch: qkv.shape[0], heads: heads, headWidth: width / heads, queries: tokens,
    keys: tokens, queryRow: 3 * width, keyRow: 3 * width)
  try layout.check(keyMask: keyMask)
  let base = qkv.pointer
  let (out, probs) = layout.forward(q: base, k: base + width, v: base + 2 * width, causal: causal, keyMask: keyMask)
  return Tensor.record(out, op: "scaledDotProductAttention(packed:)", inputs: [qkv]) { g in
    let gqkv = Tensor(uninitialized: qkv.shape)
    let gp = gqkv.pointer
    layout.backward(
      g.pointer, probs: probs, q: base, k: base + width, v: base + 2 * width,
      gq: gp, gk: gp + width, gv: gp + 2 * width)
    return [gqkv]
  }
}

/// Where the heads of q, k and v lie: row strides of the query and key/value matrices (the
/// width for separate tensors, 3× the width for a packed projection); gradients use the same.
struct AttentionLayout {
  let batch: Int, heads: Int, headWidth: Int, queries: Int, keys: Int
  let queryRow: Int, keyRow: Int

  var width: Int { heads * headWidth }

  func check(keyMask: [Bool]?) throws {
    guard let keyMask else { return }
    guard keyMask.count == batch * keys else {
      throw TensorError.invalidArgument(
        "scaledDotProductAttention: key mask of \(keyMask.count) for \(batch)×\(keys) keys")
    }
    for bi in 0..<batch where !keyMask[(bi * keys)..<((bi + 1) * keys)].contains(true) {
      throw TensorError.invalidArgument("scaledDotProductAttention: row \(bi) masks every key")
    }
  }

  /// The output `[B, Tq, H·D]` and the probabilities `[B, H, Tq, Tk]` saved for backward.
  func forward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, causal: Bool, keyMask: [Bool]?
  ) -> (Tensor, Tensor) {
    let tq = queries, tk = keys, d = headWidth, w = width
    let scale = 1 / Float(d).squareRoot()
    let probs = Tensor(uninitialized: [batch, heads, tq, tk])
    let out = Tensor(uninitialized: [batch, tq, w])
    // Each (batch, head) task writes its own probability block and its head's output columns.
    let writes = (DisjointWrites(probs.pointer), DisjointWrites(out.pointer)),
      reads = (SharedReads(q), SharedReads(k), SharedReads(v))
    let scratch = ThreadScratch(count: d * tk)
    let products = HeadProducts()
    Parallel.forEach(batch * heads) { bh in
      let (pp, po) = (writes.0.base, writes.1.base), (q, k, v) = (reads.0.base, reads.1.base, reads.2.base)
      let bi = bh / heads, h = bh % heads
      let qh = q + bi * tq * queryRow + h * d, kh = k + bi * tk * keyRow + h * d, vh = v + bi * tk * keyRow + h * d
      let p = pp + bh * tq * tk
      if !products.bf16(tq, tk, d, scale, qh, queryRow, 1, kh, 1, keyRow, p, tk) {
        scratch.with { kt in
          fm_transpose(tk, d, kh, keyRow, kt, tk)
          fm_small_gemm(tq, tk, d, scale, qh, queryRow, 1, kt, tk, 0, p, tk)
        }
      }
      for i in 0..<tq {
        let row = p + i * tk
        if causal && i + 1 < tk { (row + i + 1).update(repeating: -.infinity, count: tk - i - 1) }
        if let keyMask { for j in 0..<tk where !keyMask[bi * tk + j] { row[j] = -.infinity } }
        Tensor.softmaxLane(row, row, tk, 1)
      }
      if !products.bf16(tq, d, tk, 1, p, tk, 1, vh, keyRow, 1, po + bi * tq * w + h * d, w) {
        fm_small_gemm(tq, d, tk, 1, p, tk, 1, vh, keyRow, 0, po + bi * tq * w + h * d, w)
      }
    }
    return (out, probs)
  }

  /// Writes dQ, dK, dV (strided as q, k, v) from the output gradient `g: [B, Tq, H·D]`.
  func backward(
    _ g: UnsafePointer<Float>, probs: Tensor, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    gq: UnsafeMutablePointer<Float>, gk: UnsafeMutablePointer<Float>, gv: UnsafeMutablePointer<Float>
  ) {
    let tq = queries, tk = keys, d = headWidth, w = width
    let scale = 1 / Float(d).squareRoot()
    // Each (batch, head) task writes its own head's slices of dQ, dK and dV.
    let reads = (SharedReads(g), SharedReads(probs.pointer), SharedReads(q), SharedReads(k), SharedReads(v))
    let writes = (DisjointWrites(gq), DisjointWrites(gk), DisjointWrites(gv))
    let scratch = ThreadScratch(count: tq * tk + d * tk)
    let products = HeadProducts()
    Parallel.forEach(batch * heads) { bh in
      let (g, pp, q, k, v) = (reads.0.base, reads.1.base, reads.2.base, reads.3.base, reads.4.base)
      let (gq, gk, gv) = (writes.0.base, writes.1.base, writes.2.base)
      let bi = bh / heads, h = bh % heads
      let qo = bi * tq * queryRow + h * d, ko = bi * tk * keyRow + h * d
      let goh = g + bi * tq * w + h * d
      let p = pp + bh * tq * tk
      scratch.with { buffer in
        let ds = buffer, vt = buffer + tq * tk
        // dV = Pᵀ dO
        if !products.bf16(tk, d, tq, 1, p, 1, tk, goh, w, 1, gv + ko, keyRow) {
          fm_small_gemm(tk, d, tq, 1, p, 1, tk, goh, w, 0, gv + ko, keyRow)
        }
        // dP = dO Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
        if !products.bf16(tq, tk, d, 1, goh, w, 1, v + ko, 1, keyRow, ds, tk) {
          fm_transpose(tk, d, v + ko, keyRow, vt, tk)
          fm_small_gemm(tq, tk, d, 1, goh, w, 1, vt, tk, 0, ds, tk)
        }
        for i in 0..<tq { fm_softmax_backward_row(p + i * tk, ds + i * tk, tk, scale) }
        // dQ = dS K, dK = dSᵀ Q
        if !products.bf16(tq, d, tk, 1, ds, tk, 1, k + ko, keyRow, 1, gq + qo, queryRow) {
          fm_small_gemm(tq, d, tk, 1, ds, tk, 1, k + ko, keyRow, 0, gq + qo, queryRow)
        }
        if !products.bf16(tk, d, tq, 1, ds, 1, tk, q + qo, queryRow, 1, gk + ko, keyRow) {
          fm_small_gemm(tk, d, tq, 1, ds, 1, tk, q + qo, queryRow, 0, gk + ko, keyRow)
        }
      }
    }
  }
}

/// The per-head products under ``Precision/bf16``: the precision is read once on the calling task
/// (a parallel region's workers do not see the task's value), then each product of at least
/// ``Precision/bf16MinimumWork`` multiply-adds runs through ``BLAS/bf16Product``.
struct HeadProducts: Sendable {
  let inBF16 = Precision.current == .bf16

  /// `C = alpha · A · B` (`m × k` times `k × n`, operands by row and column stride) in bf16; false:
  /// the caller computes it in fp32 (fp32 precision, too little work, or oneDNN out of memory).
  func bf16(
    _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ rowStrideA: Int, _ colStrideA: Int,
    _ b: UnsafePointer<Float>, _ rowStrideB: Int, _ colStrideB: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) -> Bool {
    guard inBF16 && m * n * k >= Precision.bf16MinimumWork else { return false }
    return BLAS.bf16Product(
      m: m, n: n, k: k, alpha: alpha, a: a, rowStrideA: rowStrideA, colStrideA: colStrideA, b: b,
      rowStrideB: rowStrideB, colStrideB: colStrideB, c: c, ldc: ldc)
  }
}

/// One scratch buffer of `count` floats per thread inside `Parallel.forEach`.
final class ThreadScratch: @unchecked Sendable {
  private let storage: Tensor
  private let count: Int
  private let slots: SlotAllocator

  init(count: Int) {
    self.count = count
    storage = Tensor(uninitialized: [Parallel.threadCount, count])
    slots = SlotAllocator(Parallel.threadCount)
  }

  func with(_ body: (UnsafeMutablePointer<Float>) -> Void) {
    let slot = slots.acquire()
    defer { slots.release(slot) }
    body(storage.pointer + slot * count)
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
