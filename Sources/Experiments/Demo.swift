import Data
import Fairness
import Foundation
import Report
import Training

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
    public var learningRate: Float = 1e-3
    public var lambda: Float = 1
    /// CMAC-MMD comparison and conditioning (METHOD.md §3 options).
    public var comparison = "pooled-detached"
    public var conditioning = "per-class"
    public var groups = "sex,age:<40,40-59,>=60"
    public var quiet = false
    public init(directory: String) { self.directory = directory }
  }

  /// One row of the headline table.
  public struct Row: Codable, Sendable {
    public let method: String
    public let split: String
    public let auc: Double?
    public let deltaTPR: Double?
    public let worstGroupTPR: Double?
    public let worstGroup: String?
    public let tpr: Double?
  }

  public let options: Options
  public init(options: Options) { self.options = options }

  /// Runs the whole demo and returns the headline rows (also written to `summary.md` and `summary.json`).
  public func run() throws -> [Row] {
    let o = options
    let fm = FileManager.default
    try fm.createDirectory(atPath: o.directory, withIntermediateDirectories: true)
    let dataDir = o.directory + "/data"
    say("1/4 generating the synthetic benchmark in \(dataDir)")
    var base = DermSynthConfig()
    base.width = o.imageSize
    base.height = o.imageSize
    for (name, count, seed, external) in [("train", o.trainImages, o.seed, false), ("test", o.testImages, o.seed + 1, false),
                                          ("external", o.externalImages, o.seed + 2, true)] where count > 0 {
      var c = external ? base.external() : base
      c.count = count
      c.seed = seed
      if !fm.fileExists(atPath: "\(dataDir)/\(name)/synth_config.json") {
        _ = try SynthDerm.write(c, to: "\(dataDir)/\(name)", external: external)
      }
    }
    var rows: [Row] = []
    for method in ["erm", "cmac-mmd"] {
      say("\(method == "erm" ? 2 : 3)/4 training \(method)")
      var config = RunConfig(data: "ham10000:\(dataDir)/train")
      config.fromScratch = "tiny"
      config.imageSize = o.imageSize
      config.method = method
      config.lambda = o.lambda
      config.cmac.comparison = o.comparison
      config.cmac.conditioning = o.conditioning
      config.groups = o.groups
      config.epochs = o.epochs
      config.batchSize = o.batchSize
      config.learningRate = o.learningRate
      config.sampler = "balanced-cells"
      config.seed = o.seed
      let runDir = "\(o.directory)/runs/\(method)"
      let log = try TrainingLog(metricsPath: runDir + "/metrics.jsonl", quiet: o.quiet)
      _ = try Trainer(config: config, runDirectory: runDir, log: log).run(resume: true)
      let testSets = [("internal", "ham10000:\(dataDir)/test"), ("external", "bcn20000:\(dataDir)/external")]
      for (split, spec) in testSets where split == "internal" || o.externalImages > 0 {
        let preds = try Predictor.run(model: runDir, data: spec, prompts: nil, groups: o.groups, split: nil)
        let csv = "\(o.directory)/predictions/\(method)-\(split).csv"
        try fm.createDirectory(atPath: o.directory + "/predictions", withIntermediateDirectories: true)
        try preds.writeCSV(to: csv)
        let result = try audit(csv, out: "\(o.directory)/audits/\(method)-\(split)")
        let a = result.intersectional
        rows.append(Row(method: method, split: split, auc: a.overall[.auc], deltaTPR: a.aggregates[.deltaTPR]?.value,
          worstGroupTPR: a.aggregates[.worstGroupTPR]?.value,
          worstGroup: a.aggregates[.worstGroupTPR]?.minGroup.map { a.groups[$0].name }, tpr: a.overall[.tpr]))
      }
    }
    say("4/4 writing the summary")
    let table = Self.markdown(rows)
    try AtomicFile.write(Foundation.Data(table.utf8), to: o.directory + "/summary.md")
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try enc.encode(rows), to: o.directory + "/summary.json")
    return rows
  }

  func audit(_ csv: String, out: String) throws -> AuditResult {
    let attributes = try GroupingSpec.parse(options.groups)
    var config = AuditConfiguration()
    config.threshold = .argmax
    config.bootstrap = BootstrapOptions(replicates: 200, seed: 7)
    let request = AuditRequest(predictions: URL(fileURLWithPath: csv), columns: AuditColumns(label: "label", score: "prob", margin: "margin"),
      groups: GroupingSpec(attributes: attributes), configuration: config, output: URL(fileURLWithPath: out))
    return try AuditPipeline.run(request)
  }

  /// The headline table: AUC, ΔTPR, worst-group TPR per method and test split.
  public static func markdown(_ rows: [Row]) -> String {
    func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
    var lines = ["| method | test set | AUC | ΔTPR | worst-group TPR | overall TPR |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows {
      lines.append("| \(r.method) | \(r.split) | \(f(r.auc)) | \(f(r.deltaTPR)) | \(f(r.worstGroupTPR)) (\(r.worstGroup ?? "–")) | \(f(r.tpr)) |")
    }
    return lines.joined(separator: "\n") + "\n\nThreshold: argmax (P(malignant) ≥ 0.5). Groups with fewer than 10 samples or no positives are left out of gaps.\n"
  }

  func say(_ s: String) {
    if !options.quiet { FileHandle.standardError.write(Foundation.Data("demo: \(s)\n".utf8)) }
  }
}
