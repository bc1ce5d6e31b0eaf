import Foundation
import NN
import Support

/// One tower's settings (`vision_config` or `text_config` in a Hugging Face `config.json`).
public struct CLIPTowerConfig: Sendable, Equatable {
  public var hiddenSize: Int
  public var intermediateSize: Int
  public var numAttentionHeads: Int
  public var numHiddenLayers: Int
  public var hiddenAct: Activation
  public var layerNormEps: Float
  // Vision only.
  public var imageSize: Int
  public var patchSize: Int
  public var numChannels: Int
  // Text only.
  public var maxPositionEmbeddings: Int
  public var vocabSize: Int
  public var eosTokenID: Int
  public var padTokenID: Int
  public var bosTokenID: Int

  /// Patches per image side.
  public var gridSize: Int { imageSize / patchSize }

  public init(
    hiddenSize: Int, intermediateSize: Int, numAttentionHeads: Int, numHiddenLayers: Int,
    hiddenAct: Activation = .quickGELU, layerNormEps: Float = 1e-5, imageSize: Int = 224, patchSize: Int = 32,
    numChannels: Int = 3, maxPositionEmbeddings: Int = 77, vocabSize: Int = 49408, eosTokenID: Int = 49407,
    padTokenID: Int = 1, bosTokenID: Int = 49406
  ) {
    self.hiddenSize = hiddenSize
    self.intermediateSize = intermediateSize
    self.numAttentionHeads = numAttentionHeads
    self.numHiddenLayers = numHiddenLayers
    self.hiddenAct = hiddenAct
    self.layerNormEps = layerNormEps
    self.imageSize = imageSize
    self.patchSize = patchSize
    self.numChannels = numChannels
    self.maxPositionEmbeddings = maxPositionEmbeddings
    self.vocabSize = vocabSize
    self.eosTokenID = eosTokenID
    self.padTokenID = padTokenID
    self.bosTokenID = bosTokenID
  }
}

/// A CLIP configuration read from (and written to) Hugging Face's `config.json`.
///
/// The architecture keys (`hidden_size`, `intermediate_size`, `num_attention_heads`,
/// `num_hidden_layers`) are required; the others default to `transformers`' defaults when absent.
/// Every wrong type, missing key or impossible value is reported in one ``CLIPConfigError``.
public struct CLIPConfig: Sendable, Equatable {
  public var vision: CLIPTowerConfig
  public var text: CLIPTowerConfig
  public var projectionDim: Int
  public var logitScaleInitValue: Float
  public var initializerFactor: Float = 1
  public var initializerRange: Float = 0.02

  public init(vision: CLIPTowerConfig, text: CLIPTowerConfig, projectionDim: Int, logitScaleInitValue: Float = 2.6592) {
    self.vision = vision
    self.text = text
    self.projectionDim = projectionDim
    self.logitScaleInitValue = logitScaleInitValue
  }

  /// Reads `config.json`.
  public init(contentsOf path: String) throws {
    let data: Data
    do { data = try readFile(path) } catch {
      throw CLIPConfigError(file: path, problems: ["cannot read the file"])
    }
    guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
      throw CLIPConfigError(file: path, problems: ["not a JSON object"])
    }
    try self.init(json: dict, file: path)
  }

  /// Parses a decoded `config.json` object.
  public init(json: [String: Any], file: String = "config.json") throws {
    var r = ConfigReader(problems: [])
    let v = r.object(json, "vision_config")
    let t = r.object(json, "text_config")
    vision = r.tower(v, "vision_config", vision: true)
    text = r.tower(t, "text_config", vision: false)
    projectionDim = r.int(json, "projection_dim", "", default: 512)
    logitScaleInitValue = r.float(json, "logit_scale_init_value", "", default: 2.6592)
    initializerFactor = r.float(json, "initializer_factor", "", default: 1)
    initializerRange = r.float(v ?? [:], "initializer_range", "vision_config.", default: 0.02)
    if projectionDim <= 0 { r.problems.append("projection_dim must be positive, got \(projectionDim)") }
    if !r.problems.isEmpty { throw CLIPConfigError(file: file, problems: r.problems) }
  }

  /// The `config.json` object `transformers.CLIPConfig` reads back.
  public func json() -> [String: Any] {
    func tower(_ c: CLIPTowerConfig, vision: Bool) -> [String: Any] {
      var d: [String: Any] = [
        "hidden_size": c.hiddenSize, "intermediate_size": c.intermediateSize,
        "num_attention_heads": c.numAttentionHeads, "num_hidden_layers": c.numHiddenLayers,
        "hidden_act": c.hiddenAct.rawValue, "layer_norm_eps": shortest(c.layerNormEps),
        "projection_dim": projectionDim, "attention_dropout": 0.0, "initializer_range": shortest(initializerRange),
        "initializer_factor": shortest(initializerFactor),
        "model_type": vision ? "clip_vision_model" : "clip_text_model",
      ]
      if vision {
        d["image_size"] = c.imageSize
        d["patch_size"] = c.patchSize
        d["num_channels"] = c.numChannels
      } else {
        d["max_position_embeddings"] = c.maxPositionEmbeddings
        d["vocab_size"] = c.vocabSize
        d["eos_token_id"] = c.eosTokenID
        d["bos_token_id"] = c.bosTokenID
        d["pad_token_id"] = c.padTokenID
      }
      return d
    }
    return [
      "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": projectionDim,
      "logit_scale_init_value": shortest(logitScaleInitValue), "initializer_factor": shortest(initializerFactor),
      "vision_config": tower(vision, vision: true), "text_config": tower(text, vision: false),
    ]
  }

  /// Writes ``json()`` to `path` (floats keep a decimal point: `transformers` rejects `1` for a
  /// float field).
  public func write(to path: String) throws {
    try AtomicWrite.file(jsonText(json()) + "\n", to: path)
  }
}

/// The Double whose decimal text is the Float's shortest one (1e-05, not 9.99999974737875e-06).
func shortest(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }

/// A config file's JSON text: keys sorted, two-space indentation, `Double` values always with a
/// decimal point or exponent (Support's one JSON writer).
func jsonText(_ v: Any) -> String {
  JSONValue(sortingKeysOf: v).serialized(floatsKeepDecimalPoint: true)
}

extension CLIPConfig {
  /// The number of parameters this configuration describes (nil when it overflows `Int`),
  /// computed without building the model, to compare with a checkpoint before allocating.
  public var parameterCount: Int? {
    func block(_ w: Int, _ i: Int) -> Int? { try? checkedSum([4 * w, 4 * w * w, 4 * w, w * i, i, i * w, w]) }
    guard
      let dims = try? checkedSum([vision.hiddenSize, vision.intermediateSize, text.hiddenSize, text.intermediateSize]),
      dims < 1 << 26
    else { return nil }
    let w = vision.hiddenSize, t = text.hiddenSize
    let grid = vision.patchSize > 0 ? min(vision.imageSize / vision.patchSize, 1 << 20) : 0
    func times(_ a: Int, _ b: Int) -> Int? { let (p, o) = a.multipliedReportingOverflow(by: b); return o ? nil : p }
    guard let vb = block(w, vision.intermediateSize), let tb = block(t, text.intermediateSize),
      let vl = times(vb, vision.numHiddenLayers), let tl = times(tb, text.numHiddenLayers),
      let pixels = times(vision.numChannels, vision.patchSize).flatMap({ times($0, vision.patchSize) }),
      let patch = times(pixels, w),
      let pos = times(grid * grid + 1, w), let tokens = times(text.vocabSize, t),
      let tpos = times(text.maxPositionEmbeddings, t),
      let vp = times(w, projectionDim), let tp = times(t, projectionDim)
    else { return nil }
    return try? checkedSum([patch, w, pos, 2 * w, vl, 2 * w, vp, tokens, tpos, tl, 2 * t, tp, 1])
  }
}

/// The sum of `values`, throwing on overflow.
func checkedSum(_ values: [Int]) throws -> Int {
  struct Overflow: Error {}
  return try values.reduce(0) { a, b in
    let (s, o) = a.addingReportingOverflow(b)
    if o { throw Overflow() }
    return s
  }
}

/// Everything wrong with a `config.json`, in one error.
public struct CLIPConfigError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let problems: [String]
  public var description: String {
    "invalid CLIP config \(file):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
  }
}

/// Typed key access that collects problems instead of stopping at the first.
struct ConfigReader {
  var problems: [String]
  /// No size in a config may exceed this (a checkpoint of that width would not fit in memory).
  static let maxDimension = 1 << 24

  mutating func object(_ d: [String: Any], _ key: String) -> [String: Any]? {
    guard let v = d[key] else { problems.append("missing \(key)"); return nil }
    guard let o = v as? [String: Any] else {
      problems.append("\(key) must be an object, got \(jsonValueDescription(v))"); return nil
    }
    return o
  }

  mutating func int(_ d: [String: Any], _ key: String, _ scope: String, default def: Int? = nil) -> Int {
    guard let v = d[key], !(v is NSNull) else {
      if let def { return def }
      problems.append(
        d[key] == nil
          ? "missing \(scope)\(key)"
          : "\(scope)\(key) must be an integer of at most \(ConfigReader.maxDimension), got null")
      return 0
    }
    guard let n = v as? NSNumber, !isJSONBoolean(v), n.doubleValue == n.doubleValue.rounded(),
      abs(n.doubleValue) <= Double(ConfigReader.maxDimension)
    else {
      problems.append(
        "\(scope)\(key) must be an integer of at most \(ConfigReader.maxDimension), got \(jsonValueDescription(v))")
      return def ?? 0
    }
    return n.intValue
  }

  mutating func float(_ d: [String: Any], _ key: String, _ scope: String, default def: Float) -> Float {
    guard let v = d[key], !(v is NSNull) else { return def }
    guard let n = v as? NSNumber, !isJSONBoolean(v), n.floatValue.isFinite else {
      problems.append("\(scope)\(key) must be a finite number, got \(jsonValueDescription(v))")
      return def
    }
    return n.floatValue
  }

  mutating func tower(_ d: [String: Any]?, _ name: String, vision: Bool) -> CLIPTowerConfig {
    let d = d ?? [:]
    let s = name + "."
    let present = !d.isEmpty
    func required(_ key: String) -> Int { present ? int(d, key, s) : 0 }
    var c = CLIPTowerConfig(
      hiddenSize: required("hidden_size"), intermediateSize: required("intermediate_size"),
      numAttentionHeads: required("num_attention_heads"), numHiddenLayers: required("num_hidden_layers"),
      hiddenAct: .quickGELU, layerNormEps: float(d, "layer_norm_eps", s, default: 1e-5))
    if let act = d["hidden_act"] {
      if let name = act as? String, let a = Activation(configName: name) {
        c.hiddenAct = a
      } else {
        let known = Activation.allCases.map(\.rawValue).joined(separator: ", ")
        problems.append("\(s)hidden_act \(act) is not supported (known: \(known), gelu_pytorch_tanh)")
      }
    }
    if !(c.layerNormEps > 0) { problems.append("\(s)layer_norm_eps must be positive, got \(c.layerNormEps)") }
    if vision {
      c.imageSize = int(d, "image_size", s, default: 224)
      c.patchSize = int(d, "patch_size", s, default: 32)
      c.numChannels = int(d, "num_channels", s, default: 3)
      if c.imageSize <= 0 || c.numChannels <= 0 {
        problems.append("\(s)image_size and num_channels must be positive, got \(c.imageSize) and \(c.numChannels)")
      }
      if c.patchSize <= 0 || c.imageSize % max(c.patchSize, 1) != 0 {
        problems.append("\(s)image_size \(c.imageSize) is not a multiple of patch_size \(c.patchSize)")
      }
    } else {
      c.maxPositionEmbeddings = int(d, "max_position_embeddings", s, default: 77)
      c.vocabSize = int(d, "vocab_size", s, default: 49408)
      c.eosTokenID = int(d, "eos_token_id", s, default: 49407)
      c.bosTokenID = int(d, "bos_token_id", s, default: 49406)
      c.padTokenID = int(d, "pad_token_id", s, default: 1)
      if c.vocabSize <= 0 { problems.append("\(s)vocab_size must be positive, got \(c.vocabSize)") }
      if c.maxPositionEmbeddings < 2 {
        problems.append("\(s)max_position_embeddings must be ≥ 2, got \(c.maxPositionEmbeddings)")
      }
      for (k, id) in [("eos_token_id", c.eosTokenID), ("bos_token_id", c.bosTokenID), ("pad_token_id", c.padTokenID)]
      where c.vocabSize > 0 && !(0..<c.vocabSize).contains(id) {
        problems.append("\(s)\(k) \(id) is outside the vocabulary (0..<\(c.vocabSize))")
      }
    }
    if present {
      for (k, v) in [
        ("hidden_size", c.hiddenSize), ("intermediate_size", c.intermediateSize),
        ("num_attention_heads", c.numAttentionHeads), ("num_hidden_layers", c.numHiddenLayers),
      ] where v <= 0 {
        problems.append("\(s)\(k) must be positive, got \(v)")
      }
      if c.numAttentionHeads > 0 && c.hiddenSize % c.numAttentionHeads != 0 {
        problems.append(
          "\(s)hidden_size \(c.hiddenSize) is not divisible by num_attention_heads \(c.numAttentionHeads)")
      }
    }
    if let drop = d["attention_dropout"] as? NSNumber, drop.doubleValue != 0 {
      problems.append("\(s)attention_dropout \(drop) is not supported (FairMed's fused attention has none)")
    }
    return c
  }
}
