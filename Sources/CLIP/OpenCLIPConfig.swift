import Foundation
import NN
import Support

/// An open_clip folder's `open_clip_config.json`: `model_cfg` (the architecture) and
/// `preprocess_cfg` (the image normalisation). Two architecture families are understood:
/// open_clip's own `CLIP` (ViT + causal text transformer, loaded as ``CLIPModel``) and
/// `CustomTextCLIP` with a timm ViT trunk and a Hugging Face BERT text tower (BiomedCLIP,
/// loaded as ``OpenCLIPModel``). Anything else is refused by name.
public struct OpenCLIPConfig {
  public enum Architecture: Equatable {
    case native(CLIPConfig)
    case timmBert(TimmBertSettings)
  }

  /// The settings of a timm + BERT model that `model_cfg` states (sizes come from the weights).
  public struct TimmBertSettings: Equatable, Sendable {
    public var embedDim: Int
    public var timmModelName: String
    public var imageSize: Int
    public var projection: String
    public var projectionBias: Bool
    public var textModelName: String
    public var pooling: BertPooling
    public var textProjection: BertProjection
    public var contextLength: Int?
  }

  public let file: String
  /// The file's bytes, written back unchanged when the model is saved.
  public let bytes: Data
  public let architecture: Architecture
  public let preprocess: OpenCLIPPreprocess

  /// Reads and checks `path`.
  public init(contentsOf path: String) throws {
    file = path
    do { bytes = try readFile(path) } catch { throw CLIPConfigError(file: path, problems: ["cannot read the file"]) }
    guard let root = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any],
      let model = root["model_cfg"] as? [String: Any]
    else {
      throw CLIPConfigError(file: path, problems: ["not a JSON object with a model_cfg object"])
    }
    var r = ConfigReader(problems: [])
    let vision = r.object(model, "vision_cfg") ?? [:], text = r.object(model, "text_cfg") ?? [:]
    let embedDim = r.int(model, "embed_dim", "model_cfg.")
    for key in ["init_logit_bias", "custom_text_pad_id"] where model[key] != nil && !(model[key] is NSNull) {
      r.problems.append("model_cfg.\(key) is not supported (SigLIP-style logit bias)")
    }
    if vision["timm_model_name"] != nil || text["hf_model_name"] != nil {
      architecture = .timmBert(Self.timmBert(vision, text, embedDim: embedDim, reader: &r))
    } else {
      architecture = .native(Self.native(model, vision, text, embedDim: embedDim, reader: &r))
    }
    preprocess = OpenCLIPPreprocess(root["preprocess_cfg"] as? [String: Any] ?? [:], reader: &r)
    if !r.problems.isEmpty { throw CLIPConfigError(file: path, problems: r.problems) }
  }

  /// open_clip's own `CLIP`: `vision_cfg` (width, layers, head_width, mlp_ratio, patch_size,
  /// image_size) and `text_cfg` (width, heads, layers, context_length, vocab_size).
  static func native(
    _ model: [String: Any], _ v: [String: Any], _ t: [String: Any], embedDim: Int, reader r: inout ConfigReader
  ) -> CLIPConfig {
    let unsupported: [(String, [String: Any], (Any) -> Bool)] = [
      ("vision_cfg.ls_init_value", v, { !($0 is NSNull) }),
      ("vision_cfg.attentional_pool", v, { ($0 as? Bool) == true }),
      ("vision_cfg.no_ln_pre", v, { ($0 as? Bool) == true }),
      ("vision_cfg.final_ln_after_pool", v, { ($0 as? Bool) == true }),
      ("vision_cfg.pool_type", v, { ($0 as? String) != "tok" }),
      ("vision_cfg.pos_embed_type", v, { ($0 as? String) != "learnable" }),
      ("text_cfg.pool_type", t, { ($0 as? String) != "argmax" }), ("text_cfg.ls_init_value", t, { !($0 is NSNull) }),
      ("text_cfg.proj_bias", t, { ($0 as? Bool) == true }), ("text_cfg.no_causal_mask", t, { ($0 as? Bool) == true }),
      ("text_cfg.embed_cls", t, { ($0 as? Bool) == true }), ("vision_cfg.layers", v, { $0 is [Any] }),
    ]
    for (key, d, bad) in unsupported {
      if let value = d[String(key.split(separator: ".")[1])], bad(value) {
        r.problems.append("\(key) \(value) is not supported")
      }
    }
    let act: Activation = (model["quick_gelu"] as? Bool) == true ? .quickGELU : .gelu
    let vw = r.int(v, "width", "vision_cfg.", default: 768),
      headWidth = r.int(v, "head_width", "vision_cfg.", default: 64)
    let patch = r.int(v, "patch_size", "vision_cfg.", default: 16)
    // image_size is a number or an [h, w] pair, which must be square.
    var image = 224
    if let pair = v["image_size"] as? [Any] {
      image = r.int(["image_size": pair.first ?? 0], "image_size", "vision_cfg.")
      if pair.count != 2 || r.int(["image_size": pair.last ?? 0], "image_size", "vision_cfg.") != image {
        r.problems.append("vision_cfg.image_size \(pair) is not a square [size, size]")
      }
    } else {
      image = r.int(v, "image_size", "vision_cfg.", default: 224)
    }
    // mlp_ratio: a finite ratio in (0, 64]; the MLP width it gives must be a positive size.
    func mlpWidth(_ d: [String: Any], _ scope: String, width: Int) -> Int {
      let ratio = Double(r.float(d, "mlp_ratio", scope, default: 4))
      guard ratio > 0, ratio <= 64 else {
        r.problems.append("\(scope)mlp_ratio must be in (0, 64], got \(ratio)")
        return 0
      }
      let n = Int((Double(max(width, 0)) * ratio).rounded(.down))
      if width > 0, n < 1 { r.problems.append("\(scope)mlp_ratio \(ratio) × width \(width) is below 1") }
      return n
    }
    var vision = CLIPTowerConfig(
      hiddenSize: vw, intermediateSize: mlpWidth(v, "vision_cfg.", width: vw),
      numAttentionHeads: headWidth > 0 ? vw / headWidth : 0,
      numHiddenLayers: r.int(v, "layers", "vision_cfg.", default: 12), hiddenAct: act, layerNormEps: 1e-5)
    vision.patchSize = patch
    vision.imageSize = image
    let tw = r.int(t, "width", "text_cfg.", default: 512), vocab = r.int(t, "vocab_size", "text_cfg.", default: 49408)
    var text = CLIPTowerConfig(
      hiddenSize: tw, intermediateSize: mlpWidth(t, "text_cfg.", width: tw),
      numAttentionHeads: r.int(t, "heads", "text_cfg.", default: 8),
      numHiddenLayers: r.int(t, "layers", "text_cfg.", default: 12),
      hiddenAct: act, layerNormEps: 1e-5)
    text.maxPositionEmbeddings = r.int(t, "context_length", "text_cfg.", default: 77)
    text.vocabSize = vocab
    text.eosTokenID = vocab - 1
    text.bosTokenID = vocab - 2
    text.padTokenID = 0
    for (name, x) in [
      ("vision_cfg.width", vw), ("vision_cfg.head_width", headWidth), ("text_cfg.width", tw), ("embed_dim", embedDim),
      ("vision_cfg.patch_size", patch), ("vision_cfg.image_size", image), ("vision_cfg.layers", vision.numHiddenLayers),
      ("text_cfg.heads", text.numAttentionHeads), ("text_cfg.layers", text.numHiddenLayers),
      ("text_cfg.context_length", text.maxPositionEmbeddings),
    ] where x <= 0 {
      r.problems.append("\(name) must be positive, got \(x)")
    }
    if vocab < 2 { r.problems.append("text_cfg.vocab_size must be at least 2 (end and start tokens), got \(vocab)") }
    if headWidth > 0, vw % headWidth != 0 {
      r.problems.append("vision_cfg.width \(vw) is not a multiple of head_width \(headWidth)")
    }
    if patch > 0, image % patch != 0 {
      r.problems.append("vision_cfg.image_size \(image) is not a multiple of patch_size \(patch)")
    }
    if text.numAttentionHeads > 0, tw % text.numAttentionHeads != 0 {
      r.problems.append("text_cfg.width \(tw) is not divisible by heads \(text.numAttentionHeads)")
    }
    return CLIPConfig(vision: vision, text: text, projectionDim: max(embedDim, 1))
  }

  static func timmBert(_ v: [String: Any], _ t: [String: Any], embedDim: Int, reader r: inout ConfigReader)
    -> TimmBertSettings
  {
    let pool = (v["timm_pool"] as? String) ?? ""
    if !["", "token"].contains(pool) {
      r.problems.append("vision_cfg.timm_pool '\(pool)' is not supported (only class-token pooling: \"\" or \"token\")")
    }
    let proj = (v["timm_proj"] as? String) ?? "linear"
    if !["linear", "none"].contains(proj) {
      r.problems.append("vision_cfg.timm_proj '\(proj)' is not supported (linear or none)")
    }
    let poolerName = (t["hf_pooler_type"] as? String) ?? BertPooling.cls.rawValue
    let pooling = BertPooling(rawValue: poolerName)
    if pooling == nil {
      r.problems.append(
        "text_cfg.hf_pooler_type '\(poolerName)' is not supported (\(BertPooling.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    }
    let projName = (t["hf_proj_type"] as? String) ?? BertProjection.mlp.rawValue
    let textProjection = BertProjection(rawValue: projName)
    if textProjection == nil {
      r.problems.append("text_cfg.hf_proj_type '\(projName)' is not supported (mlp or linear)")
    }
    let name = (v["timm_model_name"] as? String) ?? ""
    if !name.hasPrefix("vit_") {
      r.problems.append(
        "vision_cfg.timm_model_name '\(name)' is not a timm Vision Transformer (vit_*), the one timm family FairMed loads"
      )
    }
    if embedDim <= 0 { r.problems.append("model_cfg.embed_dim must be positive, got \(embedDim)") }
    return TimmBertSettings(
      embedDim: embedDim, timmModelName: name, imageSize: r.int(v, "image_size", "vision_cfg.", default: 224),
      projection: proj,
      projectionBias: (v["timm_proj_bias"] as? Bool) ?? false, textModelName: (t["hf_model_name"] as? String) ?? "",
      pooling: pooling ?? .cls, textProjection: textProjection ?? .mlp,
      contextLength: t["context_length"] == nil ? nil : r.int(t, "context_length", "text_cfg."))
  }
}

/// open_clip's `preprocess_cfg`: normalisation and resize of the evaluation transform.
public struct OpenCLIPPreprocess: Sendable, Equatable {
  public var mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
  public var std: [Float] = [0.26862954, 0.26130258, 0.27577711]
  /// `bicubic` (open_clip's default) or `bilinear`.
  public var interpolation = "bicubic"

  init(_ d: [String: Any], reader r: inout ConfigReader) {
    if let m = d["mean"] { mean = Self.triple(m, "preprocess_cfg.mean", &r) ?? mean }
    if let s = d["std"] { std = Self.triple(s, "preprocess_cfg.std", &r) ?? std }
    if std.contains(where: { $0 <= 0 }) { r.problems.append("preprocess_cfg.std must be positive, got \(std)") }
    if let i = d["interpolation"] as? String { interpolation = i }
    if !["bicubic", "bilinear"].contains(interpolation) {
      r.problems.append("preprocess_cfg.interpolation '\(interpolation)' is not supported (bicubic, bilinear)")
    }
    if let mode = d["resize_mode"] as? String, mode != "shortest" {
      r.problems.append("preprocess_cfg.resize_mode '\(mode)' is not supported (shortest)")
    }
  }

  static func triple(_ v: Any, _ key: String, _ r: inout ConfigReader) -> [Float]? {
    if let n = v as? NSNumber, n.floatValue.isFinite { return Array(repeating: n.floatValue, count: 3) }
    guard let a = v as? [NSNumber], a.count == 3, a.allSatisfy({ $0.floatValue.isFinite }) else {
      r.problems.append("\(key) must be 3 finite numbers, got \(v)")
      return nil
    }
    return a.map(\.floatValue)
  }
}
