import Foundation
import NN
import Support
import Tensor

/// open_clip's `CustomTextCLIP` with a timm ViT image tower and a BERT text tower (BiomedCLIP,
/// `microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224`), under open_clip's own parameter
/// names: `visual.trunk.*`, `visual.head.proj.weight`, `text.transformer.*`, `text.proj.*`,
/// `logit_scale`.
public final class OpenCLIPModel: Module, CLIPBackbone {
  public let vision: TimmViTConfig
  public let text: BertConfig
  public let settings: OpenCLIPConfig.TimmBertSettings
  @Child("visual") public private(set) var visual: TimmImageTower
  /// The text tower, `text` in the checkpoint (``text`` is its configuration).
  @Child("text") public private(set) var textTower: BertTextTower
  @Param("logit_scale") public private(set) var logitScale: Tensor
  public let format: CheckpointFormat

  /// A model of the given shape, initialised from `seed` (zeros when nil, about to load weights).
  public init(
    vision: TimmViTConfig, text: BertConfig, settings: OpenCLIPConfig.TimmBertSettings, configBytes: Data,
    seed: UInt64? = 0
  ) {
    self.vision = vision
    self.text = text
    self.settings = settings
    format = .openCLIP(config: configBytes)
    var g = seed.map { SeededGenerator(seed: $0) } ?? .zeros
    visual = TimmImageTower(vision, using: &g)
    textTower = BertTextTower(
      text, outputDim: settings.embedDim, pooling: settings.pooling, projection: settings.textProjection, using: &g)
    logitScale = Tensor(scalar: Foundation.log(1 / 0.07)).requiringGrad()
    if seed == nil {  // ones and scalars that are not drawn (layer norms, logit_scale) start at 0 too
      for (_, t) in namedParameters() { t.pointer.update(repeating: 0, count: t.count) }
    }
  }

  public var imageSize: Int { vision.imageSize }
  public var embeddingDim: Int { settings.embedDim }
  public var imageTowerPrefixes: [String] { ["visual"] }
  public var imageEncoderPrefixes: [String] { ["visual.trunk"] }
  public var textTowerPrefixes: [String] { ["text"] }
  /// timm + BERT LoRA targets: the ViT's fused qkv and BERT's query and value projections.
  public static let loraTargets = ["qkv", "query", "value"]
  public var defaultLoRATargets: [String] { Self.loraTargets }

  public func lastLayerPrefixes(_ k: Int) -> [String] {
    let v = (max(0, vision.depth - k)..<vision.depth).map { "visual.trunk.blocks.\($0)" }
    let t = (max(0, text.layers - k)..<text.layers).map { "text.transformer.encoder.layer.\($0)" }
    return v + t + ["visual.trunk.norm", "visual.head", "text.proj", "logit_scale"]
  }

  public func pooledImage(_ pixels: Tensor) throws -> Tensor { try visual.trunk(pixels) }
  public func projectImage(_ pooled: Tensor) throws -> Tensor { try visual.project(pooled) }
  public func textEmbeddings(_ ids: [[Int]]) throws -> Tensor { try textTower(ids) }

  /// Writes `open_clip_config.json` (as loaded) and `open_clip_model.safetensors`, which
  /// `open_clip.create_model_and_transforms(..., pretrained=)` opens, and the two tower configs
  /// (``TowerConfigs/textConfigFile``, ``TowerConfigs/visionConfigFile``) that make the folder
  /// load without a table (open_clip ignores them).
  public func save(directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    if case let .openCLIP(bytes) = format { try AtomicWrite.file(bytes, to: directory + "/open_clip_config.json") }
    let bert: [String: Any] = [
      "model_type": "bert", "architectures": ["BertModel"], "hidden_size": text.hiddenSize,
      "num_hidden_layers": text.layers,
      "num_attention_heads": text.heads, "intermediate_size": text.intermediateSize, "hidden_act": "gelu",
      "layer_norm_eps": Double("\(text.layerNormEps)") ?? 1e-12, "max_position_embeddings": text.maxPositions,
      "type_vocab_size": text.typeVocabSize,
      "vocab_size": text.vocabSize, "pad_token_id": text.padTokenID, "position_embedding_type": "absolute",
    ]
    try AtomicWrite.file(jsonText(bert) + "\n", to: directory + "/" + TowerConfigs.textConfigFile)
    let timm: [String: Any] = [
      "embed_dim": vision.width, "depth": vision.depth, "num_heads": vision.heads, "patch_size": vision.patchSize,
    ]
    try AtomicWrite.file(jsonText(timm) + "\n", to: directory + "/" + TowerConfigs.visionConfigFile)
    try save(safetensors: directory + "/" + format.weightsFile, metadata: ["format": "pt"])
  }

  /// Buffers some checkpoints carry beside the weights; skipped when loading.
  static let buffers: Set<String> = [
    "text.transformer.embeddings.position_ids", "text.transformer.embeddings.token_type_ids",
  ]

  public func loadWeights(_ source: TensorSource) throws {
    try load(from: FilteredSource(base: source, drop: Self.buffers))
  }
}

extension OpenCLIPModel {
  /// The towers' sizes: widths, depths, MLP widths, patch, grid, vocabulary and positions are
  /// read off the tensors; what the tensors cannot tell (heads, layer-norm eps) comes from
  /// ``TowerConfigs`` (a config beside the weights in `directory`, else the published config of
  /// the model `settings` names), never from the width.
  static func shapes(
    from source: TensorSource, directory: String, settings: OpenCLIPConfig.TimmBertSettings, padTokenID: Int
  ) throws -> (TimmViTConfig, BertConfig) {
    let s = source.shapes
    func shape(_ name: String, rank: Int) throws -> [Int] {
      guard let v = s[name], v.count == rank, v.allSatisfy({ $0 > 0 && $0 <= ConfigReader.maxDimension }) else {
        let why = s[name].map { "has shape \($0), expected rank \(rank)" } ?? "is missing"
        throw CLIPConfigError(
          file: source.sourceDescription,
          problems: [
            "cannot infer the model's shape: \(name) \(why)"
              + (name.hasPrefix("text.")
                ? " (FairMed loads BERT-family text towers: \(settings.textModelName) does not look like one)" : "")
          ])
      }
      return v
    }
    func count(_ prefix: String) -> Int {
      Set(
        s.keys.compactMap { k -> Int? in k.hasPrefix(prefix) ? Int(k.dropFirst(prefix.count).prefix { $0 != "." }) : nil
        }
      ).count
    }
    let cls = try shape("visual.trunk.cls_token", rank: 3), pos = try shape("visual.trunk.pos_embed", rank: 3)
    let conv = try shape("visual.trunk.patch_embed.proj.weight", rank: 4),
      fc1 = try shape("visual.trunk.blocks.0.mlp.fc1.weight", rank: 2)
    let width = cls[2], grid = Int(Double(pos[1] - 1).squareRoot().rounded())
    let depth = count("visual.trunk.blocks.")
    let heads = try TowerConfigs.vitHeads(
      directory: directory, name: settings.timmModelName, width: width, depth: depth, patch: conv[2])
    var vision = TimmViTConfig(
      width: width, depth: depth, heads: heads, mlpWidth: fc1[0],
      patchSize: conv[2], imageSize: grid * conv[2], projectionDim: nil)
    vision.channels = conv[1]
    vision.qkvBias = s["visual.trunk.blocks.0.attn.qkv.bias"] != nil
    if settings.projection == "linear" {
      vision.projectionDim = try shape("visual.head.proj.weight", rank: 2)[0]
      vision.projectionBias = settings.projectionBias
    }
    var problems: [String] = []
    if grid * grid + 1 != pos[1] {
      problems.append("visual.trunk.pos_embed has \(pos[1]) rows, not a square grid plus a class token")
    }
    if vision.imageSize != settings.imageSize {
      problems.append(
        "vision_cfg.image_size \(settings.imageSize) differs from the weights' \(vision.imageSize) (\(grid)×\(grid) patches of \(conv[2]))"
      )
    }
    let words = try shape("text.transformer.embeddings.word_embeddings.weight", rank: 2)
    let positions = try shape("text.transformer.embeddings.position_embeddings.weight", rank: 2)
    let types = try shape("text.transformer.embeddings.token_type_embeddings.weight", rank: 2)
    let inter = try shape("text.transformer.encoder.layer.0.intermediate.dense.weight", rank: 2)
    let hidden = words[1], layers = count("text.transformer.encoder.layer.")
    let bert = try TowerConfigs.bert(
      directory: directory, hubID: settings.textModelName, hidden: hidden, layers: layers, intermediate: inter[0])
    var text = BertConfig(
      vocabSize: words[0], hiddenSize: hidden, layers: layers,
      heads: bert.heads, intermediateSize: inter[0], maxPositions: positions[0], typeVocabSize: types[0],
      padTokenID: padTokenID, hasPooler: s["text.transformer.pooler.dense.weight"] != nil)
    text.layerNormEps = bert.layerNormEps
    if !(0..<words[0]).contains(padTokenID) {
      problems.append("the [PAD] id \(padTokenID) is outside the \(words[0])-token vocabulary")
    }
    if !problems.isEmpty { throw CLIPConfigError(file: source.sourceDescription, problems: problems) }
    return (vision, text)
  }
}
