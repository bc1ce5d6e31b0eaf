import Foundation
import NN
import Tensor

/// The shape of a Hugging Face BERT encoder (`BertModel`), as open_clip's `HFTextEncoder` wraps it.
public struct BertConfig: Sendable, Equatable {
  public var vocabSize: Int
  public var hiddenSize: Int
  public var layers: Int
  public var heads: Int
  public var intermediateSize: Int
  public var maxPositions: Int
  public var typeVocabSize: Int
  public var layerNormEps: Float = 1e-12
  public var padTokenID: Int
  /// Whether the checkpoint carries `pooler.dense` (kept so it round-trips; used only by the
  /// `cls_pooler` pooling).
  public var hasPooler: Bool

  public init(
    vocabSize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int, maxPositions: Int,
    typeVocabSize: Int = 2, padTokenID: Int = 0, hasPooler: Bool = true
  ) {
    self.vocabSize = vocabSize
    self.hiddenSize = hiddenSize
    self.layers = layers
    self.heads = heads
    self.intermediateSize = intermediateSize
    self.maxPositions = maxPositions
    self.typeVocabSize = typeVocabSize
    self.padTokenID = padTokenID
    self.hasPooler = hasPooler
  }
}

/// How the text tower turns BERT's outputs into one vector (open_clip's `hf_pooler_type`).
public enum BertPooling: String, Sendable, CaseIterable {
  /// The `[CLS]` row of the last hidden state (BiomedCLIP).
  case clsLastHiddenState = "cls_last_hidden_state_pooler"
  /// `tanh(pooler.dense([CLS]))`, BERT's own pooler output.
  case cls = "cls_pooler"
  /// The mean of the unpadded rows.
  case mean = "mean_pooler"
}

/// The projection after pooling (open_clip's `hf_proj_type`).
public enum BertProjection: String, Sendable, CaseIterable {
  /// `Linear(d, (d + e) / 2) → GELU → Linear(·, e)`, no biases (`proj.0`, `proj.2`).
  case mlp
  /// `Linear(d, e)`, no bias (`proj`).
  case linear
}

/// One post-LN BERT layer: `x = LN(x + attn(x)); x = LN(x + ffn(x))`.
public final class BertLayer: Module {
  @Child("attention.self.query") private(set) var query: Linear
  @Child("attention.self.key") private(set) var key: Linear
  @Child("attention.self.value") private(set) var value: Linear
  @Child("attention.output.dense") private(set) var attentionDense: Linear
  @Child("attention.output.LayerNorm") private(set) var attentionNorm: LayerNorm
  @Child("intermediate.dense") private(set) var intermediate: Linear
  @Child("output.dense") private(set) var output: Linear
  @Child("output.LayerNorm") private(set) var outputNorm: LayerNorm
  let heads: Int

  init(_ c: BertConfig, using g: inout SeededGenerator) {
    let d = c.hiddenSize
    heads = c.heads
    query = Linear(d, d, std: 0.02, using: &g)
    key = Linear(d, d, std: 0.02, using: &g)
    value = Linear(d, d, std: 0.02, using: &g)
    attentionDense = Linear(d, d, std: 0.02, using: &g)
    attentionNorm = LayerNorm(d, eps: c.layerNormEps)
    intermediate = Linear(d, c.intermediateSize, std: 0.02, using: &g)
    output = Linear(c.intermediateSize, d, std: 0.02, using: &g)
    outputNorm = LayerNorm(d, eps: c.layerNormEps)
  }

  public func callAsFunction(_ x: Tensor, keyMask: [Bool]) throws -> Tensor {
    let a = try selfAttention(x, query: query, key: key, value: value, heads: heads, keyMask: keyMask)
    let h = try attentionNorm(x + attentionDense(a))
    return try outputNorm(h + output(intermediate(h).gelu(approximate: false)))
  }
}

/// `BertModel` with Hugging Face names (`embeddings.*`, `encoder.layer.N.*`, `pooler.dense`).
public final class BertModel: Module {
  public let config: BertConfig
  @Child("embeddings.word_embeddings") private(set) var wordEmbeddings: Embedding
  @Child("embeddings.position_embeddings") private(set) var positionEmbeddings: Embedding
  @Child("embeddings.token_type_embeddings") private(set) var tokenTypeEmbeddings: Embedding
  @Child("embeddings.LayerNorm") private(set) var embeddingNorm: LayerNorm
  @Child("encoder.layer") private(set) var layers: ModuleList<BertLayer>
  /// `pooler.dense`, when the checkpoint has one (``BertConfig/hasPooler``).
  @Child("pooler.dense") private(set) var pooler: Linear? = nil

  init(_ c: BertConfig, using g: inout SeededGenerator) {
    config = c
    wordEmbeddings = Embedding(c.vocabSize, c.hiddenSize, std: 0.02, using: &g)
    positionEmbeddings = Embedding(c.maxPositions, c.hiddenSize, std: 0.02, using: &g)
    tokenTypeEmbeddings = Embedding(c.typeVocabSize, c.hiddenSize, std: 0.02, using: &g)
    embeddingNorm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
    layers = ModuleList((0..<c.layers).map { _ in BertLayer(c, using: &g) })
    pooler = c.hasPooler ? Linear(c.hiddenSize, c.hiddenSize, std: 0.02, using: &g) : nil
  }

  /// The last hidden state `[B, T, D]` for equal-length rows, attending only to non-padding tokens.
  public func callAsFunction(_ ids: [[Int]], keyMask: [Bool]) throws -> Tensor {
    let b = ids.count, t = ids.first?.count ?? 0, d = config.hiddenSize
    guard t <= config.maxPositions else {
      throw TensorError.invalidArgument("BERT text: \(t) tokens exceed its \(config.maxPositions) positions")
    }
    let words = try wordEmbeddings(ids.flatMap { $0 }, shape: [b, t])
    let positions = try positionEmbeddings.weight.narrow(axis: 0, start: 0, length: t)
    let types = try tokenTypeEmbeddings.weight.narrow(axis: 0, start: 0, length: 1).reshaped([1, 1, d])
    var h = try embeddingNorm(words + positions + types)
    for layer in layers.items { h = try layer(h, keyMask: keyMask) }
    return h
  }

  /// The pooled `[B, D]` vector of the last hidden state `h`.
  func pool(_ h: Tensor, keyMask: [Bool], pooling: BertPooling) throws -> Tensor {
    let b = h.shape[0], t = h.shape[1], d = h.shape[2]
    switch pooling {
    case .clsLastHiddenState:
      return try h.narrow(axis: 1, start: 0, length: 1).reshaped([b, d])
    case .cls:
      guard let pooler else {
        throw TensorError.invalidArgument("BERT text: cls_pooler needs pooler.dense, which the checkpoint lacks")
      }
      return try pooler(h.narrow(axis: 1, start: 0, length: 1).reshaped([b, d])).tanh()
    case .mean:
      let weights = (0..<b).flatMap { bi -> [Float] in
        let row = keyMask[(bi * t)..<((bi + 1) * t)]
        let n = Float(row.filter { $0 }.count)
        return row.map { $0 ? 1 / n : 0 }
      }
      return try (h * Tensor(weights, shape: [b, t, 1])).sum(axes: [1])
    }
  }
}

/// open_clip's `HFTextEncoder` around BERT (`text`): `transformer`, pooling, `proj`.
public final class BertTextTower: Module {
  @Child("transformer") public private(set) var transformer: BertModel
  public let pooling: BertPooling
  public let projectionKind: BertProjection
  /// `proj` (``BertProjection/linear``).
  @Child("proj") private(set) var linearProjection: Linear? = nil
  /// `proj.0` and `proj.2` (``BertProjection/mlp``; `proj.1` is the GELU between them).
  @Child("proj.0") private(set) var mlpProjectionIn: Linear? = nil
  @Child("proj.2") private(set) var mlpProjectionOut: Linear? = nil

  init(
    _ c: BertConfig, outputDim: Int, pooling: BertPooling, projection: BertProjection, using g: inout SeededGenerator
  ) {
    self.pooling = pooling
    projectionKind = projection
    transformer = BertModel(c, using: &g)
    let d = c.hiddenSize
    switch projection {
    case .mlp:
      let hidden = (d + outputDim) / 2
      mlpProjectionIn = Linear(d, hidden, bias: false, std: 1 / Float(d).squareRoot(), using: &g)
      mlpProjectionOut = Linear(hidden, outputDim, bias: false, std: 1 / Float(hidden).squareRoot(), using: &g)
    case .linear:
      linearProjection = Linear(d, outputDim, bias: false, std: 1 / Float(d).squareRoot(), using: &g)
    }
  }

  /// Projected (unnormalised) text embeddings `[B, E]`; padding is every `pad_token_id`.
  public func callAsFunction(_ ids: [[Int]]) throws -> Tensor {
    let t = ids.first?.count ?? 0
    guard !ids.isEmpty, t > 0, ids.allSatisfy({ $0.count == t }) else {
      throw TensorError.invalidArgument("BERT text: need a non-empty batch of equal-length rows")
    }
    let mask = ids.flatMap { $0.map { $0 != transformer.config.padTokenID } }
    let pooled = try transformer.pool(transformer(ids, keyMask: mask), keyMask: mask, pooling: pooling)
    switch (linearProjection, mlpProjectionIn, mlpProjectionOut) {
    case (let proj?, nil, nil): return try proj(pooled)
    case (nil, let first?, let second?): return try second(first(pooled).gelu(approximate: false))
    default: preconditionFailure("BertTextTower: \(projectionKind.rawValue) projection is not set up")
    }
  }
}
