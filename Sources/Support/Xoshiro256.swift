/// xoshiro256** (Blackman & Vigna) seeded through ``SplitMix64``: the generator of the tensor
/// engine (`SeededGenerator`) and of the audit (`SeededRandom`). The same seed gives the same
/// stream on every platform; the distributions are ``SeededRandomNumberGenerator``'s.
public struct Xoshiro256: SeededRandomNumberGenerator, Sendable, Equatable {
  /// The four 64-bit words of state.
  public private(set) var s0, s1, s2, s3: UInt64

  /// The generator for `seed` (four ``SplitMix64`` outputs from the counter `seed`); `stream`
  /// selects an independent sub-stream (e.g. a bootstrap replicate) by xoring
  /// `stream · 0xD1B54A32D192ED03` into the seed, so stream 0 is the seed's own stream.
  public init(seed: UInt64, stream: UInt64 = 0) {
    var sm = SplitMix64(state: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
    s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
  }

  /// A generator continuing from saved state words (nil unless there are exactly four).
  public init?(state: [UInt64]) {
    guard state.count == 4 else { return nil }
    s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3]
  }

  /// The state words, for checkpoints.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  @inline(__always)
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }
}
