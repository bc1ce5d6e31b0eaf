import Support
import CVectorKernels
import Foundation

/// Softmax, log-softmax, L2 normalisation and cross-entropy.
extension Tensor {
  /// Row kernel over `(outer, n, inner)` lanes, parallel over lanes; `f(src, dst, n, stride)`.
  func laneMap(
    axis ax: Int, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
    _ f: @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void
  ) {
    let (outer, n, inner) = around(ax)
    let src = SharedReads(src), dst = DisjointWrites(dst)  // each lane is written by one worker
    Parallel.forRange(outer * inner, grain: Swift.max(1, Parallel.grain / Swift.max(n, 1))) { r in
      for lane in r {
        let o = lane / inner, i = lane % inner
        let base = o * n * inner + i
        f(src + base, dst + base, n, inner)
      }
    }
  }

  /// Numerically stable softmax along `axis`.
  public func softmax(axis a: Int = -1) throws -> Tensor {
    let ax = try axis(a, op: "softmax")
    let out = Tensor(uninitialized: shape)
    laneMap(axis: ax, pointer, out.pointer) { x, y, n, s in Tensor.softmaxLane(x, y, n, s) }
    return Tensor.record(out, op: "softmax", inputs: [self]) { [self] g in
      let gx = Tensor(uninitialized: shape)
      let py = SharedReads(out.pointer), pg = SharedReads(g.pointer)
      laneMap(axis: ax, py.base, gx.pointer) { y, d, n, s in
        let gl = pg + (y - py.base)
        var dot: Float = 0
        for j in 0..<n { dot += y[j * s] * gl[j * s] }
        for j in 0..<n { d[j * s] = y[j * s] * (gl[j * s] - dot) }
      }
      return [gx]
    }
  }

  /// The largest value of a lane, NaN when any value is NaN.
  static func laneMax(_ x: UnsafePointer<Float>, _ n: Int, _ s: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<n {
      let v = x[j * s]
      if v.isNaN { return .nan }
      if v > m { m = v }
    }
    return m
  }

  /// Softmax of one lane with stride `s` (contiguous lanes take the vector path).
  static func softmaxLane(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ s: Int) {
    if s == 1 { return fm_softmax_row(x, y, n) }  // AVX2 + FMA where the CPU has them
    var m = laneMax(x, n, s)
    if m.isNaN {  // a NaN input makes the whole lane NaN, never a plausible probability
      for j in 0..<n { y[j * s] = .nan }
      return
    }
    if m == -.infinity { m = 0 }
    var total: Float = 0
    if s == 1 {
      VectorMath.map(x, y, n) { v in VectorMath.exp(v - m) }
      for j in 0..<n { total += y[j] }
    } else {
      for j in 0..<n {
        let e = VectorMath.exp(x[j * s] - m)
        y[j * s] = e
        total += e
      }
    }
    let inv = 1 / total
    for j in 0..<n { y[j * s] *= inv }
  }

  /// Numerically stable log-softmax along `axis`.
  public func logSoftmax(axis a: Int = -1) throws -> Tensor {
    let ax = try axis(a, op: "logSoftmax")
    let out = Tensor(uninitialized: shape)
    laneMap(axis: ax, pointer, out.pointer) { x, y, n, s in
      var m = Tensor.laneMax(x, n, s)
      if m.isNaN {
        for j in 0..<n { y[j * s] = .nan }
        return
      }
      if m == -.infinity { m = 0 }
      var total: Double = 0
      for j in 0..<n { total += Double(Foundation.exp(x[j * s] - m)) }
      let lse = m + Float(Foundation.log(total))
      for j in 0..<n { y[j * s] = x[j * s] - lse }
    }
    return Tensor.record(out, op: "logSoftmax", inputs: [self]) { [self] g in
      let gx = Tensor(uninitialized: shape)
      let py = SharedReads(out.pointer), pg = SharedReads(g.pointer)
      laneMap(axis: ax, py.base, gx.pointer) { y, d, n, s in
        let gl = pg + (y - py.base)
        var total: Float = 0
        for j in 0..<n { total += gl[j * s] }
        for j in 0..<n { d[j * s] = gl[j * s] - Foundation.exp(y[j * s]) * total }
      }
      return [gx]
    }
  }

  /// `x / Swift.max(‖x‖₂, eps)` along `axis` (as `torch.nn.functional.normalize`).
  public func l2Normalized(axis a: Int = -1, eps: Float = 1e-12) throws -> Tensor {
    let ax = try axis(a, op: "l2Normalized")
    let (outer, n, inner) = around(ax)
    var norms = [Float](repeating: 0, count: outer * inner)
    let out = Tensor(uninitialized: shape)
    let px = pointer, po = out.pointer
    norms.withUnsafeMutableBufferPointer { nb in
      for o in 0..<outer {
        for i in 0..<inner {
          let base = o * n * inner + i
          var ss: Float = 0
          for j in 0..<n { ss += px[base + j * inner] * px[base + j * inner] }
          let norm = Swift.max(ss.squareRoot(), eps)
          nb[o * inner + i] = norm
          for j in 0..<n { po[base + j * inner] = px[base + j * inner] / norm }
        }
      }
    }
    return Tensor.record(out, op: "l2Normalized", inputs: [self]) { [self, out] g in
      _ = out  // its values behind `po`
      let gx = Tensor(uninitialized: shape)
      let pg = g.pointer, pgx = gx.pointer
      for o in 0..<outer {
        for i in 0..<inner {
          let base = o * n * inner + i
          let norm = norms[o * inner + i]
          var dot: Float = 0
          for j in 0..<n { dot += po[base + j * inner] * pg[base + j * inner] }
          let clampedNorm = norm <= eps
          for j in 0..<n {
            let idx = base + j * inner
            pgx[idx] = clampedNorm ? pg[idx] / norm : (pg[idx] - po[idx] * dot) / norm
          }
        }
      }
      return [gx]
    }
  }
}

/// Mean cross-entropy of `logits` `[N, C]` against integer `targets`, optionally weighted per
/// sample: `Σ wᵢ·(−log softmax(zᵢ)[yᵢ]) / N` (weights of mean 1 keep the loss scale).
public func crossEntropy(_ logits: Tensor, targets: [Int], weights: [Float]? = nil) throws -> Tensor {
  guard logits.rank == 2, logits.shape[0] == targets.count else {
    throw TensorError.invalidArgument("crossEntropy: logits \(logits.shape) need shape [\(targets.count), classes]")
  }
  let n = targets.count, c = logits.shape[1]
  if let bad = targets.first(where: { $0 < 0 || $0 >= c }) {
    throw TensorError.invalidArgument("crossEntropy: target \(bad) is outside 0..<\(c)")
  }
  if let weights, weights.count != n {
    throw TensorError.invalidArgument("crossEntropy: \(weights.count) weights for \(n) samples")
  }
  guard n > 0 else { throw TensorError.invalidArgument("crossEntropy: empty batch") }
  let logp = try withNoGrad { try logits.logSoftmax(axis: 1) }
  var total: Double = 0
  for i in 0..<n { total -= Double((weights?[i] ?? 1) * logp.pointer[i * c + targets[i]]) }
  let out = Tensor(scalar: Float(total / Double(n)))
  return Tensor.record(out, op: "crossEntropy", inputs: [logits]) { g in
    let gx = Tensor(uninitialized: logits.shape)
    let scale = g.item() / Float(n)
    for i in 0..<n {
      let w = (weights?[i] ?? 1) * scale
      for j in 0..<c { gx.pointer[i * c + j] = Foundation.exp(logp.pointer[i * c + j]) * w }
      gx.pointer[i * c + targets[i]] -= w
    }
    return [gx]
  }
}
