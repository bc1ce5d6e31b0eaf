import Datasets
import SyntheticData
import Fairness
import Foundation
import Report
import Training
import Support

/// `fairmed demo`: the synthetic dermatology study end to end — generate internal and external
/// data in the HAM10000 / BCN20000 layouts, train ERM and CMAC-MMD (a tiny CLIP from scratch,
/// same seed and budget), predict without demographics, audit every prediction set, and summarise.
public struct Demo {
  public struct Options: Sendable {
    public var directory: String
    public var seed: UInt64 = 0
    public var trainImages = 6000
    public var testImages = 4000
    /// External (BCN20000-layout, shifted) test images; 0 skips the external test set.
    public var externalImages = 3000
    public var imageSize = 64
    public var epochs = 4
    public var batchSize = 64
    /// CMAC-MMD's weight (nil: chosen on validation from the default path), comparison and
    /// conditioning and the sampler: the library's defaults (``RunConfig/defaults``), so the demo
    /// shows what `fairmed train` does.
    public var lambda = RunConfig.defaults.lambda
    public var comparison = RunConfig.defaults.cmac.comparison
    public var conditioning = RunConfig.defaults.cmac.conditioning
    public var sampler = RunConfig.defaults.sampler
    public var groups = GroupingSpec.sexAge.description
    public var quiet = false
    public init(directory: String) { self.directory = directory }

    /// Every option range-checked, the flag named.
    public func validate() throws {
      var p: [String] = []
      if !(100...1_000_000).contains(trainImages) {
        p.append("--train-images must be in 100…1000000, got \(trainImages)")
      }
      if !(1...1000).contains(epochs) { p.append("--epochs must be in 1…1000, got \(epochs)") }
      if let lambda, !MethodName.lambdaCheck.accepts(lambda) {
        p.append("--lambda must be \(MethodName.lambdaCheck.rule), got \(lambda)")
      }
      guard p.isEmpty else { throw TrainingError.invalidConfig(p) }
    }
  }

  /// One row of the headline table.
  public struct Row: Codable, Sendable {
    public let method: String
    public let split: String
    /// `validation` (the run's Youden threshold) or `0.5`.
    public let threshold: Study.ThresholdKind
    public let thresholdValue: Double
    public let auc: Double?
    public let deltaTPR: Double?
    public let worstGroupTPR: Double?
    public let worstGroup: String?
    public let tpr: Double?
  }

  public let options: Options
  public init(options: Options) { self.options = options }

  /// `fairmed demo`: checks the options, then the output folder (continued with `resume`,
  /// replaced with `overwrite`, as ``Study/prepareFolder(_:resume:overwrite:outputNames:)``
  /// says), then runs.
  public static func run(_ options: Options, resume: Bool, overwrite: Bool) throws -> [Row] {
    try options.validate()
    try Study.prepareFolder(options.directory, resume: resume, overwrite: overwrite, outputNames: outputNames)
    return try Demo(options: options).run()
  }

  /// What the demo writes into its folder (the study's files, audits included, and summary.json);
  /// `--overwrite` removes these entries, and nothing else.
  public static let outputNames = Study.outputNames + ["summary.json"]

  /// Runs the whole demo (a two-method ``Study`` on the synthetic benchmark, plus a full audit
  /// of every prediction set) and returns the headline rows (also in `summary.md`/`summary.json`).
  public func run() throws -> [Row] {
    let o = options
    try o.validate()
    let base: [String: JSONValue] = [
      "fromScratch": .string("tiny"), "imageSize": .number(Double(o.imageSize)), "epochs": .number(Double(o.epochs)),
      "sampler": .string(o.sampler.rawValue),
      "cmac": .object([
        ("comparison", .string(o.comparison.rawValue)), ("conditioning", .string(o.conditioning.rawValue)),
      ]),
    ]
    var config = StudyConfig(
      name: "FairMed demo: ERM vs CMAC-MMD on the synthetic dermatology benchmark", methods: [.erm, .cmacMMD])
    config.synth = StudyConfig.SynthSpec(
      kind: .derm, train: o.trainImages, test: o.testImages, external: o.externalImages,
      size: o.imageSize, seed: o.seed)
    config.lambdas = o.lambda.map { [$0] } ?? []
    config.seeds = [o.seed]
    config.batchSizes = [o.batchSize]
    config.groups = o.groups
    config.base = base
    say("training ERM and CMAC-MMD on \(o.trainImages) synthetic images (data, runs and report in \(o.directory))")
    let results = try Study(config: config, directory: o.directory, quiet: o.quiet).run()
    var rows: [Row] = []
    for r in results {
      let m = r.metrics
      rows.append(
        Row(
          method: r.method.rawValue, split: r.split, threshold: r.threshold, thresholdValue: m.threshold, auc: m.auc,
          deltaTPR: m.deltaTPR, worstGroupTPR: m.worstGroupTPR, worstGroup: m.worstGroup, tpr: m.tpr))
    }
    rows.sort {
      ($0.split == "internal" ? 0 : 1, $0.threshold == .validation ? 0 : 1) < (
        $1.split == "internal" ? 0 : 1, $1.threshold == .validation ? 0 : 1
      )
    }
    let table = Self.markdown(rows)
    try AtomicWrite.file(table, to: o.directory + "/summary.md")
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicWrite.file(try enc.encode(rows), to: o.directory + "/summary.json")
    return rows
  }

  /// The headline table: AUC, ΔTPR, worst-group and overall TPR per test split, threshold
  /// (the validation threshold first) and method.
  public static func markdown(_ rows: [Row]) -> String {
    func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
    var lines = [
      "| test set | threshold | method | AUC | ΔTPR | worst-group TPR | overall TPR |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows {
      let t = r.threshold == .validation ? String(format: "validation (Youden %.3f)", r.thresholdValue) : "0.5"
      lines.append(
        "| \(r.split) | \(t) | \(r.method) | \(f(r.auc)) | \(f(r.deltaTPR)) | \(f(r.worstGroupTPR)) (\(r.worstGroup ?? "–")) | \(f(r.tpr)) |"
      )
    }
    return lines.joined(separator: "\n")
      + "\n\nThreshold \"validation\": chosen by each run on its own validation predictions (Youden's J; no demographics, no test data), saved with the model; 0.5 (argmax over the class prompts) beside it. Groups with fewer than 10 samples or no positives are left out of gaps.\n"
  }

  func say(_ s: String) {
    if !options.quiet { FileHandle.standardError.write(Data("demo: \(s)\n".utf8)) }
  }

  /// What the demo prints last: it trains tiny CLIPs from scratch (a pretrained start would not
  /// fit its 3 minutes: pretraining took 17 minutes at 32×32 on the 2-core machine, and the demo's
  /// 64×64 would take about four times that), and how to run the paper's regime instead.
  public static let pretrainedRegimeHint = """
    These models were trained from scratch. The paper's regime fine-tunes a pretrained CLIP:     `fairmed experiment --config Studies/pretrained-derm.json --out studies/pretrained-derm`     first builds and caches a tiny CLIP pretrained on 50,000 captioned synthetic dermoscopy images     (about 17 minutes on 2 cores, once; docs/training.md), then fine-tunes it with ERM, CMAC-MMD     and three baselines (results: docs/results.md).
    """
}
