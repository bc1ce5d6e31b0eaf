import Datasets
import Fairness
import Foundation
import Report
import Support
import SyntheticData
import Tensor
import Training

/// Runs a ``StudyConfig`` grid, resuming a partially finished study (a cell whose
/// `result.json` exists is not re-run), and writes `results.csv` and the summary tables.
public final class Study {
  public let config: StudyConfig
  public let directory: String
  public let quiet: Bool
  /// Cells trained by the last ``run()`` (skipped cells are not counted).
  public private(set) var trainedCells: [String] = []
  /// The cached pretrained model every run fine-tunes (``StudyConfig/pretrained``), once built.
  public private(set) var pretrainedModel: String?

  /// The cache folder of pretrained models (nil: ``Support/cacheDirectory(_:)``).
  public let cache: String?

  public init(config: StudyConfig, directory: String, quiet: Bool = false, cache: String? = nil) {
    self.config = config
    self.directory = directory
    self.quiet = quiet
    self.cache = cache
  }

  /// One grid cell.
  public struct Cell: Hashable, Sendable {
    public let method: MethodName
    /// The ``StudyConfig/Variant`` name, nil without variants.
    public var variant: String? = nil
    public let lambda: Float?
    public let batchSize: Int
    public let seed: UInt64
    public var id: String {
      method.rawValue + (variant.map { "-\($0)" } ?? "") + (lambda.map { "-l\(Self.fmt($0))" } ?? "")
        + "-b\(batchSize)-s\(seed)"
    }
    static func fmt(_ l: Float) -> String { String(format: "%g", l) }
  }

  /// Which decision threshold a result used.
  public enum ThresholdKind: String, Codable, Sendable, CaseIterable {
    /// The threshold training chose on the validation predictions (`best/decision_threshold.json`).
    case validation
    /// 0.5 (argmax over the class prompts).
    case half = "0.5"
  }

  /// One results.csv row: a cell evaluated on one test split at one threshold.
  public struct Result: Codable, Sendable {
    public let method: MethodName
    public var variant: String? = nil
    /// The λ given; nil for a method without one, or with its λ chosen on validation.
    public let lambda: Float?
    public let batchSize: Int
    public let seed: UInt64
    /// The λ the run's validation chose (``LambdaSelection``), and why; nil when λ was given.
    public var selectedLambda: Float? = nil
    public var selection: String? = nil
    public let split: String
    public let threshold: ThresholdKind
    public let metrics: EvalMetrics
    /// The predictions file (absolute when written; a finished cell's is read from its run folder
    /// when the study folder has moved).
    public var predictions: String
    /// The full audit of the predictions at the validation threshold (`audit.html`, `audit.json`,
    /// …), relative to the study folder; nil at the 0.5 threshold and in studies run before audits.
    public var audit: String? = nil
  }

  /// The grid, in run order.
  public var cells: [Cell] {
    var out: [Cell] = []
    let variants: [StudyConfig.Variant?] = config.variants.isEmpty ? [nil] : config.variants
    for method in config.methods {
      // No λ given: one cell whose run chooses λ on validation (nil).
      let given = method.takesLambda ? config.methodLambdas[method.rawValue] ?? config.lambdas : []
      let lambdas: [Float?] = given.isEmpty ? [nil] : given.map { $0 }
      for v in variants where v?.methods?.contains(method) ?? true {
        for l in lambdas {
          for b in config.batchSizes {
            for s in config.seeds {
              out.append(Cell(method: method, variant: v?.name, lambda: l, batchSize: b, seed: s))
            }
          }
        }
      }
    }
    return out
  }

  public func run() throws -> [Result] {
    try validate(skippingFinished: true)
    let fm = FileManager.default
    try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let (train, tests) = try prepareData()
    if config.pretrained != nil {  // the data and groups are checked before minutes of pretraining
      var probe = try baseRunConfig(train: train)
      probe.fromScratch = .tiny
      _ = try TrainingData(config: probe)
    }
    pretrainedModel = try config.pretrained.map { try $0.ensure(cache: cache, log: say, quiet: quiet) }
    // A finished cell is kept only if it trained with the options the study file gives it now.
    for cell in cells where fm.fileExists(atPath: "\(directory)/runs/\(cell.id)/result.json") {
      let stored = try RunConfig.load("\(directory)/runs/\(cell.id)/" + RunConfig.fileName)
      var current = try runConfig(cell, train: train)
      // Data the study generated moves with its folder: a moved or copied study keeps its cells
      // when the data lies at the same place inside it.
      let inside = directory.hasSuffix("/") ? directory : directory + "/"
      if config.synth != nil, let at = current.data.range(of: inside) {
        let within = String(current.data[at.upperBound...])
        let kind = current.data[..<at.lowerBound]
        if stored.data.hasPrefix(kind), stored.data.hasSuffix("/" + within) { current.data = stored.data }
      }
      let changes = try current.changes(since: stored)
      guard changes.isEmpty else {
        throw TrainingError.invalidConfig(
          changes.map {
            "runs/\(cell.id) finished with other options than the study file gives it now: \($0); restore the study file, or run the study again with --overwrite"
          })
      }
    }
    trainedCells = []
    var results: [Result] = []
    for (i, cell) in cells.enumerated() {
      let runDir = "\(directory)/runs/\(cell.id)"
      let done = runDir + "/result.json"
      if let data = try? Data(contentsOf: URL(fileURLWithPath: done)),
        let saved = try? JSONDecoder().decode([Result].self, from: data)
      {
        // A study folder moved since: its predictions are in this run folder under the same name.
        results += saved.map { r in
          var r = r
          let here = runDir + "/" + (r.predictions as NSString).lastPathComponent
          if !fm.fileExists(atPath: r.predictions), fm.fileExists(atPath: here) { r.predictions = here }
          return r
        }
        say("[\(i + 1)/\(cells.count)] \(cell.id): done, skipped")
        continue
      }
      say("[\(i + 1)/\(cells.count)] \(cell.id): training")
      let run = try runConfig(cell, train: train)
      let log = try TrainingLog(metricsPath: runDir + "/" + TrainingLog.fileName, quiet: quiet)
      // A cell killed before its run.json was written has nothing to resume: it starts again.
      let summary = try Trainer(config: run, runDirectory: runDir, log: log).run(
        resume: fm.fileExists(atPath: runDir + "/" + RunConfig.fileName))
      var cellResults: [Result] = []
      for (split, spec, subset) in tests {
        let preds = try Predictor.run(
          model: runDir, data: spec, prompts: nil, groups: config.groups, split: subset, precision: run.precision)
        let csv = "\(runDir)/predictions-\(split).csv"
        try preds.writeCSV(to: csv)
        let auditFolder = "audits/\(cell.id)-\(split)"
        try audit(csv, runDirectory: runDir, out: "\(directory)/\(auditFolder)")
        for (kind, t) in [(ThresholdKind.validation, preds.threshold.value), (.half, ThresholdRule.argmaxValue)] {
          let m = try EvalMetrics.compute(
            labels: preds.labels, scores: preds.scores, groups: preds.groups, threshold: t)
          cellResults.append(
            Result(
              method: cell.method, variant: cell.variant, lambda: cell.lambda, batchSize: cell.batchSize,
              seed: cell.seed, selectedLambda: summary.selection?.chosenLambda, selection: summary.selection?.reason,
              split: split, threshold: kind, metrics: m, predictions: csv,
              audit: kind == .validation ? auditFolder : nil))
        }
      }
      try AtomicWrite.file(try JSONEncoder().encode(cellResults), to: done)
      trainedCells.append(cell.id)
      results += cellResults
    }
    var zeroShotMD = ""
    if let model = pretrainedModel {
      say("zero-shot: the pretrained model before fine-tuning")
      let rows = try zeroShot(model: model, train: train, tests: tests)
      try AtomicWrite.file(Self.zeroShotCSV(rows), to: directory + "/zero-shot.csv")
      zeroShotMD = Self.zeroShotMarkdown(rows)
    }
    try writeOutputs(results, zeroShot: zeroShotMD)
    return results
  }

  /// The full audit (every output of `fairmed audit`, default intervals) of one prediction set at
  /// the threshold its run chose on validation (`--threshold model:RUN_DIR`, so the audit also
  /// fits its temperature diagnostic on the run's validation predictions): what a reviewer reads
  /// for each model of the study.
  func audit(_ csv: String, runDirectory: String, out: String) throws {
    var c = AuditConfiguration()
    c.threshold = .model(directory: runDirectory)
    let request = AuditRequest(
      predictions: URL(fileURLWithPath: csv), columns: .predictions,
      groups: GroupingSpec(attributes: try GroupingSpec.parse(config.groups)), configuration: c,
      output: URL(fileURLWithPath: out))
    try AuditPipeline.run(request)
  }

  /// What a study writes into its folder; `--overwrite` removes these entries, and nothing else.
  public static let outputNames = [
    "data", "runs", RunConfig.defaultFeatureCacheFolder, "results.csv", "summary.md", "summary.tex",
    "comparisons.csv", "report.html", "figures", "audits", "zero-shot", "zero-shot.csv",
  ]

  /// `fairmed experiment`: the study file at `path` run into `directory`. Everything is checked
  /// before anything is written or removed: the study and every cell still to train
  /// (``validate(skippingFinished:)``), that `overwrite` spares the study's inputs, then the
  /// folder (``prepareFolder(_:resume:overwrite:outputNames:)``).
  public static func experiment(config path: String, directory: String, resume: Bool, overwrite: Bool) throws
    -> (study: Study, results: [Result])
  {
    let study = Study(config: try StudyConfig.load(path), directory: directory)
    try study.validate(skippingFinished: resume)
    if overwrite { try study.checkOverwriteSparesInputs() }
    try prepareFolder(directory, resume: resume, overwrite: overwrite)
    return (study, try study.run())
  }

  /// Refuses `--overwrite` when an input of the study (its data, test or external set, or the
  /// base model) lies inside what overwriting removes (`data/`, `runs/`, …): a real-data study
  /// may keep its data in its folder, and overwriting must never delete it. A synthetic study's
  /// `data/` is its own output.
  public func checkOverwriteSparesInputs() throws {
    let root = URL(fileURLWithPath: directory).standardized.path
    let removed = Study.outputNames.map { root + "/" + $0 }
    var inputs: [(String, String)] = []
    if config.synth == nil {
      for (key, spec) in [("data", config.data), ("test", config.test), ("external", config.external)] {
        guard let spec else { continue }
        inputs.append((key, spec.firstIndex(of: ":").map { String(spec[spec.index(after: $0)...]) } ?? spec))
      }
    }
    if case .string(let model) = config.base["model"] { inputs.append(("base.model", model)) }
    for (key, path) in inputs {
      let p = URL(fileURLWithPath: path).standardized.path
      if let hit = removed.first(where: { p == $0 || p.hasPrefix($0 + "/") }) {
        throw TrainingError.invalidConfig([
          "--overwrite would remove \(hit), which holds the study's \(key) (\(path)): move the input out of the study folder or choose another --out"
        ])
      }
    }
  }

  /// The folder rule of `fairmed experiment` and `fairmed demo` (the one of every command that
  /// writes where the user says): a new or empty folder is used; one holding anything is
  /// refused unless `resume` (continue the study it holds: finished cells are kept, interrupted
  /// runs continue from their checkpoints) or `overwrite` (its `outputNames` are removed first).
  /// `resume` of a folder that holds no study (no `runs/` or `data/`) is refused.
  public static func prepareFolder(
    _ directory: String, resume: Bool, overwrite: Bool, outputNames: [String] = Study.outputNames
  ) throws {
    guard !(resume && overwrite) else { throw TrainingError.invalidConfig(["give --resume or --overwrite, not both"]) }
    if resume {
      guard ["runs", "data"].contains(where: { FileManager.default.fileExists(atPath: directory + "/" + $0) }) else {
        let state =
          OutputPath.contents(directory).map { "it holds \($0) but no runs/ or data/" }
          ?? "no runs/ or data/: it is empty or does not exist"
        throw TrainingError.file(
          directory,
          "holds no FairMed study to resume (\(state), which a study writes there): drop --resume to start one")
      }
      return
    }
    try OutputPath.check(directory, overwrite: overwrite, resumable: true)
    if overwrite { try OutputPath.remove(outputNames, in: directory) }
  }

  /// The training spec and the test sets (name, spec, split), generating synthetic data first.
  /// The study file's `synth` is kept in `data/synth.json`: data generated from another `synth`
  /// is refused, not reused.
  func prepareData() throws -> (String, [(String, String, String?)]) {
    guard let s = config.synth else { return try prepareGivenData() }
    let dir = directory + "/data"
    let specPath = dir + "/synth.json"
    let spec = try JSONEncoder().encode(s)
    func parsed(_ d: Data) -> NSObject? { try? JSONSerialization.jsonObject(with: d) as? NSObject }
    if let stored = try? Data(contentsOf: URL(fileURLWithPath: specPath)), parsed(stored) != parsed(spec) {
      throw TrainingError.file(
        specPath,
        "the study's data was generated from another synth than the study file's: restore it, or run the study with --overwrite to generate the data again"
      )
    }
    let out = try prepareSynthData(s, directory: dir)
    try AtomicWrite.file(spec, to: specPath)
    return out
  }

  func prepareSynthData(_ s: StudyConfig.SynthSpec, directory dir: String) throws -> (
    String, [(String, String, String?)]
  ) {
    let fm = FileManager.default
    if s.kind == .chest { return try prepareChestData(s, directory: dir) }
    if s.kind == .derm {
      var base = DermSynthConfig()
      (base.width, base.height) = (s.size, s.size)
      if let signal = s.signal { base.signal.merge(signal) { $1 } }
      for (name, count, seed, external) in [
        ("train", s.train, s.seed, false), ("test", s.test, s.seed &+ 1, false),
        ("external", s.external, s.seed &+ 2, true),
      ] where count > 0 {
        var c = external ? base.external() : base
        c.count = count
        c.seed = seed
        if name == "train", let u = s.underdiagnosis { c.underdiagnosis = u }
        if !fm.fileExists(atPath: "\(dir)/\(name)/" + SyntheticModality.configFile) {
          _ = try SynthDerm.write(c, to: "\(dir)/\(name)", external: external)
        }
      }
      var tests = [("internal", "ham10000:\(dir)/test", nil as String?)]
      if s.external > 0 { tests.append(("external", "bcn20000:\(dir)/external", nil)) }
      return ("ham10000:\(dir)/train", tests)
    }
    var base = FundusSynthConfig()
    (base.width, base.height) = (s.size, s.size)
    if let spread = s.cdrSpread { base.cdrSpread = spread }
    for (name, count, seed, external) in [
      ("internal", s.train + s.test, s.seed, false), ("external", s.external, s.seed &+ 2, true),
    ] where count > 0 {
      var c = external ? base.external() : base
      c.count = count
      c.seed = seed
      // synth_config.json is written last: a set whose writing was interrupted is written again.
      if !fm.fileExists(atPath: "\(dir)/\(name)/" + SyntheticModality.configFile) {
        try SynthFundus.write(c, to: "\(dir)/\(name)", replacing: true)
      }
    }
    var tests = [("internal", "fairvlmed:\(dir)/internal", "test" as String?)]
    if s.external > 0 { tests.append(("external", "fairvlmed:\(dir)/external", "test")) }
    return ("fairvlmed:\(dir)/internal", tests)
  }

  /// A study on given data: its training spec and test sets.
  func prepareGivenData() throws -> (String, [(String, String, String?)]) {
    var tests = [("internal", config.test!, config.testSplit)]
    if let e = config.external { tests.append(("external", e, nil)) }
    return (config.data!, tests)
  }

  /// The study checked before anything is written: the study file, the `FAIRMED_*` and
  /// `OPENBLAS_CORETYPE` variables, and the training options of every cell still to train, as
  /// `fairmed train` checks them — a bad value in the last variant is refused now, not hours into
  /// the study. `skippingFinished`: cells whose `result.json` exists are not checked (a resumed
  /// study); false where the folder's results are about to be removed (`--overwrite`).
  public func validate(skippingFinished: Bool) throws {
    try validateComputeEnvironment()
    try config.validate()
    // Only `data`'s presence and `model`'s existence are checked: stand-ins will do.
    let train = config.data ?? directory + "/data/train"
    let fm = FileManager.default
    var problems: [(text: String, variant: String?)] = []
    var checked = Set<String?>()
    for cell in cells
    where !(skippingFinished && fm.fileExists(atPath: "\(directory)/runs/\(cell.id)/result.json")) {
      checked.insert(cell.variant)
      var found: [String] = []
      do {
        var run = try runConfig(cell, train: train)
        if config.pretrained != nil { run.model = NSTemporaryDirectory() }  // the recipe's model is built later
        try run.validate()
      } catch TrainingError.invalidConfig(let list) {
        found = list
      } catch {
        found = ["\(error)"]
      }
      for text in found where !problems.contains(where: { $0.text == text && $0.variant == cell.variant }) {
        problems.append((text, cell.variant))
      }
    }
    guard !problems.isEmpty else { return }
    // A problem every checked variant has is the base options' (or the grid's); others are named
    // with the variants that have them.
    var lines: [String] = []
    for text in problems.map(\.text) where !lines.contains(where: { $0.hasSuffix(": " + text) }) {
      let variants = Set(problems.filter { $0.text == text }.map(\.variant))
      let at =
        variants == checked || variants == [nil]
        ? "base" : "variants[\(variants.compactMap { $0 }.sorted().joined(separator: ", "))].options"
      lines.append("\(at): \(text)")
    }
    throw TrainingError.invalidConfig(lines)
  }

  /// The training options of one cell: the base and variant options over run defaults, then
  /// the cell's method, λ, batch size and seed (and, for image-frozen runs, the shared feature cache).
  func runConfig(_ cell: Cell, train: String) throws -> RunConfig {
    var run = try baseRunConfig(train: train, variant: cell.variant)
    run.method = cell.method
    if let l = cell.lambda { run.lambda = l }
    run.batchSize = cell.batchSize
    run.seed = cell.seed
    if run.mode == .imageFrozen && run.featureCache == nil {
      // The frozen tower's outputs depend on data, model and the seeded validation split only.
      run.featureCache = "\(directory)/\(RunConfig.defaultFeatureCacheFolder)/s\(cell.seed)"
    }
    return run
  }

  /// `base` options, then the variant's, applied over run defaults (through JSON, so every
  /// run.json key works).
  func baseRunConfig(train: String, variant: String? = nil) throws -> RunConfig {
    var object = config.base
    if let v = config.variants.first(where: { $0.name == variant }) {
      for (k, value) in v.options {
        if case .object(let inner) = value, case .object(let outer)? = object[k] {
          let replaced = Set(inner.map { $0.0 })
          object[k] = .object(outer.filter { !replaced.contains($0.0) } + inner)
        } else {
          object[k] = value
        }
      }
    }
    object["data"] = .string(train)
    object["groups"] = .string(config.groups)
    if let model = pretrainedModel { object["model"] = .string(model) }
    let data = try JSONEncoder().encode(object)
    guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw TrainingError.invalidConfig(["study base options are not a JSON object"])
    }
    do { return try RunConfig.decode(overDefaults: json) } catch {
      throw TrainingError.invalidConfig([
        "not a valid run config: \(describeDecodingError(error))"
      ])
    }
  }

  func say(_ s: String) {
    if !quiet { FileHandle.standardError.write(Data("study: \(s)\n".utf8)) }
  }
}
