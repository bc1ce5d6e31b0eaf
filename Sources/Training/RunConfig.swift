import Fairness
import CLIP
import Foundation
import NN
import Support

/// Every option of a training run. `fairmed train` fills it from flags or from `--config
/// run.json`; the run directory stores the resolved copy (`run.json`).
public struct RunConfig: Codable, Equatable, Sendable {
  /// `ham10000:DIR`, `fairvlmed:DIR`, `bcn20000:DIR` or `manifest:FILE.csv`.
  public var data: String
  /// Validation data; nil = a seeded grouped split of the training data (``valFraction``).
  public var val: String? = nil
  /// A Hugging Face CLIP folder to fine-tune.
  public var model: String? = nil
  /// A CLIP trained from scratch (used when ``model`` is nil).
  public var fromScratch: ScratchPreset? = nil
  /// One text per class (class 0 first); nil = the dataset kind's defaults.
  public var prompts: [String]? = nil
  public var method: MethodName = .cmacMMD
  /// Weight λ of the fairness term; default CMAC-MMD's (``CMACMMD/lambda``).
  public var lambda: Float = CMACMMD().lambda
  /// CMAC-MMD options (docs/METHOD.md §3).
  public var cmac = CMACOptions()
  /// Intersectional groups, e.g. `sex,age:<40,40-59,>=60`.
  public var groups: String = GroupingSpec.sexAge.description
  public var epochs: Int = 10
  public var batchSize: Int = 64
  /// Default `balanced-cells`: every subgroup × label cell in every batch (the paper's remedy for
  /// missing subgroups; it raised the worst group's TPR for ERM and CMAC-MMD alike, docs/results.md).
  public var sampler: SamplerKind = .balancedCells
  public var minPerCell: Int = 2
  public var seed: UInt64 = 0
  /// Peak learning rate; nil = ``defaultLearningRate(fromScratch:mode:)`` (run.json stores the value used).
  public var learningRate: Float? = nil
  public var weightDecay: Float = 0.1
  /// Fraction of all optimiser steps spent in linear warm-up.
  public var warmupFraction: Double = 0.1
  /// Global gradient-norm clip (0 = off).
  public var gradClip: Float = 1.0
  /// Micro-batches per optimiser step.
  public var accumulation: Int = 1
  public var mode: FineTuningMode = .full
  public var lastK: Int = 2
  public var loss: LossKind = .auto
  public var selection: SelectionRule = .valAUC
  public var selectionDelta: Double = 0.02
  /// How the decision threshold saved with `best/` is chosen on validation predictions.
  public var thresholdPolicy: ThresholdPolicy = .youden
  public var valFraction: Double = 0.15
  /// Training augmentation (random resized crop, flip, colour jitter).
  public var augment: Bool = true
  /// Model input side; nil = the model's `image_size`.
  public var imageSize: Int? = nil
  /// Log a step line every this many optimiser steps.
  public var logEvery: Int = 10
  /// Data-loading threads (nil = all cores).
  public var loaderThreads: Int? = nil
  /// Folder of the image-frozen feature cache (nil = the run folder's `feature_cache/`). Runs
  /// with the same data, model, image size and seed can share one.
  public var featureCache: String? = nil
  /// LoRA rank (`--lora`); nil trains the model's own weights.
  public var loraRank: Int? = nil
  /// LoRA alpha; nil = the rank (scaling 1).
  public var loraAlpha: Float? = nil
  public var loraDropout: Float = 0
  /// Linear layers adapted; nil = the model's default (q_proj, v_proj for HF CLIP; qkv, query, value for timm + BERT).
  public var loraTargets: [String]? = nil
  /// Also save the merged full model beside the adapter.
  public var merge: Bool = false

  public init(data: String) { self.data = data }

  /// The LoRA settings of this run, if `--lora` is given.
  public func loraConfig(defaultTargets: [String]) -> LoRAConfig? {
    loraRank.map { LoRAConfig(rank: $0, alpha: loraAlpha, dropout: loraDropout, targets: loraTargets ?? defaultTargets) }
  }

  /// The defaults of every option (what `--help` shows).
  public static let defaults = RunConfig(data: "")

  /// The learning rate a run uses when `--lr` is not given: 1e-3 from scratch (a tiny CLIP at
  /// 1e-5 stayed near chance in 10 epochs, docs/METHOD.md §9), 1e-5 when every block of the image
  /// tower trains (`full`, `text-frozen`), 1e-4 when only a few layers or LoRA adapters train
  /// (`last-k`, `image-frozen`, `--lora`).
  public static func defaultLearningRate(fromScratch: Bool, mode: FineTuningMode, lora: Bool = false) -> Float {
    if fromScratch { return 1e-3 }
    if lora { return 1e-4 }
    switch mode {
    case .full, .textFrozen: return 1e-5
    case .lastK, .imageFrozen: return 1e-4
    }
  }

  /// The learning rate this run uses.
  public var effectiveLearningRate: Float {
    learningRate ?? Self.defaultLearningRate(fromScratch: fromScratch != nil, mode: mode, lora: loraRank != nil)
  }

  /// This configuration with every mode-dependent default filled in (what run.json stores).
  public var resolved: RunConfig {
    var c = self
    c.learningRate = effectiveLearningRate
    return c
  }

  /// CMAC-MMD's options as `run.json` stores them; defaults are ``CMACMMD``'s.
  public struct CMACOptions: Codable, Equatable, Sendable {
    public var estimator: CMACMMD.Estimator
    public var bandwidth: BandwidthKind
    /// σ of the fixed and multi bandwidths, in the units of the margin.
    public var sigma: Float
    public var comparison: CMACMMD.Comparison
    public var conditioning: CMACMMD.Conditioning
    public var minGroupSize: Int
    /// Margins on τ-scaled logits instead of cosines (docs/METHOD.md §8: collapse-prone).
    public var marginsOnLogits = false

    public init(_ d: CMACMMD = CMACMMD()) {
      estimator = d.estimator
      switch d.bandwidth {
      case .fixed(let s): bandwidth = .fixed; sigma = s
      case .multi(let s): bandwidth = .multi; sigma = s
      case .median: bandwidth = .median; sigma = 0.1
      }
      comparison = d.comparison
      conditioning = d.conditioning
      minGroupSize = d.minGroupSize
    }
  }

  /// Checks names and ranges, listing every problem in one error.
  public func validate() throws {
    var p: [String] = []
    func check(_ ok: Bool, _ flag: String, _ rule: String, _ value: Any) { if !ok { p.append("\(flag) must be \(rule), got \(value)") } }
    if model == nil && fromScratch == nil { p.append("give --model HF_DIR or --from-scratch tiny|small") }
    if model != nil && fromScratch != nil { p.append("give --model or --from-scratch, not both") }
    if let model, !FileManager.default.fileExists(atPath: model) { p.append("--model \(model): no such folder") }
    check((1...Self.maxEpochs).contains(epochs), "--epochs", "in 1…\(Self.maxEpochs)", epochs)
    check((2...Self.maxBatchSize).contains(batchSize), "--batch-size", "in 2…\(Self.maxBatchSize)", batchSize)
    check((1...1024).contains(accumulation), "--accumulation", "in 1…1024", accumulation)
    check(valFraction > 0 && valFraction < 1, "--val-fraction", "in (0, 1)", valFraction)
    if let learningRate { check(learningRate.isFinite && learningRate > 0 && learningRate < 1, "--lr", "a finite number in (0, 1)", learningRate) }
    check(lambda.isFinite && lambda >= 0 && lambda <= 1000, "--lambda", "a finite number in 0…1000", lambda)
    check(weightDecay.isFinite && weightDecay >= 0, "--weight-decay", "a finite number ≥ 0", weightDecay)
    check(warmupFraction.isFinite && (0...1).contains(warmupFraction), "--warmup-fraction", "in 0…1", warmupFraction)
    check(gradClip.isFinite && gradClip >= 0, "--grad-clip", "a finite number ≥ 0 (0 = off)", gradClip)
    check(lastK >= 1, "--last-k", "≥ 1", lastK)
    check(selectionDelta.isFinite && selectionDelta >= 0, "--selection-delta", "a finite number ≥ 0", selectionDelta)
    check((1...Self.maxBatchSize).contains(minPerCell), "--min-per-cell", "in 1…\(Self.maxBatchSize)", minPerCell)
    check(logEvery >= 1, "--log-every", "≥ 1", logEvery)
    if let t = loaderThreads { check((1...256).contains(t), "loaderThreads", "in 1…256", t) }
    if let s = imageSize { check((8...Self.maxImageSize).contains(s), "--image-size", "in 8…\(Self.maxImageSize)", s) }
    check(cmac.sigma.isFinite && cmac.sigma > 0, "--cmac-sigma", "a finite number > 0", cmac.sigma)
    check(cmac.minGroupSize >= (cmac.estimator == .unbiased ? 2 : 1), "--cmac-min-group-size",
          cmac.estimator == .unbiased ? "≥ 2 with the unbiased estimator" : "≥ 1", cmac.minGroupSize)
    if let r = loraRank {
      check((1...4096).contains(r), "--lora", "a rank in 1…4096", r)
      if fromScratch != nil { p.append("--lora adapts a pretrained model: give --model, not --from-scratch") }
      if mode == .lastK { p.append("--lora with --mode last-k is not supported (LoRA adapts its targets in whole towers: use full, text-frozen or image-frozen)") }
    }
    if let a = loraAlpha { check(a.isFinite && a > 0, "--lora-alpha", "a finite number > 0", a) }
    check(loraDropout.isFinite && loraDropout >= 0 && loraDropout < 1, "--lora-dropout", "in [0, 1)", loraDropout)
    if let t = loraTargets { check(!t.isEmpty && !t.contains(where: \.isEmpty), "--lora-targets", "a comma-separated list of layer names", t) }
    if loraRank == nil {
      for (flag, set) in [("--lora-alpha", loraAlpha != nil), ("--lora-targets", loraTargets != nil), ("--lora-dropout", loraDropout != 0), ("--merge", merge)] where set {
        p.append("\(flag) needs --lora RANK")
      }
    }
    if let prompts { check(prompts.count >= 2 && !prompts.contains(where: \.isEmpty), "--prompts", "at least two non-empty prompts", prompts.count) }
    do { _ = try GroupingSpec(parsing: groups) } catch { p.append("\(error)") }
    guard p.isEmpty else { throw TrainingError.invalidConfig(p) }
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
    return CMACMMD(lambda: lambda, estimator: cmac.estimator, bandwidth: bw, comparison: cmac.comparison,
                   conditioning: cmac.conditioning, minGroupSize: cmac.minGroupSize)
  }

  /// The method object for this run.
  public func makeMethod() -> TrainingMethod {
    method.make(lambda: lambda, cmac: cmacMMD, marginsOnLogits: cmac.marginsOnLogits)
  }

  /// Reads a `run.json`; keys not given keep their defaults.
  public static func load(_ path: String) throws -> RunConfig {
    try decodeJSONFile(RunConfig.self, path, "run config")
  }

  public func write(to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicWrite.file(try enc.encode(self), to: path)
  }
}

extension RunConfig {
  /// The keys a `run.json` may hold: the stored properties, read off the type.
  public static let knownKeys = storedPropertyNames(of: RunConfig.defaults)

  /// Decoding fills absent keys with defaults (so hand-written configs can be short); a key that
  /// is not an option is refused, naming the nearest one.
  public init(from decoder: Decoder) throws {
    try refuseUnknownKeys(decoder, known: Self.knownKeys)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(data: try c.decode(String.self, forKey: .data))
    func opt<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
    val = try c.decodeIfPresent(String.self, forKey: .val)
    model = try c.decodeIfPresent(String.self, forKey: .model)
    fromScratch = try c.decodeIfPresent(ScratchPreset.self, forKey: .fromScratch)
    prompts = try c.decodeIfPresent([String].self, forKey: .prompts)
    imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize)
    loaderThreads = try c.decodeIfPresent(Int.self, forKey: .loaderThreads)
    featureCache = try c.decodeIfPresent(String.self, forKey: .featureCache)
    learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate)
    loraRank = try c.decodeIfPresent(Int.self, forKey: .loraRank)
    loraAlpha = try c.decodeIfPresent(Float.self, forKey: .loraAlpha)
    loraTargets = try c.decodeIfPresent([String].self, forKey: .loraTargets)
    try opt(.loraDropout, &loraDropout); try opt(.merge, &merge)
    try opt(.method, &method); try opt(.lambda, &lambda); try opt(.cmac, &cmac); try opt(.groups, &groups)
    try opt(.epochs, &epochs); try opt(.batchSize, &batchSize); try opt(.sampler, &sampler)
    try opt(.minPerCell, &minPerCell); try opt(.seed, &seed)
    try opt(.weightDecay, &weightDecay); try opt(.warmupFraction, &warmupFraction); try opt(.gradClip, &gradClip)
    try opt(.accumulation, &accumulation); try opt(.mode, &mode); try opt(.lastK, &lastK); try opt(.loss, &loss)
    try opt(.selection, &selection); try opt(.selectionDelta, &selectionDelta); try opt(.valFraction, &valFraction)
    try opt(.thresholdPolicy, &thresholdPolicy)
    try opt(.augment, &augment); try opt(.logEvery, &logEvery)
  }
}

extension RunConfig.CMACOptions {
  /// The keys of `run.json`'s `cmac` object.
  public static let knownKeys = storedPropertyNames(of: RunConfig.CMACOptions())

  public init(from decoder: Decoder) throws {
    try refuseUnknownKeys(decoder, known: Self.knownKeys)
    self.init()
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func opt<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
    try opt(.estimator, &estimator); try opt(.bandwidth, &bandwidth); try opt(.sigma, &sigma)
    try opt(.comparison, &comparison); try opt(.conditioning, &conditioning); try opt(.minGroupSize, &minGroupSize)
    try opt(.marginsOnLogits, &marginsOnLogits)
  }
}

/// Decodes the JSON file at `path`; errors name the file, the key and what was wrong.
public func decodeJSONFile<T: Decodable>(_ type: T.Type, _ path: String, _ what: String) throws -> T {
  let data: Foundation.Data
  do { data = try readFile(path) } catch {
    throw TrainingError.file(path, "cannot read: \(error.localizedDescription)")
  }
  do { return try JSONDecoder().decode(T.self, from: data) } catch let e as DecodingError {
    func at(_ c: DecodingError.Context) -> String {
      c.codingPath.isEmpty ? c.debugDescription : "key '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
    }
    let reason: String
    switch e {
    case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c): reason = at(c)
    case .keyNotFound(let key, let c): reason = "key '\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is required"
    @unknown default: reason = "\(e)"
    }
    throw TrainingError.file(path, "is not a valid \(what): \(reason)")
  } catch {
    throw TrainingError.file(path, "is not a valid \(what): \(error)")
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
