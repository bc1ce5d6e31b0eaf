import Foundation
import Support

/// The tensor engine's reproducible generator: Support's `Xoshiro256` stream, with
/// Support's distributions (`uniformFloat()` for uniform tensors and dropout, `normalPair()`
/// for normal tensors), a zero-filling mode for models about to load weights, and `Codable`
/// state for checkpoints.
///
/// The same seed gives the same stream on every platform; the full state can be saved and
/// restored (checkpoints) with ``state``.
public struct SeededGenerator: SeededRandomNumberGenerator, Sendable, Codable, Equatable {
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
      throw DecodingError.dataCorruptedError(
        forKey: .state, in: c, debugDescription: "xoshiro256** state needs 4 words, got \(words.count)")
    }
    self.core = core
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(core.state, forKey: .state)
  }

  /// Fills a buffer with N(mean, std²) samples, both values of each `normalPair()` in turn (the
  /// cosine one first; an odd count drops the last sine).
  public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, mean: Float, std: Float) {
    var i = 0
    while i < count {
      let (z0, z1) = normalPair()
      p[i] = mean + std * Float(z0)
      if i + 1 < count { p[i + 1] = mean + std * Float(z1) }
      i += 2
    }
  }
}
