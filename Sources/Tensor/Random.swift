import Foundation
import Support

/// FairMed's reproducible random generator: xoshiro256** (Blackman & Vigna), seeded through
/// SplitMix64. Normal samples use the Box–Muller transform on pairs of uniforms in (0, 1].
///
/// The same seed gives the same stream on every platform; the full state can be saved and
/// restored (checkpoints) with ``state``.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
  private var core: Xoshiro256
  /// When set, ``Tensor/randn(_:mean:std:using:)`` and ``Tensor/uniform(_:low:high:using:)`` return
  /// zeros without drawing: models built only to load a checkpoint skip their random init.
  public private(set) var fillsZeros = false

  public init(seed: UInt64) { core = Xoshiro256(seed: seed) }

  /// A generator whose tensors are all zeros (building a model whose weights are about to be loaded).
  public static var zeros: SeededGenerator {
    var g = SeededGenerator(seed: 0)
    g.fillsZeros = true
    return g
  }

  /// The four 64-bit words of xoshiro256** state (checkpoints store them as `state`).
  public var state: [UInt64] { core.state }

  @inline(__always)
  public mutating func next() -> UInt64 { core.next() }

  enum CodingKeys: String, CodingKey { case state }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let words = try c.decode([UInt64].self, forKey: .state)
    guard let core = Xoshiro256(state: words) else {
      throw DecodingError.dataCorruptedError(forKey: .state, in: c, debugDescription: "xoshiro256** state needs 4 words, got \(words.count)")
    }
    self.core = core
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(core.state, forKey: .state)
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

