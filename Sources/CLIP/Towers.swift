import Foundation
import NN
import Tensor

/// Patch, class and position embeddings of the image tower.
public final class CLIPVisionEmbeddings: Module {
  @Param("class_embedding") public private(set) var classEmbedding: Tensor
  /// Conv weight `[D, C, P, P]` (stride P, no bias), used through a functional op.
  @Param("patch_embedding.weight") public private(set) var patchWeight: Tensor
  @Child("position_embedding") public private(set) var positionEmbedding: Embedding

  init(_ c: CLIPTowerConfig, range: Float, factor: Float, using g: inout SeededGenerator) {
    let d = c.hiddenSize
    classEmbedding = Tensor.randn([d], std: 1 / Float(d).squareRoot() * factor, using: &g).requiringGrad()
    patchWeight = Tensor.randn([d, c.numChannels, c.patchSize, c.patchSize], std: range * factor, using: &g)
      .requiringGrad()
    positionEmbedding = Embedding(c.gridSize * c.gridSize + 1, d, std: range * factor, using: &g)
  }

  /// `[B, C, H, W]` → `[B, 1 + patches, D]`.
  public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
    let patches = try patchEmbedding(pixels, weight: patchWeight)
    let b = pixels.shape[0], d = classEmbedding.count
    let cls = try Tensor.zeros([b, 1, d]) + classEmbedding.reshaped([1, 1, d])
    let tokens = try concat([cls, patches], axis: 1)
    guard tokens.shape[1] == positionEmbedding.weight.shape[0] else {
      throw TensorError.invalidArgument(
        "CLIP vision: \(tokens.shape[1] - 1) patches from image \(pixels.shape) but the model has \(positionEmbedding.weight.shape[0] - 1) positions"
      )
    }
    return try tokens + positionEmbedding.weight
  }
}

/// The image tower (`vision_model`): embeddings, `pre_layrnorm`, encoder, `post_layernorm` on
/// the class token.
public final class CLIPVisionTransformer: Module {
  public let config: CLIPTowerConfig
  @Child("embeddings") public private(set) var embeddings: CLIPVisionEmbeddings
  /// The layer norm before the encoder; `pre_layrnorm` is the checkpoint's spelling.
  @Child("pre_layrnorm") public private(set) var preLayerNorm: LayerNorm
  @Child("encoder") public private(set) var encoder: CLIPEncoder
  @Child("post_layernorm") public private(set) var postLayernorm: LayerNorm

  init(_ c: CLIPTowerConfig, range: Float, factor: Float, using g: inout SeededGenerator) {
    config = c
    embeddings = CLIPVisionEmbeddings(c, range: range, factor: factor, using: &g)
    preLayerNorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
    encoder = CLIPEncoder(c, factor: factor, using: &g)
    postLayernorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
  }

  /// Pooled output `[B, D]` (post-LN class token) for pixels `[B, C, H, W]`.
  public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
    let h = try encoder(preLayerNorm(embeddings(pixels)), causal: false)
    let b = h.shape[0], d = h.shape[2]
    let cls = try h.narrow(axis: 1, start: 0, length: 1).reshaped([b, d])
    return try postLayernorm(cls)
  }
}

/// The text tower (`text_model`): token + position embeddings, causal encoder,
/// `final_layer_norm`, pooled at the end-of-text token.
public final class CLIPTextTransformer: Module {
  public let config: CLIPTowerConfig
  @Child("embeddings.token_embedding") public private(set) var tokenEmbedding: Embedding
  @Child("embeddings.position_embedding") public private(set) var positionEmbedding: Embedding
  @Child("encoder") public private(set) var encoder: CLIPEncoder
  @Child("final_layer_norm") public private(set) var finalLayerNorm: LayerNorm

  init(_ c: CLIPTowerConfig, factor: Float, using g: inout SeededGenerator) {
    config = c
    tokenEmbedding = Embedding(c.vocabSize, c.hiddenSize, std: 0.02 * factor, using: &g)
    positionEmbedding = Embedding(c.maxPositionEmbeddings, c.hiddenSize, std: 0.02 * factor, using: &g)
    encoder = CLIPEncoder(c, factor: factor, using: &g)
    finalLayerNorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
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
      throw TensorError.invalidArgument(
        "CLIP text: \(t) tokens exceed max_position_embeddings \(config.maxPositionEmbeddings)")
    }
    let tokens = try tokenEmbedding(ids.flatMap { $0 }, shape: [b, t])
    let x = try tokens + positionEmbedding.weight.narrow(axis: 0, start: 0, length: t)
    let h = try finalLayerNorm(encoder(x, causal: true))
    let rows = poolPositions(ids).enumerated().map { $0 * t + $1 }
    return try h.reshaped([b * t, d]).indexSelect(axis: 0, indices: rows)
  }
}
