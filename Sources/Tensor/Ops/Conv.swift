import Support

/// Patch embedding: a convolution whose stride equals its kernel, done as patch extraction
/// (one copy) followed by a single GEMM.
extension Tensor {
  /// `[B, C, H, W]` → `[B, (H/P)·(W/P), C·P·P]`, patches in row-major order, each flattened
  /// as (channel, row, column) to match a conv weight `[D, C, P, P]`.
  public func patches(size p: Int) throws -> Tensor {
    guard rank == 4, p > 0, shape[2] % p == 0, shape[3] % p == 0 else {
      throw TensorError.invalidArgument("patches: image shape \(shape) is not [B, C, H, W] divisible by patch \(p)")
    }
    let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let gh = h / p, gw = w / p, n = gh * gw, f = c * p * p
    let out = Tensor(uninitialized: [b, n, f])
    let px = pointer, po = out.pointer
    // `forward` copies image rows into patch rows; `backward` is the same walk in reverse.
    func walk(_ body: (_ patchRow: Int, _ imageRow: Int) -> Void) {
      for bi in 0..<b {
        for py in 0..<gh {
          for pxi in 0..<gw {
            for ci in 0..<c {
              for r in 0..<p {
                let dst = ((bi * n + py * gw + pxi) * f) + (ci * p + r) * p
                let src = ((bi * c + ci) * h + py * p + r) * w + pxi * p
                body(dst, src)
              }
            }
          }
        }
      }
    }
    walk { d, s in (po + d).update(from: px + s, count: p) }
    let inputShape = shape
    return Tensor.record(out, op: "patches", inputs: [self]) { g in
      let gx = Tensor(uninitialized: inputShape)
      let pg = g.pointer, pgx = gx.pointer
      walk { d, s in (pgx + s).update(from: pg + d, count: p) }
      return [gx]
    }
  }
}

/// Conv2d with stride = kernel and no bias (ViT patch embedding): images `[B, C, H, W]`,
/// weight `[D, C, P, P]` → `[B, (H/P)·(W/P), D]`.
public func patchEmbedding(_ images: Tensor, weight: Tensor) throws -> Tensor {
  guard weight.rank == 4, images.rank == 4, weight.shape[1] == images.shape[1], weight.shape[2] == weight.shape[3]
  else {
    throw TensorError.shapeMismatch(op: "patchEmbedding", lhs: images.shape, rhs: weight.shape)
  }
  let d = weight.shape[0]
  let flat = try weight.reshaped([d, -1])
  return try linear(images.patches(size: weight.shape[2]), weight: flat)
}

/// Dropout with a seeded mask: zeroes each element with probability `p` and scales the rest by
/// 1/(1−p). Identity when `p` is 0.
extension Tensor {
  public func dropout(p: Float, using generator: inout SeededGenerator) throws -> Tensor {
    guard p >= 0 && p < 1 else { throw TensorError.invalidArgument("dropout: p = \(p) is outside [0, 1)") }
    if p == 0 { return self }
    let keep = 1 / (1 - p)
    let mask = Tensor(uninitialized: shape)
    for i in 0..<count { mask.pointer[i] = generator.uniformFloat() < p ? 0 : keep }
    return try self * mask
  }
}
