import Foundation

/// A small, fast, seedable generator (SplitMix64) so every random choice in the Data module is
/// reproducible from a seed, independently of thread scheduling.
public struct SeededRNG: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

  /// A generator for one item of a stream: mixes the seed with up to two indices (e.g. epoch and
  /// sample), so item i's randomness does not depend on which thread handles it or when.
  public init(seed: UInt64, stream a: UInt64, _ b: UInt64 = 0) {
    var s = SeededRNG(seed: seed ^ SeededRNG.mix(a &* 0xD1B5_4A32_D192_ED03 &+ SeededRNG.mix(b &+ 0x632B_E59B_D9B4_E019)))
    state = s.next()
  }

  static func mix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return SeededRNG.mix(state)
  }

  /// Uniform in [0, 1).
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Uniform in [lo, hi).
  public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

  /// Standard normal (Box–Muller).
  public mutating func normal() -> Double {
    let u1 = max(uniform(), 1e-300), u2 = uniform()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// True with probability p.
  public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

  /// An index drawn with probability proportional to `weights`.
  public mutating func categorical(_ weights: [Double]) -> Int {
    let total = weights.reduce(0, +)
    var u = uniform() * total
    for (i, w) in weights.enumerated() {
      if u < w { return i }
      u -= w
    }
    return weights.count - 1
  }
}



