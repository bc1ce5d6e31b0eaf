import Foundation

/// FairMed's reproducible random generator: xoshiro256** (Blackman & Vigna), seeded through
/// SplitMix64. Normal samples use the Box–Muller transform on pairs of uniforms in (0, 1].
///
/// The same seed gives the same stream on every platform; the full state can be saved and
/// restored (checkpoints) with ``state``.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
  /// The four 64-bit words of xoshiro256** state.
  public var state: [UInt64]

  public init(seed: UInt64) {
    var sm = seed
    func splitMix() -> UInt64 {
      sm &+= 0x9E37_79B9_7F4A_7C15
      var z = sm
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = [splitMix(), splitMix(), splitMix(), splitMix()]
  }

  @inline(__always)
  private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = Self.rotl(state[1] &* 5, 7) &* 9
    let t = state[1] << 17
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = Self.rotl(state[3], 45)
    return result
  }

  /// Uniform in [0, 1) with 24 bits of precision.
  public mutating func nextUniform() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// Uniform in [0, 1) with 53 bits of precision.
  public mutating func nextDouble() -> Double {
    Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
  }

  /// Standard normal sample (Box–Muller, both values of a pair are used in turn by ``fillNormal``).
  public mutating func nextNormal() -> Float {
    let u1 = 1.0 - nextDouble()
    let u2 = nextDouble()
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
  }

  /// Fills a buffer with N(mean, std²) samples.
  public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, mean: Float, std: Float) {
    var i = 0
    while i < count {
      let u1 = 1.0 - nextDouble()
      let u2 = nextDouble()
      let r = (-2 * log(u1)).squareRoot()
      let a = 2 * Double.pi * u2
      p[i] = mean + std * Float(r * cos(a))
      if i + 1 < count { p[i + 1] = mean + std * Float(r * sin(a)) }
      i += 2
    }
  }

  /// Integer uniform in `0..<n` (Lemire's unbiased method).
  public mutating func nextInt(below n: Int) -> Int {
    precondition(n > 0)
    return Int(next(upperBound: UInt64(n)))
  }
}

