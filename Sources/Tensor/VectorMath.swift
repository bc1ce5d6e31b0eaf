/// Vectorised transcendental functions used by the element-wise hot loops (softmax, GELU,
/// sigmoid). Accuracy: a few ULP for exp (Cephes polynomial), 1.5e-7 absolute for erf
/// (Abramowitz & Stegun 7.1.26).
public enum VectorMath {
  public typealias V = SIMD8<Float>

  /// e^x, exact 0 below −87.3 (so masked logits give exactly zero probability).
  @inline(__always)
  public static func exp(_ x0: V) -> V {
    let x1 = clamp(x0, -87.3, 88.3)
    // Round to nearest with the 1.5·2²³ trick; the integer lands in the low mantissa bits.
    let magic = V(repeating: 12_582_912)
    let shifted = x1 * 1.442_695_04 + magic
    let fx = shifted - magic
    var x = x1 - fx * 0.693_359_375
    x = x + fx * 2.121_944_40e-4
    var y = V(repeating: 1.987_569_150_0e-4)
    y = y * x + 1.398_199_950_7e-3
    y = y * x + 8.333_451_907_3e-3
    y = y * x + 4.166_579_589_4e-2
    y = y * x + 1.666_666_545_9e-1
    y = y * x + 5.000_000_120_1e-1
    y = y * (x * x) + x + 1
    let n = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let pow2n = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
    return (y * pow2n).replacing(with: 0, where: x0 .< -87.3)
  }

  /// Scalar e^x with the same polynomial as the vector form.
  @inline(__always)
  public static func exp(_ x: Float) -> Float { exp(V(repeating: x))[0] }

  /// `x` limited to [lo, hi] lane by lane, NaN kept (SIMD's `clamped` calls an uninlined generic
  /// `pointwiseMin`/`Max`, ~2 % of a ViT block in the profile).
  @inline(__always)
  static func clamp(_ x: V, _ lo: Float, _ hi: Float) -> V {
    let low = V(repeating: lo), high = V(repeating: hi)
    return x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
  }

  /// Logistic sigmoid 1 / (1 + e^−x).
  @inline(__always)
  public static func sigmoid(_ x: V) -> V { 1 / (1 + exp(0 - x)) }

  /// tanh(x) = 1 − 2 / (e^{2x} + 1), saturating cleanly for large |x|.
  @inline(__always)
  public static func tanh(_ x: V) -> V {
    let c = clamp(x, -15, 15)
    return 1 - 2 / (exp(2 * c) + 1)
  }

  /// Error function (A&S 7.1.26, |error| ≤ 1.5e-7).
  @inline(__always)
  public static func erf(_ x: V) -> V {
    let a = x.replacing(with: 0 - x, where: x .< 0)
    let t = 1 / (1 + 0.327_591_1 * a)
    var p = V(repeating: 1.061_405_429)
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    p = p * t
    let r = 1 - p * exp(0 - a * a)
    return r.replacing(with: -r, where: x .< 0)
  }

  /// Applies a vector kernel to `n` contiguous floats, using a padded tail for the remainder.
  @inline(__always)
  public static func map(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ f: (V) -> V
  ) {
    var i = 0
    while i + 8 <= n {
      let v = UnsafeRawPointer(src + i).loadUnaligned(as: V.self)
      UnsafeMutableRawPointer(dst + i).storeBytes(of: f(v), as: V.self)
      i += 8
    }
    if i < n {
      var v = V(repeating: 0)
      for j in 0..<(n - i) { v[j] = src[i + j] }
      let r = f(v)
      for j in 0..<(n - i) { dst[i + j] = r[j] }
    }
  }

  /// Two-input form of ``map(_:_:_:_:)``.
  @inline(__always)
  public static func map2(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
    _ n: Int, _ f: (V, V) -> V
  ) {
    var i = 0
    while i + 8 <= n {
      let va = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
      let vb = UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
      UnsafeMutableRawPointer(dst + i).storeBytes(of: f(va, vb), as: V.self)
      i += 8
    }
    if i < n {
      var va = V(repeating: 0)
      var vb = V(repeating: 0)
      for j in 0..<(n - i) {
        va[j] = a[i + j]
        vb[j] = b[i + j]
      }
      let r = f(va, vb)
      for j in 0..<(n - i) { dst[i + j] = r[j] }
    }
  }
}
