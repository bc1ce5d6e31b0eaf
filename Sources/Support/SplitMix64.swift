/// SplitMix64 (Steele, Lea & Flood): a 64-bit counter stepped by the golden gamma and finalised
/// by ``mix(_:)``. It seeds ``Xoshiro256`` and is the Datasets module's generator (`SeededRNG`), whose
/// synthetic datasets and augmentations depend on its exact stream.
public struct SplitMix64: SeededRandomNumberGenerator, Sendable, Equatable {
  /// The counter; ``next()`` adds the gamma, then returns ``mix(_:)`` of it.
  @usableFromInline var state: UInt64

  /// A generator continuing from the raw counter `state` (``Xoshiro256`` seeds itself this way).
  @inlinable
  public init(state: UInt64) { self.state = state }

  /// The Datasets module's generator for `seed`: the counter starts one gamma past the seed.
  @inlinable
  public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

  /// A generator for one item of a stream: mixes the seed with up to two indices (e.g. epoch and
  /// sample), so item i's randomness does not depend on which thread handles it or when.
  @inlinable
  public init(seed: UInt64, stream a: UInt64, _ b: UInt64 = 0) {
    self.init(seed: seed ^ SplitMix64.mix(a &* 0xD1B5_4A32_D192_ED03 &+ SplitMix64.mix(b &+ 0x632B_E59B_D9B4_E019)))
    state = next()
  }

  /// SplitMix64's finaliser (a bijection of 64-bit words).
  @inlinable
  public static func mix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return SplitMix64.mix(state)
  }
}
