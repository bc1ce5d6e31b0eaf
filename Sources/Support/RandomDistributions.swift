import Foundation

/// A reproducible generator: the same seed gives the same stream on every platform. FairMed has
/// two engines, ``Xoshiro256`` (the tensor engine's `SeededGenerator` and the audit's
/// `SeededRandom`) and ``SplitMix64`` (the Datasets module's `SeededRNG`), and one set of
/// distributions over them, written once in this extension.
///
/// Each recipe below fixes how many words it draws and what it does with them: changing one
/// changes every synthetic dataset, weight initialisation and bootstrap interval, which
/// `SupportTests` pins.
public protocol SeededRandomNumberGenerator: RandomNumberGenerator {}

/// The Box–Muller transform, FairMed's one normal recipe: for `u1` in (0, 1] and `u2` in [0, 1),
/// the radius √(−2 ln u1) and the angle 2π·u2, whose cosine and sine (times the radius) are two
/// independent standard normals.
@inlinable
public func boxMuller(_ u1: Double, _ u2: Double) -> (radius: Double, angle: Double) {
  ((-2 * log(u1)).squareRoot(), 2 * Double.pi * u2)
}

extension SeededRandomNumberGenerator {
  /// Uniform in [0, 1) with 53 random bits (the top 53 bits of one word).
  @inlinable
  public mutating func uniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform in [0, 1) as a `Float` with 24 random bits (the top 24 bits of one word).
  @inlinable
  public mutating func uniformFloat() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// Uniform in [lo, hi) (one ``uniform()``).
  @inlinable
  public mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
    lo + (hi - lo) * uniform()
  }

  /// True with probability `p` (one ``uniform()``).
  @inlinable
  public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

  /// An index drawn with probability proportional to `weights` (one ``uniform()``; the last
  /// index when rounding leaves the draw past the total).
  @inlinable
  public mutating func categorical(_ weights: [Double]) -> Int {
    let total = weights.reduce(0, +)
    var u = uniform() * total
    for (i, w) in weights.enumerated() {
      if u < w { return i }
      u -= w
    }
    return weights.count - 1
  }

  /// Uniform integer in 0..<bound, unbiased (Lemire's nearly divisionless method; the same draws
  /// as the standard library's `next(upperBound:)`).
  @inlinable
  public mutating func below(_ bound: Int) -> Int {
    precondition(bound > 0, "below(\(bound)): the bound must be positive")
    let b = UInt64(bound)
    var m = next().multipliedFullWidth(by: b)
    if m.low < b {
      let t = (0 &- b) % b
      while m.low < t { m = next().multipliedFullWidth(by: b) }
    }
    return Int(m.high)
  }

  /// Standard normal, one value per call: ``boxMuller(_:_:)`` on u1 = ``uniform()`` (drawn again
  /// while it is exactly 0) and u2 = ``uniform()``, the cosine branch. The Datasets module's
  /// generators and the audit use it.
  @inlinable
  public mutating func normal() -> Double {
    var u = uniform()
    while u == 0 { u = uniform() }
    let (r, a) = boxMuller(u, uniform())
    return r * cos(a)
  }

  /// Two independent standard normals from one pair of draws: ``boxMuller(_:_:)`` on
  /// u1 = 1 − ``uniform()`` (in (0, 1], never redrawn) and u2 = ``uniform()``, the cosine then the
  /// sine branch. The tensor engine's weight initialisation uses it.
  @inlinable
  public mutating func normalPair() -> (Double, Double) {
    let u1 = 1.0 - uniform()
    let (r, a) = boxMuller(u1, uniform())
    return (r * cos(a), r * sin(a))
  }

  /// An exact Binomial(n, p) draw: inversion for small n·p, Hörmann's BTRS rejection otherwise.
  @inlinable
  public mutating func binomial(_ n: Int, _ p: Double) -> Int {
    if n <= 0 || p <= 0 { return 0 }
    if p >= 1 { return n }
    if p > 0.5 { return n - binomial(n, 1 - p) }
    if Double(n) * p < 10 { return binomialInversion(n, p) }
    return binomialBTRS(n, p)
  }

  @inlinable
  mutating func binomialInversion(_ n: Int, _ p: Double) -> Int {
    let q = 1 - p
    let s = p / q
    var f = pow(q, Double(n))
    var u = uniform()
    var x = 0
    while u > f {
      u -= f
      x += 1
      if x > n { return n }
      f *= s * Double(n - x + 1) / Double(x)
      if f == 0 { return x }
    }
    return x
  }

  /// BTRS (Hörmann 1993, "The generation of binomial random variates"), valid for n·p ≥ 10, p ≤ 0.5.
  @inlinable
  mutating func binomialBTRS(_ n: Int, _ p: Double) -> Int {
    let nd = Double(n)
    let spq = (nd * p * (1 - p)).squareRoot()
    let b = 1.15 + 2.53 * spq
    let a = -0.0873 + 0.0248 * b + 0.01 * p
    let c = nd * p + 0.5
    let vr = 0.92 - 4.2 / b
    let alpha = (2.83 + 5.1 / b) * spq
    let lpq = log(p / (1 - p))
    let m = floor((nd + 1) * p)
    var h = Double.nan  // lgamma(m + 1) + lgamma(n − m + 1), needed only when the quick accept fails
    while true {
      let u = uniform() - 0.5
      let v = uniform()
      let us = 0.5 - abs(u)
      let k = floor((2 * a / us + b) * u + c)
      if k < 0 || k > nd { continue }
      if us >= 0.07 && v <= vr { return Int(k) }
      if h.isNaN { h = lgamma(m + 1) + lgamma(nd - m + 1) }
      let lhs = log(v * alpha / (a / (us * us) + b))
      let rhs = h - lgamma(k + 1) - lgamma(nd - k + 1) + (k - m) * lpq
      if lhs <= rhs { return Int(k) }
    }
  }

  /// Multinomial(n, probabilities) by sequential conditional binomials; `probabilities` sum to 1
  /// and `out` has one slot per probability.
  @inlinable
  public mutating func multinomial(_ n: Int, _ probabilities: [Double], into out: inout [Int]) {
    var remaining = n
    var mass = 1.0
    for i in probabilities.indices {
      if i == probabilities.count - 1 { out[i] = remaining; break }
      let p = mass > 0 ? min(1, max(0, probabilities[i] / mass)) : 0
      let k = remaining > 0 ? binomial(remaining, p) : 0
      out[i] = k
      remaining -= k
      mass -= probabilities[i]
    }
  }
}
