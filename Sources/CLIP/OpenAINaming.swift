import Foundation
import NN
import Support
import Tensor

/// A view of an OpenAI / open_clip state dict (`visual.conv1.weight`, stacked
/// `attn.in_proj_weight`, `visual.proj` as `[width, dim]`, ...) under Hugging Face names, so the
/// same ``CLIPModel`` loads either layout. Tensors are converted while being read.
public struct OpenAINamingSource: TensorSource {
  /// How an HF tensor is obtained from the OpenAI one.
  enum Transform: Equatable {
    case same
    /// 2-D transpose (`text_projection`, `visual.proj` are `x @ P`; HF stores `P.T`).
    case transpose
    /// Part `k` of 3 along the first axis (q, k, v of `in_proj_weight` / `in_proj_bias`).
    case third(Int)
  }

  /// Non-tensor or derived entries open_clip may save, ignored when loading.
  static let ignorable: Set<String> = ["attn_mask", "input_resolution", "context_length", "vocab_size"]

  public let base: TensorSource
  let mapping: [String: (name: String, transform: Transform)]
  public let shapes: [String: [Int]]

  /// Whether `names` look like an OpenAI / open_clip checkpoint.
  public static func matches(_ names: some Sequence<String>) -> Bool {
    names.contains { $0 == "visual.conv1.weight" || $0 == "token_embedding.weight" }
  }

  /// Maps the HF names `hfNames` (the model's parameters) onto `base`.
  public init(base: TensorSource, hfNames: [String]) {
    self.base = base
    let baseShapes = base.shapes
    var mapping: [String: (name: String, transform: Transform)] = [:]
    var shapes: [String: [Int]] = [:]
    var used = Set<String>()
    for hf in hfNames {
      guard let (name, t) = Self.openAIName(hf), let s = baseShapes[name] else { continue }
      mapping[hf] = (name, t)
      used.insert(name)
      switch t {
      case .same: shapes[hf] = s
      case .transpose: shapes[hf] = s.count == 2 ? [s[1], s[0]] : s
      case .third: shapes[hf] = s.isEmpty ? s : [s[0] / 3] + s.dropFirst()
      }
    }
    // Unused OpenAI tensors keep their names, so the loader reports them as unexpected.
    for (name, s) in baseShapes
    where !used.contains(name) && !Self.ignorable.contains(name) && !name.hasSuffix(".attn_mask") {
      shapes[name] = s
    }
    self.mapping = mapping
    self.shapes = shapes
  }

  public var sourceDescription: String { base.sourceDescription + " (OpenAI/open_clip naming)" }

  public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
    guard let (src, t) = mapping[name], let s = base.shapes[src] else {
      throw SafetensorsError(file: sourceDescription, tensor: name, "no OpenAI-named source tensor")
    }
    switch t {
    case .same:
      try base.read(src, into: destination)
    case .transpose:
      let tmp = Tensor.zeros(s)
      try base.read(src, into: tmp.pointer)
      let (r, c) = (s[0], s[1])
      for i in 0..<r { for j in 0..<c { destination[j * r + i] = tmp.pointer[i * c + j] } }
    case let .third(k):
      let tmp = Tensor.zeros(s)
      try base.read(src, into: tmp.pointer)
      let part = tmp.count / 3
      destination.update(from: tmp.pointer + k * part, count: part)
    }
  }

  /// The OpenAI name (and conversion) for a Hugging Face parameter name.
  static func openAIName(_ hf: String) -> (String, Transform)? {
    let direct: [String: (String, Transform)] = [
      "logit_scale": ("logit_scale", .same),
      "text_projection.weight": ("text_projection", .transpose),
      "visual_projection.weight": ("visual.proj", .transpose),
      "text_model.embeddings.token_embedding.weight": ("token_embedding.weight", .same),
      "text_model.embeddings.position_embedding.weight": ("positional_embedding", .same),
      "text_model.final_layer_norm.weight": ("ln_final.weight", .same),
      "text_model.final_layer_norm.bias": ("ln_final.bias", .same),
      "vision_model.embeddings.class_embedding": ("visual.class_embedding", .same),
      "vision_model.embeddings.patch_embedding.weight": ("visual.conv1.weight", .same),
      "vision_model.embeddings.position_embedding.weight": ("visual.positional_embedding", .same),
      "vision_model.pre_layrnorm.weight": ("visual.ln_pre.weight", .same),
      "vision_model.pre_layrnorm.bias": ("visual.ln_pre.bias", .same),
      "vision_model.post_layernorm.weight": ("visual.ln_post.weight", .same),
      "vision_model.post_layernorm.bias": ("visual.ln_post.bias", .same),
    ]
    if let d = direct[hf] { return d }
    let parts = hf.split(separator: ".").map(String.init)
    // {text_model|vision_model}.encoder.layers.<i>.<module...>.<weight|bias>
    guard parts.count >= 6, parts[1] == "encoder", parts[2] == "layers",
      let tower = ["text_model": "", "vision_model": "visual."][parts[0]]
    else { return nil }
    let block = "\(tower)transformer.resblocks.\(parts[3])."
    let rest = parts[4...].joined(separator: ".")
    let p = parts.last!
    for (i, x) in ["q", "k", "v"].enumerated() where rest == "self_attn.\(x)_proj.\(p)" {
      return (block + "attn.in_proj_\(p)", .third(i))
    }
    let renames = [
      "self_attn.out_proj": "attn.out_proj", "layer_norm1": "ln_1", "layer_norm2": "ln_2",
      "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj",
    ]
    let module = parts[4..<(parts.count - 1)].joined(separator: ".")
    guard let m = renames[module] else { return nil }
    return (block + m + "." + p, .same)
  }
}

extension CLIPModel {
  /// The weights under OpenAI / open_clip names (q, k, v stacked into `in_proj_*`, projections
  /// transposed), as open_clip's `CLIP.state_dict()` holds them.
  public func openAIStateDict() throws -> [(String, Tensor)] {
    var out: [(String, Tensor)] = []
    var stacked: [String: [Int: Tensor]] = [:]
    for (hf, t) in namedParameters() {
      guard let (name, transform) = OpenAINamingSource.openAIName(hf) else {
        throw SafetensorsError(
          file: "open_clip export", tensor: hf, "has no open_clip name (LoRA adapters are saved separately)")
      }
      switch transform {
      case .same: out.append((name, t))
      case .transpose: out.append((name, try t.transposed(0, 1)))
      case let .third(k):
        stacked[name, default: [:]][k] = t
        if let parts = stacked[name], parts.count == 3 {
          out.append((name, try concat((0..<3).compactMap { parts[$0] }, axis: 0)))
        }
      }
    }
    return out
  }
}

extension CLIPConfig {
  /// Infers the architecture from OpenAI-named tensor shapes, as open_clip does (heads =
  /// width / 64; activation quick_gelu, the OpenAI models' — pass another for open_clip ones).
  public static func inferred(
    fromOpenAI shapes: [String: [Int]], activation: Activation = .quickGELU,
    source: String = "checkpoint"
  ) throws -> CLIPConfig {
    func shape(_ n: String, rank: Int) throws -> [Int] {
      guard let s = shapes[n] else {
        throw CLIPConfigError(file: source, problems: ["cannot infer the config: no \(n)"])
      }
      guard s.count == rank, s.allSatisfy({ $0 > 0 && $0 <= ConfigReader.maxDimension }) else {
        throw CLIPConfigError(
          file: source,
          problems: [
            "cannot infer the config: \(n) has shape \(s), expected rank \(rank) with every dimension in 1…\(ConfigReader.maxDimension)"
          ])
      }
      return s
    }
    func layers(_ prefix: String) -> Int {
      Set(
        shapes.keys.compactMap { k -> Int? in
          guard k.hasPrefix(prefix) else { return nil }
          return Int(k.dropFirst(prefix.count).prefix { $0 != "." })
        }
      ).count
    }
    let conv = try shape("visual.conv1.weight", rank: 4), vpos = try shape("visual.positional_embedding", rank: 2)
    let vfc = try shape("visual.transformer.resblocks.0.mlp.c_fc.weight", rank: 2)
    let tok = try shape("token_embedding.weight", rank: 2), tpos = try shape("positional_embedding", rank: 2)
    let tfc = try shape("transformer.resblocks.0.mlp.c_fc.weight", rank: 2),
      proj = try shape("text_projection", rank: 2)
    // One class token and a square grid of patches; square patches.
    let grid = Int(Double(vpos[0] - 1).squareRoot().rounded())
    guard grid > 0, grid * grid == vpos[0] - 1, conv[2] == conv[3] else {
      throw CLIPConfigError(
        file: source,
        problems: [
          "cannot infer the config: visual.positional_embedding \(vpos) and visual.conv1.weight \(conv) are not a class token plus a square grid of square patches"
        ])
    }
    let vision = CLIPTowerConfig(
      hiddenSize: conv[0], intermediateSize: vfc[0], numAttentionHeads: max(conv[0] / 64, 1),
      numHiddenLayers: layers("visual.transformer.resblocks."), hiddenAct: activation, layerNormEps: 1e-5,
      imageSize: grid * conv[2], patchSize: conv[2], numChannels: conv[1])
    let text = CLIPTowerConfig(
      hiddenSize: tok[1], intermediateSize: tfc[0], numAttentionHeads: max(tok[1] / 64, 1),
      numHiddenLayers: layers("transformer.resblocks."), hiddenAct: activation, layerNormEps: 1e-5,
      maxPositionEmbeddings: tpos[0], vocabSize: tok[0], eosTokenID: tok[0] - 1, padTokenID: tok[0] - 1,
      bosTokenID: tok[0] - 2)
    return CLIPConfig(vision: vision, text: text, projectionDim: proj[1])
  }
}

extension CLIPConfig {
  /// open_clip's `model_cfg` for this architecture (`open_clip.CLIP`: ViT + causal text
  /// transformer); throws naming every field open_clip cannot express.
  public func openCLIPModelConfig() throws -> [String: Any] {
    var problems: [String] = []
    if vision.hiddenAct != text.hiddenAct || ![.quickGELU, .gelu].contains(vision.hiddenAct) {
      problems.append(
        "hidden_act \(vision.hiddenAct.rawValue) / \(text.hiddenAct.rawValue): open_clip has one activation, quick_gelu or gelu, for both towers"
      )
    }
    for (name, eps) in [("vision", vision.layerNormEps), ("text", text.layerNormEps)] where eps != 1e-5 {
      problems.append("\(name) layer_norm_eps \(eps): open_clip's LayerNorm uses 1e-5")
    }
    if vision.numChannels != 3 { problems.append("num_channels \(vision.numChannels): open_clip's ViT takes 3") }
    if text.vocabSize != 49408 {
      problems.append("vocab_size \(text.vocabSize): open_clip tokenizes with OpenAI's 49408-token BPE")
    }
    if text.eosTokenID != text.vocabSize - 1 {
      problems.append(
        "eos_token_id \(text.eosTokenID): open_clip pools at the largest token id (\(text.vocabSize - 1))")
    }
    for (name, t) in [("vision", vision), ("text", text)]
    where t.numAttentionHeads < 1 || t.hiddenSize % t.numAttentionHeads != 0 {
      problems.append("\(name) width \(t.hiddenSize) is not a multiple of its \(t.numAttentionHeads) heads")
    }
    guard problems.isEmpty else { throw CLIPConfigError(file: "open_clip export", problems: problems) }
    return [
      "embed_dim": projectionDim, "quick_gelu": vision.hiddenAct == .quickGELU,
      "vision_cfg": [
        "image_size": vision.imageSize, "patch_size": vision.patchSize, "width": vision.hiddenSize,
        "layers": vision.numHiddenLayers, "head_width": vision.hiddenSize / vision.numAttentionHeads,
        "mlp_ratio": Double(vision.intermediateSize) / Double(vision.hiddenSize),
      ],
      "text_cfg": [
        "context_length": text.maxPositionEmbeddings, "vocab_size": text.vocabSize, "width": text.hiddenSize,
        "heads": text.numAttentionHeads, "layers": text.numHiddenLayers,
        "mlp_ratio": Double(text.intermediateSize) / Double(text.hiddenSize),
      ],
    ]
  }
}

extension CLIPModel {
  /// Writes an open_clip folder — `open_clip_config.json` (``CLIPConfig/openCLIPModelConfig()``
  /// and the preprocessing) and `open_clip_model.safetensors` (``openAIStateDict()``) — that
  /// `open_clip.create_model("local-dir:DIR")` builds and FairMed loads back.
  public func saveOpenCLIP(directory: String, mean: [Float], std: [Float], bilinear: Bool) throws {
    let root: [String: Any] = [
      "model_cfg": try config.openCLIPModelConfig(),
      "preprocess_cfg": [
        "mean": mean.map(Double.init), "std": std.map(Double.init), "interpolation": bilinear ? "bilinear" : "bicubic",
        "resize_mode": "shortest",
      ],
    ]
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try AtomicWrite.file(
      try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys]),
      to: directory + "/open_clip_config.json")
    try Safetensors.write(
      openAIStateDict(), metadata: ["format": "pt"],
      to: directory + "/" + CheckpointFormat.openCLIP(config: Data()).weightsFile)
  }
}
