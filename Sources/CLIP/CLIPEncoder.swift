import Foundation
import NN
import Tensor

/// Multi-head attention with separate q/k/v/out projections (HF names `q_proj`, `k_proj`,
/// `v_proj`, `out_proj`); heads are packed along the feature axis.
public final class MultiHeadAttention: Module {
  @Child("q_proj") public private(set) var qProj: Linear
  @Child("k_proj") public private(set) var kProj: Linear
  @Child("v_proj") public private(set) var vProj: Linear
  @Child("out_proj") public private(set) var outProj: Linear
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

  /// Self-attention over `x: [B, T, dim]`; `causal` lets position i see positions ≤ i only.
  public func callAsFunction(_ x: Tensor, causal: Bool = false) throws -> Tensor {
    try outProj(selfAttention(x, query: qProj, key: kProj, value: vProj, heads: heads, causal: causal))
  }
}

/// Pre-LN transformer encoder layer (CLIP): `h += attn(ln1(h)); h += mlp(ln2(h))`. Declared in
/// the checkpoint's order (`self_attn` before `layer_norm1`), not the order they run in.
public final class EncoderLayer: Module {
  @Child("self_attn") public private(set) var selfAttn: MultiHeadAttention
  @Child("layer_norm1") public private(set) var layerNorm1: LayerNorm
  @Child("mlp") public private(set) var mlp: MLP
  @Child("layer_norm2") public private(set) var layerNorm2: LayerNorm

  public init(layerNorm1: LayerNorm, selfAttn: MultiHeadAttention, layerNorm2: LayerNorm, mlp: MLP) {
    self.layerNorm1 = layerNorm1
    self.selfAttn = selfAttn
    self.layerNorm2 = layerNorm2
    self.mlp = mlp
  }

  public func callAsFunction(_ x: Tensor, causal: Bool = false) throws -> Tensor {
    let h = try x + selfAttn(layerNorm1(x), causal: causal)
    return try h + mlp(layerNorm2(h))
  }
}

/// A stack of pre-LN encoder layers (`encoder.layers.N`).
public final class CLIPEncoder: Module {
  @Child("layers") public private(set) var layers: ModuleList<EncoderLayer>

  /// Layers initialised with CLIP's scheme (`transformers` `CLIPPreTrainedModel._init_weights`).
  init(_ c: CLIPTowerConfig, factor: Float, using g: inout SeededGenerator) {
    let d = Float(c.hiddenSize), l = Float(c.numHiddenLayers)
    let inStd = 1 / d.squareRoot() / (2 * l).squareRoot() * factor
    let outStd = 1 / d.squareRoot() * factor
    let fcStd = 1 / (2 * d).squareRoot() * factor
    var layers: [EncoderLayer] = []
    for _ in 0..<c.numHiddenLayers {
      let attn = MultiHeadAttention(
        dim: c.hiddenSize, heads: c.numAttentionHeads, inStd: inStd, outStd: outStd, using: &g)
      let mlp = MLP(
        dim: c.hiddenSize, hidden: c.intermediateSize, activation: c.hiddenAct,
        fc1Std: fcStd, fc2Std: inStd, using: &g)
      layers.append(
        EncoderLayer(
          layerNorm1: LayerNorm(c.hiddenSize, eps: c.layerNormEps), selfAttn: attn,
          layerNorm2: LayerNorm(c.hiddenSize, eps: c.layerNormEps), mlp: mlp))
    }
    self.layers = ModuleList(layers)
  }

  public func callAsFunction(_ x: Tensor, causal: Bool) throws -> Tensor {
    var h = x
    for layer in layers.items { h = try layer(h, causal: causal) }
    return h
  }
}
