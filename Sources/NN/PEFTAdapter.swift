import Foundation
import Support
import Tensor

/// PEFT's adapter folder: `adapter_config.json` + `adapter_model.safetensors`, tensors named
/// `base_model.model.<module path>.lora_{A,B}.weight`, which `peft.PeftModel.from_pretrained`
/// loads onto the base model.
public enum PEFTAdapter {
  public static let configFile = "adapter_config.json"
  public static let weightsFile = "adapter_model.safetensors"
  static let prefix = "base_model.model."

  /// Whether `directory` holds an adapter.
  public static func isAdapter(_ directory: String) -> Bool {
    FileManager.default.fileExists(atPath: directory + "/" + configFile)
  }

  /// Writes the adapters of `model` (targets listed as the exact adapted module paths, so PEFT
  /// adapts the same layers) with `base` as `base_model_name_or_path`.
  public static func save(_ model: Module, config: LoRAConfig, base: String, to directory: String) throws {
    let adapted = model.loraLayers().map(\.path)
    guard !adapted.isEmpty else { throw LoRAError("the model has no adapters to save") }
    let json: [String: Any] = [
      "peft_type": "LORA", "task_type": NSNull(), "r": config.rank, "lora_alpha": Double(config.alpha),
      "lora_dropout": Double(config.dropout), "target_modules": adapted, "bias": "none", "fan_in_fan_out": false,
      "use_rslora": config.rankStabilized, "use_dora": false, "init_lora_weights": true, "inference_mode": true,
      "modules_to_save": NSNull(), "layers_to_transform": NSNull(), "rank_pattern": [String: Any](),
      "alpha_pattern": [String: Any](),
      "base_model_name_or_path": base, "revision": NSNull(),
    ]
    let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    try AtomicWrite.file(data, to: directory + "/" + configFile)
    try Safetensors.write(
      model.loraStateDict().map { (prefix + $0.0, $0.1) }, metadata: ["format": "pt"], to: directory + "/" + weightsFile
    )
  }

  /// The settings and base model of an adapter folder; refuses PEFT features FairMed does not
  /// implement (DoRA, bias training, modules_to_save, per-layer patterns, regex targets).
  public static func readConfig(_ directory: String) throws -> (config: LoRAConfig, base: String?) {
    let path = directory + "/" + configFile
    guard let data = try? readFile(path), let d = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    else {
      throw LoRAError("\(path) is not a JSON object")
    }
    var problems: [String] = []
    if let t = d["peft_type"] as? String, t != "LORA" { problems.append("peft_type \(t) (only LORA)") }
    let rank = (d["r"] as? NSNumber)?.intValue ?? 0
    if rank <= 0 { problems.append("r must be a positive integer") }
    let alpha = (d["lora_alpha"] as? NSNumber)?.floatValue ?? Float(rank)
    let dropout = (d["lora_dropout"] as? NSNumber)?.floatValue ?? 0
    let targets: [String]
    if let list = d["target_modules"] as? [String] {
      targets = list
    } else {
      targets = []
      problems.append("target_modules must be a list of module names (a regex string is not supported)")
    }
    if let b = d["bias"] as? String, b != "none" { problems.append("bias \(b) (only none)") }
    for key in ["use_dora", "fan_in_fan_out"] where (d[key] as? Bool) == true { problems.append("\(key) true") }
    for key in ["modules_to_save", "layers_to_transform"] where !(d[key] == nil || d[key] is NSNull) {
      problems.append("\(key) is set")
    }
    for key in ["rank_pattern", "alpha_pattern"] where !((d[key] as? [String: Any])?.isEmpty ?? true) {
      problems.append("\(key) is set")
    }
    guard problems.isEmpty else {
      throw LoRAError("\(path) uses what FairMed does not support: \(problems.joined(separator: "; "))")
    }
    let config = LoRAConfig(
      rank: rank, alpha: alpha, dropout: dropout, targets: targets, rankStabilized: (d["use_rslora"] as? Bool) ?? false)
    return (config, d["base_model_name_or_path"] as? String)
  }

  /// Attaches the adapter in `directory` to `model` and loads its tensors; every missing or
  /// unexpected tensor is reported.
  public static func load(into model: Module, from directory: String, seed: UInt64 = 0) throws {
    let (config, _) = try readConfig(directory)
    try model.attachLoRA(config, seed: seed)
    let file = try SafetensorsFile(path: directory + "/" + weightsFile)
    var renamed: [String: String] = [:]
    for name in file.names {
      let stripped = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
      renamed[stripped.replacingOccurrences(of: ".default.weight", with: ".weight")] = name
    }
    let view = RenamedSource(base: file, names: renamed)
    let params = Dictionary(uniqueKeysWithValues: model.loraStateDict())
    try LoRAStateSource(base: view, keep: Set(params.keys)).loadInto(params, source: file.path)
  }
}

/// A source whose tensors are exposed under new names (`new → original`).
struct RenamedSource: TensorSource {
  let base: TensorSource
  let names: [String: String]
  var shapes: [String: [Int]] {
    let s = base.shapes
    return names.reduce(into: [:]) { out, pair in if let shape = s[pair.value] { out[pair.key] = shape } }
  }
  func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
    guard let original = names[name] else {
      throw SafetensorsError(file: sourceDescription, tensor: name, "no such tensor")
    }
    try base.read(original, into: destination)
  }
  var sourceDescription: String { base.sourceDescription }
}

/// Loads exactly the adapter tensors, reporting missing, unexpected and wrong-shape ones.
struct LoRAStateSource {
  let base: TensorSource
  let keep: Set<String>
  func loadInto(_ params: [String: Tensor], source: String) throws {
    var report = StateDictError(source: source)
    let shapes = base.shapes
    for (name, t) in params.sorted(by: { $0.key < $1.key }) {
      guard let s = shapes[name] else { report.missing.append((name, t.shape)); continue }
      if s != t.shape { report.wrongShape.append((name, t.shape, s)) }
    }
    for (name, s) in shapes.sorted(by: { $0.key < $1.key }) where !keep.contains(name) {
      report.unexpected.append((name, s))
    }
    guard report.isEmpty else { throw report }
    for (name, t) in params {
      try base.read(name, into: t.pointer)
      if let bad = UnsafeBufferPointer(start: t.pointer, count: t.count).first(where: { !$0.isFinite }) {
        throw SafetensorsError(file: source, tensor: name, "holds a non-finite value (\(bad))")
      }
    }
  }
}
