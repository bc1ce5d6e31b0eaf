import CLIP
import Foundation

/// Every option of a training run. `fairmed train` fills it from flags or from `--config
/// run.json`; the run directory stores the resolved copy (`run.json`).
public struct RunConfig: Codable, Equatable, Sendable {
  /// `ham10000:DIR`, `fairvlmed:DIR`, `bcn20000:DIR` or `manifest:FILE.csv`.
  public var data: String
  /// Validation data; nil = a seeded grouped split of the training data (``valFraction``).
  public var val: String? = nil
  /// A Hugging Face CLIP folder to fine-tune.
  public var model: String? = nil
  /// `tiny` or `small`: a CLIP trained from scratch (used when ``model`` is nil).
  public var fromScratch: String? = nil
  /// One text per class (class 0 first); nil = the dataset kind's defaults.
  public var prompts: [String]? = nil
  /// `erm`, `cmac-mmd`, or a baseline (``MethodRegistry/names``).
  public var method: String = "cmac-mmd"
  public var lambda: Float = 0.5
  /// CMAC-MMD options (METHOD.md §3).
  public var cmac = CMACOptions()
  /// Intersectional groups, e.g. `sex,age:<40,40-59,>=60`.
  public var groups: String = "sex,age:<40,40-59,>=60"
  public var epochs: Int = 10
  public var batchSize: Int = 64
  /// `shuffle`, `balanced` (≥ ``minPerCell`` samples of every subgroup per batch) or
  /// `balanced-cells` (≥ ``minPerCell`` of every subgroup × label cell).
  public var sampler: String = "shuffle"
  public var minPerCell: Int = 2
  public var seed: UInt64 = 0
  public var learningRate: Float = 1e-5
  public var weightDecay: Float = 0.1
  /// Fraction of all optimiser steps spent in linear warm-up.
  public var warmupFraction: Double = 0.1
  /// Global gradient-norm clip (0 = off).
  public var gradClip: Float = 1.0
  /// Micro-batches per optimiser step.
  public var accumulation: Int = 1
  /// `full`, `last-k` (last ``lastK`` blocks of both towers + projections), `text-frozen`,
  /// or `image-frozen` (image tower frozen, its pooled outputs cached once: the fast CPU path).
  public var mode: String = "full"
  public var lastK: Int = 2
  /// `auto` (contrastive when the data has notes, else prompt-ce), `contrastive`, `prompt-ce`.
  public var loss: String = "auto"
  /// `val-auc`, `val-dtpr` (lowest val ΔTPR with AUC ≥ best − ``selectionDelta``), or `last`.
  public var selection: String = "val-auc"
  public var selectionDelta: Double = 0.02
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

  public init(data: String) { self.data = data }

  /// CMAC-MMD's options in their command-line spelling.
  public struct CMACOptions: Codable, Equatable, Sendable {
    public var estimator = "biased"
    /// `fixed`, `median` or `multi`.
    public var bandwidth = "fixed"
    public var sigma: Float = 0.1
    public var comparison = "pairs"
    public var conditioning = "none"
    public var minGroupSize = 2
    /// Margins on τ-scaled logits instead of cosines (METHOD.md §8: collapse-prone).
    public var marginsOnLogits = false
    public init() {}
  }

  /// Checks names and ranges, listing every problem in one error.
  public func validate() throws {
    var problems: [String] = []
    if model == nil && fromScratch == nil { problems.append("give --model HF_DIR or --from-scratch tiny|small") }
    if let s = fromScratch, ModelPresets.config(named: s, imageSize: 64) == nil { problems.append("--from-scratch must be tiny or small, got '\(s)'") }
    if !MethodRegistry.names.contains(method) { problems.append("--method must be one of \(MethodRegistry.names.joined(separator: ", ")), got '\(method)'") }
    if epochs < 1 { problems.append("--epochs must be ≥ 1") }
    if batchSize < 2 { problems.append("--batch-size must be ≥ 2") }
    if accumulation < 1 { problems.append("--accumulation must be ≥ 1") }
    if !["shuffle", "balanced", "balanced-cells"].contains(sampler) { problems.append("--sampler must be shuffle, balanced or balanced-cells, got '\(sampler)'") }
    if !["full", "last-k", "text-frozen", "image-frozen"].contains(mode) { problems.append("--mode must be full, last-k, text-frozen or image-frozen, got '\(mode)'") }
    if !["auto", "contrastive", "prompt-ce"].contains(loss) { problems.append("--loss must be auto, contrastive or prompt-ce, got '\(loss)'") }
    if !["val-auc", "val-dtpr", "last"].contains(selection) { problems.append("--selection must be val-auc, val-dtpr or last, got '\(selection)'") }
    if CMACMMD.Estimator(rawValue: cmac.estimator) == nil { problems.append("--cmac-estimator must be biased or unbiased") }
    if !["fixed", "median", "multi"].contains(cmac.bandwidth) { problems.append("--cmac-bandwidth must be fixed, median or multi") }
    if CMACMMD.Comparison(rawValue: cmac.comparison) == nil { problems.append("--cmac-comparison must be pairs, pooled or pooled-detached") }
    if CMACMMD.Conditioning(rawValue: cmac.conditioning) == nil { problems.append("--cmac-conditioning must be none, positives or per-class") }
    if !(valFraction > 0 && valFraction < 1) { problems.append("--val-fraction must be in (0, 1)") }
    if learningRate <= 0 || !learningRate.isFinite { problems.append("--lr must be positive") }
    guard problems.isEmpty else { throw TrainingError.invalidConfig(problems) }
  }

  /// The CMAC-MMD loss these options describe.
  public var cmacMMD: CMACMMD {
    let bw: CMACMMD.Bandwidth = cmac.bandwidth == "median" ? .median : cmac.bandwidth == "multi" ? .multi(cmac.sigma) : .fixed(cmac.sigma)
    return CMACMMD(lambda: lambda, estimator: CMACMMD.Estimator(rawValue: cmac.estimator) ?? .biased, bandwidth: bw,
      comparison: CMACMMD.Comparison(rawValue: cmac.comparison) ?? .pairs,
      conditioning: CMACMMD.Conditioning(rawValue: cmac.conditioning) ?? .none, minGroupSize: cmac.minGroupSize)
  }

  /// The method object for this run.
  public func makeMethod() throws -> TrainingMethod {
    if method == "cmac-mmd" {
      return CMACMMDMethod(options: cmacMMD, marginsOnLogits: cmac.marginsOnLogits)
    }
    guard let m = MethodRegistry.make(method, lambda: lambda) else { throw TrainingError.invalidConfig(["unknown method '\(method)'"]) }
    return m
  }

  /// Reads a `run.json`; keys not given keep their defaults.
  public static func load(_ path: String) throws -> RunConfig {
    let data: Foundation.Data
    do { data = try Foundation.Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw TrainingError.file(path, "cannot read: \(error.localizedDescription)")
    }
    do { return try JSONDecoder().decode(RunConfig.self, from: data) } catch {
      throw TrainingError.file(path, "is not a valid run config: \(error)")
    }
  }

  public func write(to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try enc.encode(self), to: path)
  }
}

extension RunConfig {
  /// Decoding fills absent keys with defaults (so hand-written configs can be short).
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(data: try c.decode(String.self, forKey: .data))
    func opt<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
    val = try c.decodeIfPresent(String.self, forKey: .val)
    model = try c.decodeIfPresent(String.self, forKey: .model)
    fromScratch = try c.decodeIfPresent(String.self, forKey: .fromScratch)
    prompts = try c.decodeIfPresent([String].self, forKey: .prompts)
    imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize)
    loaderThreads = try c.decodeIfPresent(Int.self, forKey: .loaderThreads)
    featureCache = try c.decodeIfPresent(String.self, forKey: .featureCache)
    try opt(.method, &method); try opt(.lambda, &lambda); try opt(.cmac, &cmac); try opt(.groups, &groups)
    try opt(.epochs, &epochs); try opt(.batchSize, &batchSize); try opt(.sampler, &sampler)
    try opt(.minPerCell, &minPerCell); try opt(.seed, &seed); try opt(.learningRate, &learningRate)
    try opt(.weightDecay, &weightDecay); try opt(.warmupFraction, &warmupFraction); try opt(.gradClip, &gradClip)
    try opt(.accumulation, &accumulation); try opt(.mode, &mode); try opt(.lastK, &lastK); try opt(.loss, &loss)
    try opt(.selection, &selection); try opt(.selectionDelta, &selectionDelta); try opt(.valFraction, &valFraction)
    try opt(.augment, &augment); try opt(.logEvery, &logEvery)
  }
}

extension RunConfig.CMACOptions {
  public init(from decoder: Decoder) throws {
    self.init()
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func opt<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
    try opt(.estimator, &estimator); try opt(.bandwidth, &bandwidth); try opt(.sigma, &sigma)
    try opt(.comparison, &comparison); try opt(.conditioning, &conditioning); try opt(.minGroupSize, &minGroupSize)
    try opt(.marginsOnLogits, &marginsOnLogits)
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
