import Foundation
import Support

/// xoshiro256**: the audit's deterministic generator (``Xoshiro256`` with independent
/// sub-streams and the audit's distributions).
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var core: Xoshiro256

  /// A generator for `seed`; `stream` selects an independent sub-stream (e.g. a bootstrap replicate).
  public init(seed: UInt64, stream: UInt64 = 0) {
    core = Xoshiro256(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
  }

  @inline(__always)
  public mutating func next() -> UInt64 { core.next() }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func uniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform integer in 0..<bound (Lemire's nearly divisionless method).
  public mutating func below(_ bound: Int) -> Int {
    precondition(bound > 0)
    let b = UInt64(bound)
    var m = next().multipliedFullWidth(by: b)
    if m.low < b {
      let t = (0 &- b) % b
      while m.low < t { m = next().multipliedFullWidth(by: b) }
    }
    return Int(m.high)
  }

  /// Standard normal (Box–Muller; one value per call).
  public mutating func normal() -> Double {
    var u = uniform()
    while u == 0 { u = uniform() }
    return (-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * uniform())
  }

  /// An exact Binomial(n, p) draw: inversion for small n·p, Hörmann's BTRS rejection otherwise.
  public mutating func binomial(_ n: Int, _ p: Double) -> Int {
    if n <= 0 || p <= 0 { return 0 }
    if p >= 1 { return n }
    if p > 0.5 { return n - binomial(n, 1 - p) }
    if Double(n) * p < 10 { return binomialInversion(n, p) }
    return binomialBTRS(n, p)
  }

  private mutating func binomialInversion(_ n: Int, _ p: Double) -> Int {
    let q = 1 - p
    let s = p / q
    var f = Foundation.pow(q, Double(n))
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
  private mutating func binomialBTRS(_ n: Int, _ p: Double) -> Int {
    let nd = Double(n)
    let spq = (nd * p * (1 - p)).squareRoot()
    let b = 1.15 + 2.53 * spq
    let a = -0.0873 + 0.0248 * b + 0.01 * p
    let c = nd * p + 0.5
    let vr = 0.92 - 4.2 / b
    let alpha = (2.83 + 5.1 / b) * spq
    let lpq = Foundation.log(p / (1 - p))
    let m = Foundation.floor((nd + 1) * p)
    var h = Double.nan  // lgamma(m + 1) + lgamma(n − m + 1), needed only when the quick accept fails
    while true {
      let u = uniform() - 0.5
      let v = uniform()
      let us = 0.5 - abs(u)
      let k = Foundation.floor((2 * a / us + b) * u + c)
      if k < 0 || k > nd { continue }
      if us >= 0.07 && v <= vr { return Int(k) }
      if h.isNaN { h = lgamma(m + 1) + lgamma(nd - m + 1) }
      let lhs = Foundation.log(v * alpha / (a / (us * us) + b))
      let rhs = h - lgamma(k + 1) - lgamma(nd - k + 1) + (k - m) * lpq
      if lhs <= rhs { return Int(k) }
    }
  }

  /// Multinomial(n, probabilities) by sequential conditional binomials; `probabilities` sum to 1.
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
