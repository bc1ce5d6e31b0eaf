import Support
import CVectorKernels

/// Fused layer normalisation over the last axis, forward and backward in one pass each.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float = 1e-5) throws -> Tensor {
  guard let d = x.shape.last, weight.shape == [d], bias.shape == [d] else {
    throw TensorError.shapeMismatch(op: "layerNorm", lhs: x.shape, rhs: weight.shape)
  }
  let rows = x.count / Swift.max(d, 1)
  let out = Tensor(uninitialized: x.shape)
  let mean = Tensor(uninitialized: [rows]), rstd = Tensor(uninitialized: [rows])
  let px = x.pointer, po = out.pointer, pw = weight.pointer, pb = bias.pointer
  let pm = mean.pointer, pr = rstd.pointer
  let grain = Swift.max(1, Parallel.grain / Swift.max(d, 1))
  let reads = (SharedReads(px), SharedReads(pw), SharedReads(pb)),
    writes = (DisjointWrites(po), DisjointWrites(pm), DisjointWrites(pr))
  Parallel.forRange(rows, grain: grain) { r in
    let (px, pw, pb) = (reads.0.base, reads.1.base, reads.2.base),
      (po, pm, pr) = (writes.0.base, writes.1.base, writes.2.base)
    for i in r { fm_layer_norm_row(px + i * d, pw, pb, po + i * d, d, eps, pm + i, pr + i) }
  }
  return Tensor.record(out, op: "layerNorm", inputs: [x, weight, bias]) { [mean, rstd] g in
    _ = (mean, rstd)  // keep the saved statistics alive for the raw pointers below
    let pg = g.pointer
    var gx: Tensor? = nil
    if x.requiresGrad {
      let r = Tensor(uninitialized: x.shape)
      let pgx = DisjointWrites(r.pointer)
      let reads = (SharedReads(px), SharedReads(pg), SharedReads(pw), SharedReads(pm), SharedReads(pr))
      Parallel.forRange(rows, grain: grain) { range in
        let (px, pg, pw, pm, pr) = (reads.0.base, reads.1.base, reads.2.base, reads.3.base, reads.4.base)
        for i in range { fm_layer_norm_backward_row(px + i * d, pg + i * d, pw, pm[i], pr[i], pgx + i * d, d) }
      }
      gx = r
    }
    var gw: Tensor? = nil, gb: Tensor? = nil
    if weight.requiresGrad || bias.requiresGrad {
      // Per-thread partial sums over row blocks, then one reduction.
      let blocks = Swift.min(Parallel.threadCount, Swift.max(1, rows / 64))
      let partial = Tensor.zeros([blocks, 2, d])
      let pp = DisjointWrites(partial.pointer)
      let per = (rows + blocks - 1) / blocks
      let reads = (SharedReads(px), SharedReads(pg), SharedReads(pm), SharedReads(pr))
      Parallel.forEach(blocks) { bi in
        let (px, pg, pm, pr) = (reads.0.base, reads.1.base, reads.2.base, reads.3.base)
        let dw = pp + bi * 2 * d, db = dw + d
        for i in (bi * per)..<Swift.min(rows, (bi + 1) * per) {
          let row = px + i * d, gr = pg + i * d
          let mu = pm[i], inv = pr[i]
          for j in 0..<d {
            dw[j] += gr[j] * (row[j] - mu) * inv
            db[j] += gr[j]
          }
        }
      }
      let w = Tensor.zeros([d]), b = Tensor.zeros([d])
      for bi in 0..<blocks {
        for j in 0..<d {
          w.pointer[j] += pp[bi * 2 * d + j]
          b.pointer[j] += pp[bi * 2 * d + d + j]
        }
      }
      gw = w
      gb = b
    }
    return [gx, gw, gb]
  }
}
