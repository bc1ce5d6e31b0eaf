import Foundation
import Support

/// The sizes of an open_clip timm + BERT model that its weights cannot tell: attention heads (a
/// `[W, W]` projection is the same tensor for any head count), activation, layer-norm eps and
/// position type. They come, in this order, from a config beside the weights, from the published
/// config of the model the open_clip config names, or not at all: FairMed then refuses, naming
/// the value and the file that would supply it. Heads are never inferred from the width.
public enum TowerConfigs {
  /// The BERT text tower's config beside the weights: a Hugging Face `BertConfig` (`config.json`
  /// of the text model), written by ``OpenCLIPModel/save(directory:)`` too.
  public static let textConfigFile = "text_config.json"
  /// The timm trunk's size arguments beside the weights: timm's `model_args` keys
  /// (`num_heads`, optionally `embed_dim`, `depth`, `patch_size`, checked against the weights).
  public static let visionConfigFile = "vision_config.json"

  /// A text tower's published architecture (Hugging Face `config.json`).
  public struct Bert: Sendable, Equatable {
    public var hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int
    public var layerNormEps: Float = 1e-12
  }

  /// A timm ViT's published size arguments (`_create_vision_transformer`'s `model_args`).
  public struct ViT: Sendable, Equatable {
    public var width: Int, depth: Int, heads: Int, patchSize: Int
  }

  /// BERT-family text models whose published `config.json` FairMed knows, by hub id. All are
  /// BERT (`model_type` bert), exact GELU, absolute positions, layer-norm eps 1e-12; the
  /// MiniLM entry is checked in CI against the config.json shipped in a PyPI wheel
  /// (Tests/CLIPTests/RealWeightTests.swift), the rest are transcribed from their model cards'
  /// config.json.
  public static let knownBert: [String: Bert] = {
    let base = Bert(hiddenSize: 768, layers: 12, heads: 12, intermediateSize: 3072)
    let large = Bert(hiddenSize: 1024, layers: 24, heads: 16, intermediateSize: 4096)
    var t: [String: Bert] = [:]
    for id in [
      "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
      "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext",
      "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract",
      "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext",
      "bert-base-uncased", "bert-base-cased", "google-bert/bert-base-uncased", "google-bert/bert-base-cased",
      "bert-base-multilingual-cased", "google-bert/bert-base-multilingual-cased",
      "emilyalsentzer/Bio_ClinicalBERT", "dmis-lab/biobert-v1.1", "dmis-lab/biobert-base-cased-v1.2",
      "BAAI/bge-base-en-v1.5",
    ] {
      t[id] = base
    }
    for id in [
      "bert-large-uncased", "bert-large-cased", "google-bert/bert-large-uncased", "google-bert/bert-large-cased",
    ] { t[id] = large }
    let miniLM6 = Bert(hiddenSize: 384, layers: 6, heads: 12, intermediateSize: 1536)
    let miniLM12 = Bert(hiddenSize: 384, layers: 12, heads: 12, intermediateSize: 1536)
    for id in [
      "sentence-transformers/all-MiniLM-L6-v2", "sentence-transformers/paraphrase-MiniLM-L6-v2",
      "sentence-transformers/multi-qa-MiniLM-L6-cos-v1", "nreimers/MiniLM-L6-H384-uncased",
    ] { t[id] = miniLM6 }
    for id in [
      "sentence-transformers/all-MiniLM-L12-v2", "sentence-transformers/paraphrase-MiniLM-L12-v2",
      "BAAI/bge-small-en-v1.5", "intfloat/e5-small-v2",
    ] { t[id] = miniLM12 }
    // Google's 24 compact BERTs state their sizes in the name: L layers, H width, A heads.
    for l in [2, 4, 6, 8, 10, 12] {
      for (h, a) in [(128, 2), (256, 4), (512, 8), (768, 12)] {
        t["google/bert_uncased_L-\(l)_H-\(h)_A-\(a)"] = Bert(
          hiddenSize: h, layers: l, heads: a, intermediateSize: 4 * h)
      }
    }
    for (name, l, h, a) in [("tiny", 2, 128, 2), ("mini", 4, 256, 4), ("small", 4, 512, 8), ("medium", 8, 512, 8)] {
      t["prajjwal1/bert-\(name)"] = Bert(hiddenSize: h, layers: l, heads: a, intermediateSize: 4 * h)
    }
    return t
  }()

  /// The plain timm ViTs (no LayerScale, registers, pre-norm, average pooling or other activation)
  /// by model name, equal to timm 1.0.31's registered `model_args`
  /// (Tests/CLIPTests/Fixtures/timm_vit_families.json, Scripts/fixtures/make_real_bert_fixtures.py).
  public static let knownViT: [String: ViT] = {
    var t: [String: ViT] = [:]
    let sizes: [(String, Int, Int, Int, [(Int, [Int])])] = [
      ("tiny", 192, 12, 3, [(16, [224, 384])]),
      ("small", 384, 12, 6, [(8, [224]), (16, [224, 384]), (32, [224, 384])]),
      ("base", 768, 12, 12, [(8, [224]), (16, [224, 384]), (32, [224, 384])]),
      ("large", 1024, 24, 16, [(14, [224]), (16, [224, 384]), (32, [224, 384])]),
      ("huge", 1280, 32, 16, [(14, [224])]),
      ("giant", 1408, 40, 16, [(14, [224])]),
      ("gigantic", 1664, 48, 16, [(14, [224])]),
    ]
    for (size, width, depth, heads, patches) in sizes {
      for (patch, resolutions) in patches {
        for r in resolutions {
          t["vit_\(size)_patch\(patch)_\(r)"] = ViT(width: width, depth: depth, heads: heads, patchSize: patch)
        }
      }
    }
    t["vit_base_patch16_224_miil"] = t["vit_base_patch16_224"]
    return t
  }()

  /// The BERT config for weights of `hidden` width, `layers` layers and `intermediate` MLP width
  /// in `directory`, for the hub id `hubID`.
  static func bert(directory: String, hubID: String, hidden: Int, layers: Int, intermediate: Int) throws -> Bert {
    let found: (Bert, String)
    if let c = try readBert(directory + "/" + textConfigFile, required: true) {
      found = c
    } else if let c = try readBert(directory + "/config.json", required: false) {
      found = c
    } else if let c = knownBert[hubID] {
      found = (c, "the published config of \(hubID)")
    } else {
      throw CLIPConfigError(
        file: directory,
        problems: [
          "the BERT text tower's attention heads cannot be read off its weights, and text_cfg.hf_model_name '\(hubID)' is not a model "
            + "FairMed knows: put the text model's Hugging Face config.json beside the weights as \(textConfigFile) "
            + "(num_attention_heads, hidden_act, layer_norm_eps)"
        ])
    }
    let (c, source) = found
    try refuseMismatch(
      source: source,
      sizes: [
        ("hidden_size", c.hiddenSize, hidden), ("num_hidden_layers", c.layers, layers),
        ("intermediate_size", c.intermediateSize, intermediate),
      ], headsKey: "num_attention_heads", heads: c.heads, width: hidden, directory: directory,
      remedy:
        "these weights are not \(hubID)'s architecture: put their BERT config.json beside them as \(textConfigFile)")
    return c
  }

  /// Refuses a config that does not describe the weights: a size it states differs from the
  /// weights' (`sizes`: key, stated, found), or its head count does not divide the width.
  static func refuseMismatch(
    source: String, sizes: [(String, Int, Int)], headsKey: String, heads: Int, width: Int, directory: String,
    remedy: String
  ) throws {
    var problems = sizes.filter { $0.1 != $0.2 }.map { "\(source) says \($0.0) \($0.1), the weights have \($0.2)" }
    if heads <= 0 || width % heads != 0 {
      problems.append("\(source): \(headsKey) \(heads) does not divide the width \(width)")
    }
    if !problems.isEmpty { throw CLIPConfigError(file: directory, problems: problems + [remedy]) }
  }

  /// A Hugging Face BERT `config.json` at `path` (nil when absent and not `required`, or when it is
  /// a `config.json` of another model type, such as a CLIP folder's own).
  static func readBert(_ path: String, required: Bool) throws -> (Bert, String)? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let data: Data
    do { data = try readFile(path) } catch { throw CLIPConfigError(file: path, problems: ["cannot read the file"]) }
    guard let d = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw CLIPConfigError(file: path, problems: ["not a JSON object"])
    }
    let type = d["model_type"] as? String
    if !required && type != "bert" { return nil }
    var r = ConfigReader(problems: [])
    if let type, type != "bert" {
      r.problems.append("model_type '\(type)' is not bert, the one text model family FairMed loads here")
    }
    let act = (d["hidden_act"] as? String) ?? "gelu"
    if act != "gelu" { r.problems.append("hidden_act '\(act)' is not supported (gelu, BERT's exact GELU)") }
    let position = (d["position_embedding_type"] as? String) ?? "absolute"
    if position != "absolute" { r.problems.append("position_embedding_type '\(position)' is not supported (absolute)") }
    var c = Bert(
      hiddenSize: r.int(d, "hidden_size", ""), layers: r.int(d, "num_hidden_layers", ""),
      heads: r.int(d, "num_attention_heads", ""), intermediateSize: r.int(d, "intermediate_size", ""))
    c.layerNormEps = r.float(d, "layer_norm_eps", "", default: 1e-12)
    if !(c.layerNormEps > 0) { r.problems.append("layer_norm_eps must be positive, got \(c.layerNormEps)") }
    if !r.problems.isEmpty { throw CLIPConfigError(file: path, problems: r.problems) }
    return (c, path)
  }

  /// The timm trunk's heads for weights of `width`, `depth` blocks and `patch` size in
  /// `directory`, for the timm model `name` (a pretrained tag after `.` is ignored).
  static func vitHeads(directory: String, name: String, width: Int, depth: Int, patch: Int) throws -> Int {
    let path = directory + "/" + visionConfigFile
    let stated: ViT?
    let source: String
    if FileManager.default.fileExists(atPath: path) {
      let data: Data
      do { data = try readFile(path) } catch { throw CLIPConfigError(file: path, problems: ["cannot read the file"]) }
      guard let d = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw CLIPConfigError(file: path, problems: ["not a JSON object"])
      }
      var r = ConfigReader(problems: [])
      let heads = r.int(d, "num_heads", "")
      stated = ViT(
        width: r.int(d, "embed_dim", "", default: width), depth: r.int(d, "depth", "", default: depth), heads: heads,
        patchSize: r.int(d, "patch_size", "", default: patch))
      if !r.problems.isEmpty { throw CLIPConfigError(file: path, problems: r.problems) }
      source = path
    } else {
      let bare = String(name.prefix { $0 != "." })
      stated = knownViT[bare]
      source = "timm's \(bare)"
      if stated == nil {
        throw CLIPConfigError(
          file: directory,
          problems: [
            "the timm trunk's attention heads cannot be read off its weights, and vision_cfg.timm_model_name '\(name)' is not one of the plain "
              + "timm ViTs FairMed knows (\(knownViT.keys.sorted().joined(separator: ", "))): put {\"num_heads\": N} beside the weights as \(visionConfigFile)"
          ])
      }
    }
    guard let c = stated else { return 0 }
    try refuseMismatch(
      source: source,
      sizes: [("embed_dim", c.width, width), ("depth", c.depth, depth), ("patch_size", c.patchSize, patch)],
      headsKey: "num_heads", heads: c.heads, width: width, directory: directory,
      remedy: "these weights are not \(name)'s architecture: put {\"num_heads\": N} beside them as \(visionConfigFile)")
    return c.heads
  }
}
