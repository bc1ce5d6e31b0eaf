import Fairness
import CLIP
import Datasets
import Foundation
import NN
import Tensor
import Support

/// Every option of a training run, each declared once with its `@Setting`: the `run.json` key
/// is the property's name, the flag its kebab-case spelling (unless `flag:` says otherwise), and
/// the help, default and range check come from the same line. `fairmed train` lays its flags over
/// `--config run.json` (or the defaults); the run directory stores the resolved copy (`run.json`).
public struct RunConfig: SettingGroup, Codable, Equatable, Sendable {
  /// Set by the command (`train` or `pretrain`), not a flag of either (``commandKeys``).
  @Setting(help: "What the run learns: classify (fairmed train) or pretrain (fairmed pretrain).")
  public var objective: Objective = .classify
  @Setting(help: "Training data: \(DatasetKind.argumentForms).")
  public var data: String = ""
  /// nil = a seeded grouped split of the training data (``valFraction``).
  @Setting(help: "Validation data (same forms as --data).")
  public var val: String? = nil
  @Setting(
    help:
      "Model to fine-tune: a Hugging Face CLIP folder, an open_clip folder (BiomedCLIP, open_clip ViTs), or an OpenAI/open_clip state dict (.safetensors, .pt, .pth, .bin)."
  )
  public var model: String? = nil
  /// Used when ``model`` is nil.
  @Setting(help: "Train a CLIP from scratch.")
  public var fromScratch: ScratchPreset? = nil
  /// nil = the dataset kind's defaults.
  @Setting(
    help: "One prompt per class, class 0 first.", arity: .upToNextOption,
    .whenSet(.init("at least two non-empty prompts") { $0.count >= 2 && !$0.contains(where: \.isEmpty) }))
  public var prompts: [String]? = nil
  @Setting(help: "Method.")
  public var method: MethodName = .cmacMMD
  /// nil = chosen on validation from ``lambdaPath`` (``LambdaSelection``) for methods with a λ.
  @Setting(
    help:
      "Strength λ of the method (its fairness term's weight; GroupDRO's step size η): exactly this one (default: chosen on validation from --lambda-path).",
    .whenSet(MethodName.lambdaCheck))
  public var lambda: Float? = nil
  @Setting(
    help:
      "Strengths trained when --lambda is not given; kept: the best validation worst-group TPR among those whose validation AUC stays within --lambda-delta of λ 0's beyond one bootstrap standard error (docs/METHOD.md §11).",
    .init(
      "a comma-separated list of λ values, distinct to 6 significant digits (each names its member's folder), each \(MethodName.lambdaCheck.rule), including 0"
    ) {
      $0.contains(0) && Set($0.map(LambdaSelection.memberName)).count == $0.count
        && $0.allSatisfy(MethodName.lambdaCheck.accepts)
    })
  public var lambdaPath: [Float] = LambdaSelection.defaultPath
  @Setting(
    help: "Validation AUC a selected λ may lose against the path's λ 0 member.", .finite(in: 0...1, "in 0…1"))
  public var lambdaDelta: Double = LambdaSelection.defaultDelta
  @Setting(
    help: "Validation positives a subgroup needs to count in λ selection (smaller groups are listed, not used).",
    .range(1...1_000_000))
  public var lambdaMinPositives: Int = LambdaSelection.defaultMinPositives
  /// CMAC-MMD options (docs/METHOD.md §3).
  public var cmac = CMACOptions()
  @Setting(help: "Intersectional groups (grammar in docs/METHOD.md §10).")
  public var groups: String = GroupingSpec.sexAge.description
  @Setting(help: "Epochs.", .range(1...RunConfig.maxEpochs))
  public var epochs: Int = 10
  @Setting(help: "Batch size.", .range(2...RunConfig.maxBatchSize))
  public var batchSize: Int = 64
  /// `balanced-cells` by default: every subgroup × label cell in every batch (the paper's remedy
  /// for missing subgroups; it raised the worst group's TPR for ERM and CMAC-MMD alike, docs/results.md).
  @Setting(
    help:
      "Sampler: balanced guarantees --min-per-cell of every subgroup per batch, balanced-cells of every subgroup × label."
  )
  public var sampler: SamplerKind = .balancedCells
  @Setting(help: "Samples per subgroup guaranteed by the balanced samplers.", .range(1...RunConfig.maxBatchSize))
  public var minPerCell: Int = 2
  @Setting(help: "Random seed: the same seed gives the same weights.")
  public var seed: UInt64 = 0
  /// nil = ``DefaultLearningRate`` (run.json stores the value used).
  @Setting(
    help: "Peak learning rate, linear warm-up then cosine decay (default: \(DefaultLearningRate.summary)).",
    flag: "lr", .whenSet(.finite(in: Float.leastNonzeroMagnitude...0.999_999, "a finite number in (0, 1)")))
  public var learningRate: Float? = nil
  @Setting(help: "AdamW weight decay.", .nonNegative)
  public var weightDecay: Float = 0.1
  @Setting(help: "Fraction of all optimiser steps spent in linear warm-up.", .finite(in: 0...1, "in 0…1"))
  public var warmupFraction: Double = 0.1
  @Setting(
    help: "Global gradient-norm clip of the model (a method's adversary is clipped by its own norm), 0 = off.",
    .init("a finite number ≥ 0 (0 = off)") { $0.isFinite && $0 >= 0 })
  public var gradClip: Float = 1.0
  @Setting(help: "Micro-batches per optimiser step.", .range(1...1024))
  public var accumulation: Int = 1
  @Setting(help: "Fine-tuning mode; image-frozen caches the image tower's outputs.")
  public var mode: FineTuningMode = .full
  @Setting(help: "Blocks per tower trained in last-k mode.", .init("≥ 1") { $0 >= 1 })
  public var lastK: Int = 2
  @Setting(help: "Loss; auto = contrastive when the data has notes and the model is pretrained, else prompt-ce.")
  public var loss: LossKind = .auto
  @Setting(help: "Model selection.")
  public var selection: SelectionRule = .valAUC
  @Setting(help: "AUC tolerance δ of val-dtpr and val-worst-tpr selection.", .nonNegative)
  public var selectionDelta: Double = 0.02
  @Setting(
    help: "Decision threshold saved with best/: youden = Youden's J on the validation predictions, argmax = 0.5.")
  public var thresholdPolicy: ThresholdPolicy = .youden
  @Setting(help: "Held-out validation fraction when --val is absent.", .init("in (0, 1)") { $0 > 0 && $0 < 1 })
  public var valFraction: Double = 0.15
  @Setting(help: "Training augmentation: random resized crop, flip, colour jitter.")
  public var augment: Bool = true
  /// nil = the model's `image_size`.
  @Setting(
    help: "Model input size (default: the model's image_size; 64 from scratch).",
    .whenSet(.range(8...RunConfig.maxImageSize)))
  public var imageSize: Int? = nil
  @Setting(help: "Log a line every N optimiser steps when not on a terminal.", .init("≥ 1") { $0 >= 1 })
  public var logEvery: Int = 10
  @Setting(help: Precision.help)
  public var precision: Precision = .fp32
  @Setting(help: "Data-loading threads (default: all cores).", .whenSet(.range(1...256)))
  public var loaderThreads: Int? = nil
  /// Runs with the same data, model, image size and seed can share one.
  @Setting(
    help:
      "Folder of the image-frozen feature cache (default: the run folder's \(RunConfig.defaultFeatureCacheFolder)/).")
  public var featureCache: String? = nil
  /// nil trains the model's own weights.
  @Setting(
    help: "Train LoRA adapters of this rank on --lora-targets, base weights frozen; best/ is a PEFT adapter folder.",
    flag: "lora", .whenSet(.init("a rank in 1…4096") { (1...4096).contains($0) }))
  public var loraRank: Int? = nil
  @Setting(help: "LoRA alpha; the update is scaled by alpha/rank (default: the rank).", .whenSet(.positive))
  public var loraAlpha: Float? = nil
  @Setting(help: "Dropout on the LoRA path's input.", .init("in [0, 1)") { $0.isFinite && $0 >= 0 && $0 < 1 })
  public var loraDropout: Float = 0
  @Setting(
    help:
      "Comma-separated Linear layers to adapt, matched as PEFT does (default: \(CLIPModel.loraTargets.joined(separator: ",")) for HF CLIP; \(OpenCLIPModel.loraTargets.joined(separator: ",")) for timm + BERT models).",
    .whenSet(.init("a comma-separated list of layer names") { !$0.isEmpty && !$0.contains(where: \.isEmpty) }))
  public var loraTargets: [String]? = nil
  @Setting(help: "With --lora, also save the merged full model in best/ (the adapter goes to best/adapter/).")
  public var merge: Bool = false
  @Setting(
    help:
      "Also save best/ as an open_clip folder, best/open_clip/ (open_clip.create_model(\"local-dir:best/open_clip\") builds it; merged with --lora)."
  )
  public var openClip: Bool = false

  public init(data: String) { self.data = data }

  /// The settings that apply to pretraining (`fairmed pretrain`'s flags); every other setting
  /// is about classification (prompts, methods, groups, samplers, thresholds) and must keep its
  /// default in a pretraining run.
  public static let pretrainingKeys: Set<String> = [
    "data", "val", "model", "fromScratch", "epochs", "batchSize", "seed", "learningRate", "weightDecay",
    "warmupFraction", "gradClip", "accumulation", "mode", "lastK", "valFraction", "augment", "imageSize", "logEvery",
    "precision", "loaderThreads", "featureCache", "loraRank", "loraAlpha", "loraDropout", "loraTargets", "merge",
    "openClip",
  ]

  /// The flags a command accepts: every setting but ``objective``, which the command sets
  /// (`pretrain` only the ``pretrainingKeys``).
  public static func commandKeys(_ objective: Objective) -> Set<String> {
    objective == .pretrain ? pretrainingKeys : Set(settingKeys).subtracting(["objective"])
  }

  /// ``SettingGroup``: the configuration with every default.
  public static var defaults: RunConfig { RunConfig(data: "") }

  /// The LoRA settings of this run, if `--lora` is given.
  public func loraConfig(defaultTargets: [String]) -> LoRAConfig? {
    loraRank.map {
      LoRAConfig(rank: $0, alpha: loraAlpha, dropout: loraDropout, targets: loraTargets ?? defaultTargets)
    }
  }

  /// The learning rate this run uses.
  public var effectiveLearningRate: Float {
    learningRate ?? DefaultLearningRate.value(fromScratch: fromScratch != nil, mode: mode, lora: loraRank != nil)
  }

  /// This configuration with every mode-dependent default filled in (what run.json stores).
  public var resolved: RunConfig {
    var c = self
    c.learningRate = effectiveLearningRate
    return c
  }

  /// CMAC-MMD's options as `run.json` stores them (`cmac`, flags `--cmac-…`); defaults are ``CMACMMD``'s.
  public struct CMACOptions: SettingGroupMember, Codable, Equatable, Sendable {
    @Setting(help: "CMAC-MMD estimator.")
    public var estimator: CMACMMD.Estimator = CMACMMD().estimator
    @Setting(help: "CMAC-MMD bandwidth.")
    public var bandwidth: BandwidthKind = .fixed
    /// In the units of the margin.
    @Setting(help: "CMAC-MMD kernel σ of the fixed and multi bandwidths, in cosine units.", .positive)
    public var sigma: Float = CMACMMD.defaultSigma
    @Setting(help: "CMAC-MMD comparison.")
    public var comparison: CMACMMD.Comparison = CMACMMD().comparison
    @Setting(help: "CMAC-MMD conditioning.")
    public var conditioning: CMACMMD.Conditioning = CMACMMD().conditioning
    @Setting(
      help: "CMAC-MMD minimum samples of a subgroup in a batch (≥ 2 with the unbiased estimator).",
      .init("≥ 1") { $0 >= 1 })
    public var minGroupSize: Int = CMACMMD().minGroupSize
    /// docs/METHOD.md §8: collapse-prone.
    @Setting(help: "Margins on τ-scaled logits instead of cosines (docs/METHOD.md §8: collapse-prone).")
    public var marginsOnLogits = false

    public init(_ d: CMACMMD = CMACMMD()) {
      estimator = d.estimator
      switch d.bandwidth {
      case .fixed(let s): bandwidth = .fixed; sigma = s
      case .multi(let s): bandwidth = .multi; sigma = s
      case .median: bandwidth = .median; sigma = CMACMMD.defaultSigma
      }
      comparison = d.comparison
      conditioning = d.conditioning
      minGroupSize = d.minGroupSize
    }
  }

  /// Checks every setting against its declared rule and the options against each other,
  /// listing every problem in one error.
  public func validate() throws {
    var p = settingProblems()
    if data.isEmpty { p.append("--data is required (or --config run.json)") }
    if model == nil && fromScratch == nil { p.append("give --model HF_DIR or --from-scratch tiny|small") }
    if model != nil && fromScratch != nil { p.append("give --model or --from-scratch, not both") }
    if let model, !FileManager.default.fileExists(atPath: model) { p.append("--model \(model): no such folder") }
    if cmac.estimator == .unbiased && cmac.minGroupSize < 2 {
      p.append("--cmac-min-group-size must be ≥ 2 with the unbiased estimator, got \(cmac.minGroupSize)")
    }
    if loraRank != nil {
      if fromScratch != nil { p.append("--lora adapts a pretrained model: give --model, not --from-scratch") }
      if mode == .lastK {
        p.append(
          "--lora with --mode last-k is not supported (LoRA adapts its targets in whole towers: use full, text-frozen or image-frozen)"
        )
      }
    } else {
      for (flag, set) in [
        ("--lora-alpha", loraAlpha != nil), ("--lora-targets", loraTargets != nil),
        ("--lora-dropout", loraDropout != 0), ("--merge", merge),
      ] where set {
        p.append("\(flag) needs --lora RANK")
      }
    }
    do { _ = try GroupingSpec(parsing: groups) } catch { p.append("\(error)") }
    if let problem = Precision.problem(precision, features: BF16Support.features, oneDNN: BF16Support.oneDNN) {
      p.append(problem)
    }
    if objective == .pretrain {
      p += classificationSettingsSet().map { "\($0) applies to classification, not to pretraining" }
    }
    guard p.isEmpty else { throw TrainingError.invalidConfig(p) }
  }

  /// The flags of the classification settings that differ from their defaults (a pretraining
  /// run given `--method` through `--config`, say).
  func classificationSettingsSet() -> [String] {
    guard let mine = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any],
      let defaults = try? Self.defaultObject()
    else { return [] }
    return Self.settingEntries.filter { e in
      guard let key = e.path.first, key != "objective", !Self.pretrainingKeys.contains(key) else { return false }
      let a = e.path.reduce(mine as Any?) { ($0 as? [String: Any])?[$1] }
      let b = e.path.reduce(defaults as Any?) { ($0 as? [String: Any])?[$1] }
      return canonicalJSON(a) != canonicalJSON(b)
    }.map { "--" + $0.flag }
  }

  /// A JSON value's bytes with sorted keys (to compare two decoded values).
  private func canonicalJSON(_ value: Any?) -> Data? {
    try? JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys])
  }

  /// The largest accepted `--epochs`, `--batch-size` and `--image-size`.
  public static let maxEpochs = 10_000, maxBatchSize = 65_536, maxImageSize = 4096

  /// The CMAC-MMD loss these options describe.
  public var cmacMMD: CMACMMD {
    let bw: CMACMMD.Bandwidth
    switch cmac.bandwidth {
    case .fixed: bw = .fixed(cmac.sigma)
    case .median: bw = .median
    case .multi: bw = .multi(cmac.sigma)
    }
    return CMACMMD(
      lambda: lambda ?? 0, estimator: cmac.estimator, bandwidth: bw, comparison: cmac.comparison,
      conditioning: cmac.conditioning, minGroupSize: cmac.minGroupSize)
  }

  /// Whether this run trains the ``lambdaPath`` and keeps the strength chosen on validation
  /// (a method with a λ and no `--lambda`).
  public var selectsLambda: Bool { objective == .classify && method.takesLambda && lambda == nil }

  /// The method object for this run (λ 0 when λ is to be selected: each member sets its own).
  public func makeMethod() -> TrainingMethod {
    method.make(lambda: lambda ?? 0, cmac: cmacMMD, marginsOnLogits: cmac.marginsOnLogits)
  }

  /// The file a run folder keeps its configuration in.
  public static let fileName = "run.json"
  /// The image-frozen feature cache's folder inside a run folder (and a study folder), unless
  /// ``featureCache`` names another.
  public static let defaultFeatureCacheFolder = "feature_cache"

  /// Reads a `run.json`; keys not given keep their defaults, unknown keys are refused.
  public static func load(_ path: String) throws -> RunConfig {
    try decode(object: readJSONObject(path, "run config"), file: path)
  }

  /// The configuration `object` describes, laid over the defaults; errors name `file`.
  public static func decode(object: [String: Any], file: String) throws -> RunConfig {
    do { return try decode(overDefaults: object) } catch {
      throw TrainingError.file(file, "is not a valid run config: \(describeDecodingError(error))")
    }
  }

  /// `fairmed train`'s configuration: `--config FILE` (or an existing run's `run.json`), then the
  /// setting flags in `arguments` laid over it.
  /// `objective` is the command's: a file that says otherwise is refused.
  public static func resolve(file: String?, arguments: [String], objective: Objective = .classify) throws -> RunConfig {
    var object = try file.map { try readJSONObject($0, "run config") } ?? [:]
    do {
      try apply(
        arguments: arguments, to: &object, only: commandKeys(objective),
        context: objective == .pretrain ? "pretraining (fairmed pretrain)" : "fairmed train")
    } catch let e as SettingArgumentError {
      throw TrainingError.invalidConfig([e.description])
    }
    if let given = object["objective"] as? String, given != objective.rawValue {
      throw TrainingError.file(
        file ?? "the command line",
        "is a \(given) run's configuration; use fairmed \(given == Objective.pretrain.rawValue ? "pretrain" : "train")")
    }
    object["objective"] = objective.rawValue
    return try decode(object: object, file: file ?? "the command line")
  }

  public func write(to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicWrite.file(try enc.encode(self), to: path)
  }
}

extension RunConfig {
  /// The keys a `run.json` may hold: the settings' names, read off the type.
  public static var knownKeys: [String] { RunConfig.settingKeys }
}

extension RunConfig.CMACOptions {
  /// The keys of `run.json`'s `cmac` object.
  public static var knownKeys: [String] { RunConfig.settingKeys(of: RunConfig.CMACOptions()) }
}

/// The JSON object in the file at `path` (a `what`, for errors).
func readJSONObject(_ path: String, _ what: String) throws -> [String: Any] {
  let data: Data
  do { data = try readFile(path) } catch {
    throw TrainingError.file(path, "cannot read: \(error.localizedDescription)")
  }
  guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
    throw TrainingError.file(path, "is not a valid \(what): not a JSON object")
  }
  return object
}

/// Decodes the JSON file at `path`; errors name the file, the key and what was wrong.
public func decodeJSONFile<T: Decodable>(_ type: T.Type, _ path: String, _ what: String) throws -> T {
  let data: Data
  do { data = try readFile(path) } catch {
    throw TrainingError.file(path, "cannot read: \(error.localizedDescription)")
  }
  do { return try JSONDecoder().decode(T.self, from: data) } catch {
    throw TrainingError.file(path, "is not a valid \(what): \(describeDecodingError(error))")
  }
}

/// A decoding error in words: the key path and what was wrong.
public func describeDecodingError(_ error: Error) -> String {
  guard let e = error as? DecodingError else { return "\(error)" }
  func at(_ c: DecodingError.Context) -> String {
    c.codingPath.isEmpty
      ? c.debugDescription : "key '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
  }
  switch e {
  case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c): return at(c)
  case .keyNotFound(let key, let c):
    return "key '\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is required"
  @unknown default: return "\(e)"
  }
}

/// Errors of training and prediction, each naming the file or option concerned.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
  case invalidConfig([String])
  case file(String, String)
  case nonFinite(String)
  case data(String)

  public var description: String {
    switch self {
    case .invalidConfig(let p): return "invalid run configuration:\n  - " + p.joined(separator: "\n  - ")
    case .file(let f, let m): return "\(f): \(m)"
    case .nonFinite(let m): return m
    case .data(let m): return m
    }
  }
}
