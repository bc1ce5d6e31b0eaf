import Support
import CVectorKernels
import Foundation

/// Element-wise unary ops, each a fused forward loop and a fused backward loop.
extension Tensor {
  /// Runs `forward` over the elements (in parallel chunks) and records `backward`, which gets
  /// (input, output, output gradient, input gradient, range).
  @inline(__always)
  func unary(
    _ op: String,
    forward: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void,
    backward:
      @escaping @Sendable (
        UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
        Range<Int>
      ) -> Void
  ) -> Tensor {
    let out = Tensor(uninitialized: shape)
    let px = SharedReads(pointer), po = DisjointWrites(out.pointer)
    Parallel.forRange(count) { r in forward(px.base, po.base, r) }
    return Tensor.record(out, op: op, inputs: [self]) { [self] g in
      let gx = Tensor(uninitialized: shape)
      let pg = SharedReads(g.pointer), pgx = DisjointWrites(gx.pointer), py = SharedReads(out.pointer)
      Parallel.forRange(count) { r in backward(px.base, py.base, pg.base, pgx.base, r) }
      return [gx]
    }
  }

  /// Element-wise map through a vector kernel (tails padded).
  @inline(__always)
  static func vmap(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ r: Range<Int>,
    _ f: (VectorMath.V) -> VectorMath.V
  ) {
    VectorMath.map(src + r.lowerBound, dst + r.lowerBound, r.count, f)
  }

  public func exp() -> Tensor {
    unary(
      "exp", forward: { x, y, r in Tensor.vmap(x, y, r, VectorMath.exp) },
      backward: { _, y, g, gx, r in for i in r { gx[i] = g[i] * y[i] } })
  }

  /// Natural log; log(0) = −inf as in PyTorch (its gradient is +inf·g there).
  public func log() -> Tensor {
    unary(
      "log", forward: { x, y, r in for i in r { y[i] = Foundation.log(x[i]) } },
      backward: { x, _, g, gx, r in for i in r { gx[i] = g[i] / x[i] } })
  }

  public func sqrt() -> Tensor {
    unary(
      "sqrt", forward: { x, y, r in for i in r { y[i] = x[i].squareRoot() } },
      backward: { _, y, g, gx, r in for i in r { gx[i] = g[i] * 0.5 / y[i] } })
  }

  /// x^p for a constant exponent.
  public func pow(_ p: Float) -> Tensor {
    if p == 2 {
      return unary(
        "pow", forward: { x, y, r in for i in r { y[i] = x[i] * x[i] } },
        backward: { x, _, g, gx, r in for i in r { gx[i] = 2 * x[i] * g[i] } })
    }
    return unary(
      "pow", forward: { x, y, r in for i in r { y[i] = Foundation.pow(x[i], p) } },
      backward: { x, _, g, gx, r in for i in r { gx[i] = g[i] * p * Foundation.pow(x[i], p - 1) } })
  }

  /// 1 / x.
  public func reciprocal() -> Tensor {
    unary(
      "reciprocal", forward: { x, y, r in for i in r { y[i] = 1 / x[i] } },
      backward: { _, y, g, gx, r in for i in r { gx[i] = -g[i] * y[i] * y[i] } })
  }

  public func abs() -> Tensor {
    unary(
      "abs", forward: { x, y, r in for i in r { y[i] = Swift.abs(x[i]) } },
      backward: { x, _, g, gx, r in
        for i in r { gx[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
      })
  }

  public func tanh() -> Tensor {
    unary(
      "tanh", forward: { x, y, r in Tensor.vmap(x, y, r, VectorMath.tanh) },
      backward: { _, y, g, gx, r in for i in r { gx[i] = g[i] * (1 - y[i] * y[i]) } })
  }

  public func sigmoid() -> Tensor {
    unary(
      "sigmoid", forward: { x, y, r in Tensor.vmap(x, y, r, VectorMath.sigmoid) },
      backward: { _, y, g, gx, r in for i in r { gx[i] = g[i] * y[i] * (1 - y[i]) } })
  }

  public func relu() -> Tensor {
    unary(
      "relu", forward: { x, y, r in for i in r { y[i] = Swift.max(x[i], 0) } },
      backward: { x, _, g, gx, r in for i in r { gx[i] = x[i] > 0 ? g[i] : 0 } })
  }

  /// Clamps to [low, high]; the gradient passes where the input is inside the interval.
  public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
    unary(
      "clamp", forward: { x, y, r in for i in r { y[i] = Swift.min(Swift.max(x[i], low), high) } },
      backward: { x, _, g, gx, r in for i in r { gx[i] = (x[i] >= low && x[i] <= high) ? g[i] : 0 } })
  }

  /// x · σ(1.702 x), the activation of OpenAI's CLIP.
  public func quickGELU() -> Tensor {
    unary(
      "quick_gelu",
      forward: { x, y, r in fm_quick_gelu_forward(x + r.lowerBound, y + r.lowerBound, r.count) },
      backward: { x, _, g, gx, r in
        let lo = r.lowerBound
        fm_quick_gelu_backward(x + lo, g + lo, gx + lo, r.count)
      })
  }

  /// GELU, exact (erf) form by default, or the tanh approximation.
  public func gelu(approximate: Bool = false) -> Tensor {
    if approximate {
      let c: Float = 0.797_884_56  // √(2/π)
      return unary(
        "gelu_tanh",
        forward: { x, y, r in
          Tensor.vmap(x, y, r) { v in 0.5 * v * (1 + VectorMath.tanh(c * (v + 0.044715 * v * v * v))) }
        },
        backward: { x, _, g, gx, r in
          let lo = r.lowerBound
          VectorMath.map2(x + lo, g + lo, gx + lo, r.count) { v, gv in
            let u = c * (v + 0.044715 * v * v * v)
            let t = VectorMath.tanh(u)
            let du = c * (1 + 3 * 0.044715 * v * v)
            return gv * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du)
          }
        })
    }
    return unary(
      "gelu",
      forward: { x, y, r in
        fm_gelu_erf_forward(x + r.lowerBound, y + r.lowerBound, r.count)
      },
      backward: { x, _, g, gx, r in
        let lo = r.lowerBound
        fm_gelu_erf_backward(x + lo, g + lo, gx + lo, r.count)
      })
  }
}
