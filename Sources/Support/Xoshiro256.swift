/// xoshiro256** (Blackman & Vigna) seeded through SplitMix64: FairMed's one reproducible
/// generator. The same seed gives the same stream on every platform.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
  /// The four 64-bit words of state.
  public private(set) var s0, s1, s2, s3: UInt64

  /// The generator for `seed` (four SplitMix64 outputs).
  public init(seed: UInt64) {
    var sm = seed
    func splitMix() -> UInt64 {
      sm &+= 0x9E37_79B9_7F4A_7C15
      var z = sm
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
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
