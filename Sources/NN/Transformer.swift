import Foundation
import Tensor

/// Attention of `x: [B, T, W]` over itself through three projections, run as one stacked GEMM on
/// packed heads. LoRA terms are written into their slices of the packed projection before the
/// GEMM adds onto them, so a zero adapter leaves the numbers exactly as without one.
public func selfAttention(
  _ x: Tensor, query: Linear, key: Linear, value: Linear, heads: Int, causal: Bool = false, keyMask: [Bool]? = nil
) throws -> Tensor {
  let projections = [query, key, value]
  let qkv = try linear(
    x, stackedWeights: projections.map(\.weight), biases: projections.map(\.bias),
    addends: projections.map { try $0.loraDelta(x) })
  return try scaledDotProductAttention(packed: qkv, heads: heads, causal: causal, keyMask: keyMask)
}

/// Two-layer feed-forward block `fc2(act(fc1(x)))`.
public final class MLP: Module {
  @Child("fc1") public private(set) var fc1: Linear
  @Child("fc2") public private(set) var fc2: Linear
  public let activation: Activation

  public init(
    dim: Int, hidden: Int, activation: Activation, fc1Std: Float, fc2Std: Float,
    using g: inout SeededGenerator
  ) {
    self.activation = activation
    fc1 = Linear(dim, hidden, std: fc1Std, using: &g)
    fc2 = Linear(hidden, dim, std: fc2Std, using: &g)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try fc2(activation(fc1(x))) }
}
