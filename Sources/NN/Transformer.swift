import Foundation
import Tensor

/// Multi-head attention with separate q/k/v/out projections (HF names `q_proj`, `k_proj`,
/// `v_proj`, `out_proj`); heads are packed along the feature axis.
public final class MultiHeadAttention: Module {
  public let qProj: Linear, kProj: Linear, vProj: Linear, outProj: Linear
  public let heads: Int

  /// Projections initialised N(0, inStd²) for q/k/v and N(0, outStd²) for the output, biases 0.
  public init(dim: Int, heads: Int, inStd: Float, outStd: Float, using g: inout SeededGenerator) {
    precondition(heads > 0 && dim % heads == 0, "MultiHeadAttention: \(dim) is not divisible by \(heads) heads")
    self.heads = heads
    qProj = Linear(dim, dim, std: inStd, using: &g)
    kProj = Linear(dim, dim, std: inStd, using: &g)
    vProj = Linear(dim, dim, std: inStd, using: &g)
    outProj = Linear(dim, dim, std: outStd, using: &g)
  }

  public var submodules: [(String, Module)] {
    [("q_proj", qProj), ("k_proj", kProj), ("v_proj", vProj), ("out_proj", outProj)]
  }

  /// Self-attention over `x: [B, T, dim]`; `causal` lets position i see positions ≤ i only.
  public func callAsFunction(_ x: Tensor, causal: Bool = false) throws -> Tensor {
    try outProj(selfAttention(x, query: qProj, key: kProj, value: vProj, heads: heads, causal: causal))
  }
}

/// Attention of `x: [B, T, W]` over itself through three projections, run as one stacked GEMM on
/// packed heads. LoRA terms are written into their slices of the packed projection before the
/// GEMM adds onto them, so a zero adapter leaves the numbers exactly as without one.
public func selfAttention(
  _ x: Tensor, query: Linear, key: Linear, value: Linear, heads: Int, causal: Bool = false, keyMask: [Bool]? = nil
) throws -> Tensor {
  let projections = [query, key, value]
  let qkv = try linear(x, stackedWeights: projections.map(\.weight), biases: projections.map(\.bias),
    addends: projections.map { try $0.loraDelta(x) })
  return try scaledDotProductAttention(packed: qkv, heads: heads, causal: causal, keyMask: keyMask)
}

/// Two-layer feed-forward block `fc2(act(fc1(x)))`.
public final class MLP: Module {
  public let fc1: Linear, fc2: Linear
  public let activation: Activation

  public init(dim: Int, hidden: Int, activation: Activation, fc1Std: Float, fc2Std: Float,
              using g: inout SeededGenerator) {
    fc1 = Linear(dim, hidden, std: fc1Std, using: &g)
    fc2 = Linear(hidden, dim, std: fc2Std, using: &g)
    self.activation = activation
  }

  public var submodules: [(String, Module)] { [("fc1", fc1), ("fc2", fc2)] }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try fc2(activation(fc1(x))) }
}

/// Pre-LN transformer encoder layer (CLIP): `h += attn(ln1(h)); h += mlp(ln2(h))`.
public final class EncoderLayer: Module {
  public let layerNorm1: LayerNorm, selfAttn: MultiHeadAttention, layerNorm2: LayerNorm, mlp: MLP

  public init(layerNorm1: LayerNorm, selfAttn: MultiHeadAttention, layerNorm2: LayerNorm, mlp: MLP) {
    self.layerNorm1 = layerNorm1
    self.selfAttn = selfAttn
    self.layerNorm2 = layerNorm2
    self.mlp = mlp
  }

  public var submodules: [(String, Module)] {
    [("self_attn", selfAttn), ("layer_norm1", layerNorm1), ("mlp", mlp), ("layer_norm2", layerNorm2)]
  }

  public func callAsFunction(_ x: Tensor, causal: Bool = false) throws -> Tensor {
    let h = try x + selfAttn(layerNorm1(x), causal: causal)
    return try h + mlp(layerNorm2(h))
  }
}
