import Foundation
import NN
import Tensor

/// A stack of pre-LN encoder layers (`encoder.layers.N`).
public final class CLIPEncoder: Module {
  public let layers: ModuleList<EncoderLayer>

  /// Layers initialised with CLIP's scheme (`transformers` `CLIPPreTrainedModel._init_weights`).
  init(_ c: CLIPTowerConfig, factor: Float, using g: inout SeededGenerator) {
    let d = Float(c.hiddenSize), l = Float(c.numHiddenLayers)
    let inStd = 1 / d.squareRoot() / (2 * l).squareRoot() * factor
    let outStd = 1 / d.squareRoot() * factor
    let fcStd = 1 / (2 * d).squareRoot() * factor
    var layers: [EncoderLayer] = []
    for _ in 0..<c.numHiddenLayers {
      let attn = MultiHeadAttention(dim: c.hiddenSize, heads: c.numAttentionHeads, inStd: inStd, outStd: outStd, using: &g)
      let mlp = MLP(dim: c.hiddenSize, hidden: c.intermediateSize, activation: c.hiddenAct,
                    fc1Std: fcStd, fc2Std: inStd, using: &g)
      layers.append(EncoderLayer(
        layerNorm1: LayerNorm(c.hiddenSize, eps: c.layerNormEps), selfAttn: attn,
        layerNorm2: LayerNorm(c.hiddenSize, eps: c.layerNormEps), mlp: mlp))
    }
    self.layers = ModuleList(layers)
  }

  public var submodules: [(String, Module)] { [("layers", layers)] }

  public func callAsFunction(_ x: Tensor, causal: Bool) throws -> Tensor {
    var h = x
    for layer in layers.items { h = try layer(h, causal: causal) }
    return h
  }
}

/// Patch, class and position embeddings of the image tower.
public final class CLIPVisionEmbeddings: Module {
  public let classEmbedding: Tensor
  /// Conv weight `[D, C, P, P]` (stride P, no bias).
  public let patchWeight: Tensor
  public let positionEmbedding: Embedding

  init(_ c: CLIPTowerConfig, range: Float, factor: Float, using g: inout SeededGenerator) {
    let d = c.hiddenSize
    classEmbedding = Tensor.randn([d], std: 1 / Float(d).squareRoot() * factor, using: &g).requiringGrad()
    patchWeight = Tensor.randn([d, c.numChannels, c.patchSize, c.patchSize], std: range * factor, using: &g)
      .requiringGrad()
    positionEmbedding = Embedding(c.gridSize * c.gridSize + 1, d, std: range * factor, using: &g)
  }

  public var localParameters: [(String, Tensor)] { [("class_embedding", classEmbedding)] }
  public var submodules: [(String, Module)] {
    [("patch_embedding", ParameterHolder(weight: patchWeight)), ("position_embedding", positionEmbedding)]
  }

  /// `[B, C, H, W]` → `[B, 1 + patches, D]`.
  public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
    let patches = try patchEmbedding(pixels, weight: patchWeight)
    let b = pixels.shape[0], d = classEmbedding.count
    let cls = try Tensor.zeros([b, 1, d]) + classEmbedding.reshaped([1, 1, d])
    let tokens = try concat([cls, patches], axis: 1)
    guard tokens.shape[1] == positionEmbedding.weight.shape[0] else {
      throw TensorError.invalidArgument(
        "CLIP vision: \(tokens.shape[1] - 1) patches from image \(pixels.shape) but the model has \(positionEmbedding.weight.shape[0] - 1) positions")
    }
    return try tokens + positionEmbedding.weight
  }
}

/// A module holding a single `weight` (a conv kernel used through a functional op).
public final class ParameterHolder: Module {
  public let weight: Tensor
  public init(weight: Tensor) { self.weight = weight }
  public var localParameters: [(String, Tensor)] { [("weight", weight)] }
}

/// The image tower (`vision_model`): embeddings, `pre_layrnorm`, encoder, `post_layernorm` on
/// the class token.
public final class CLIPVisionTransformer: Module {
  public let config: CLIPTowerConfig
  public let embeddings: CLIPVisionEmbeddings
  public let preLayrnorm: LayerNorm
  public let encoder: CLIPEncoder
  public let postLayernorm: LayerNorm

  init(_ c: CLIPTowerConfig, range: Float, factor: Float, using g: inout SeededGenerator) {
    config = c
    embeddings = CLIPVisionEmbeddings(c, range: range, factor: factor, using: &g)
    preLayrnorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
    encoder = CLIPEncoder(c, factor: factor, using: &g)
    postLayernorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
  }

  public var submodules: [(String, Module)] {
    [("embeddings", embeddings), ("pre_layrnorm", preLayrnorm), ("encoder", encoder), ("post_layernorm", postLayernorm)]
  }

  /// Pooled output `[B, D]` (post-LN class token) for pixels `[B, C, H, W]`.
  public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
    let h = try encoder(preLayrnorm(embeddings(pixels)), causal: false)
    let b = h.shape[0], d = h.shape[2]
    let cls = try h.narrow(axis: 1, start: 0, length: 1).reshaped([b, d])
    return try postLayernorm(cls)
  }
}

/// The text tower (`text_model`): token + position embeddings, causal encoder,
/// `final_layer_norm`, pooled at the end-of-text token.
public final class CLIPTextTransformer: Module {
  public let config: CLIPTowerConfig
  public let tokenEmbedding: Embedding
  public let positionEmbedding: Embedding
  public let encoder: CLIPEncoder
  public let finalLayerNorm: LayerNorm

  init(_ c: CLIPTowerConfig, factor: Float, using g: inout SeededGenerator) {
    config = c
    tokenEmbedding = Embedding(c.vocabSize, c.hiddenSize, std: 0.02 * factor, using: &g)
    positionEmbedding = Embedding(c.maxPositionEmbeddings, c.hiddenSize, std: 0.02 * factor, using: &g)
    encoder = CLIPEncoder(c, factor: factor, using: &g)
    finalLayerNorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
  }

  public var submodules: [(String, Module)] {
    [("embeddings", EmbeddingsGroup([("token_embedding", tokenEmbedding), ("position_embedding", positionEmbedding)])),
     ("encoder", encoder), ("final_layer_norm", finalLayerNorm)]
  }

  /// Position of the pooled token in each sequence, as `transformers` chooses it: the first
  /// `eos_token_id` (position 0 when a row has none), or the first largest id for legacy configs
  /// whose eos id is 2.
  public func poolPositions(_ ids: [[Int]]) -> [Int] {
    ids.map { row in
      if config.eosTokenID == 2 { return row.indices.max { row[$0] < row[$1] } ?? 0 }
      return row.firstIndex(of: config.eosTokenID) ?? 0
    }
  }

  /// Pooled output `[B, D]` for equal-length token rows.
  public func callAsFunction(_ ids: [[Int]]) throws -> Tensor {
    let b = ids.count, t = ids.first?.count ?? 0, d = config.hiddenSize
    guard b > 0, t > 0, ids.allSatisfy({ $0.count == t }) else {
      throw TensorError.invalidArgument("CLIP text: need a non-empty batch of equal-length rows")
    }
    guard t <= config.maxPositionEmbeddings else {
      throw TensorError.invalidArgument("CLIP text: \(t) tokens exceed max_position_embeddings \(config.maxPositionEmbeddings)")
    }
    let tokens = try tokenEmbedding(ids.flatMap { $0 }, shape: [b, t])
    let x = try tokens + positionEmbedding.weight.narrow(axis: 0, start: 0, length: t)
    let h = try finalLayerNorm(encoder(x, causal: true))
    let rows = poolPositions(ids).enumerated().map { $0 * t + $1 }
    return try h.reshaped([b * t, d]).indexSelect(axis: 0, indices: rows)
  }
}

/// A named group of modules without parameters of its own (`text_model.embeddings`).
public final class EmbeddingsGroup: Module {
  public let submodules: [(String, Module)]
  public init(_ children: [(String, Module)]) { submodules = children }
}
