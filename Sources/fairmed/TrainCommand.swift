import ArgumentParser
import Foundation
import Training

/// `fairmed train`: fine-tune (or train from scratch) a CLIP classifier with ERM, CMAC-MMD or a
/// baseline; the run folder gets `run.json`, `metrics.jsonl`, `checkpoint/` and `best/`.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a CLIP classifier with ERM, CMAC-MMD or a fairness baseline.",
    discussion: """
      Methods: \(MethodRegistry.names.joined(separator: ", ")). Demographic groups are used \
      for training only (the CMAC-MMD term, samplers, baselines), never as model inputs.

      --config run.json reads every option from a file (see the run.json a run writes); flags \
      given on the command line override it. Without --val, a seeded split of the training data \
      grouped by lesion/patient is held out (--val-fraction), or the data's own validation split \
      is used (FairVLMed).
      """)

  @Option(help: "Run configuration file (JSON); flags override it.") var config: String?
  @Option(help: "Training data: ham10000:DIR, fairvlmed:DIR, bcn20000:DIR or manifest:FILE.csv.") var data: String?
  @Option(help: "Validation data (same forms as --data).") var val: String?
  @Option(help: "Hugging Face CLIP folder to fine-tune.") var model: String?
  @Option(help: "Train a CLIP from scratch: tiny or small.") var fromScratch: String?
  @Option(parsing: .upToNextOption, help: "One prompt per class, class 0 first.") var prompts: [String] = []
  @Option(help: "Method: \(MethodRegistry.names.joined(separator: ", ")).") var method: String?
  @Option(name: .customLong("lambda"), help: "Weight λ of the fairness term (default 0.5).") var lambda: Float?
  @Option(help: "Intersectional groups, e.g. sex,age:<40,40-59,>=60.") var groups: String?
  @Option(help: "Epochs.") var epochs: Int?
  @Option(help: "Batch size.") var batchSize: Int?
  @Option(help: "Sampler: shuffle, balanced (≥ --min-per-cell of every subgroup per batch) or balanced-cells (of every subgroup × label).") var sampler: String?
  @Option(help: "Samples per subgroup guaranteed by the balanced sampler.") var minPerCell: Int?
  @Option(help: "Random seed (the same seed gives the same weights).") var seed: UInt64?
  @Option(name: .customLong("lr"), help: "Peak learning rate (linear warm-up, cosine decay).") var learningRate: Float?
  @Option(help: "AdamW weight decay.") var weightDecay: Float?
  @Option(help: "Fraction of steps spent warming up.") var warmupFraction: Double?
  @Option(help: "Global gradient-norm clip (0 = off).") var gradClip: Float?
  @Option(help: "Micro-batches per optimiser step.") var accumulation: Int?
  @Option(help: "Fine-tuning mode: full, last-k, text-frozen, image-frozen (cached image features).") var mode: String?
  @Option(help: "Blocks per tower trained in last-k mode.") var lastK: Int?
  @Option(help: "Loss: auto, contrastive or prompt-ce.") var loss: String?
  @Option(help: "Model selection: val-auc, val-dtpr or last.") var selection: String?
  @Option(help: "AUC tolerance δ of val-dtpr selection.") var selectionDelta: Double?
  @Option(help: "Held-out validation fraction when --val is absent.") var valFraction: Double?
  @Option(help: "Model input size (default: the model's image_size; 64 from scratch).") var imageSize: Int?
  @Flag(inversion: .prefixedNo, help: "Training augmentation.") var augment: Bool?
  @Option(help: "CMAC-MMD estimator: biased or unbiased.") var cmacEstimator: String?
  @Option(help: "CMAC-MMD bandwidth: fixed, median or multi.") var cmacBandwidth: String?
  @Option(help: "CMAC-MMD kernel σ (fixed and multi), in cosine units.") var cmacSigma: Float?
  @Option(help: "CMAC-MMD comparison: pairs, pooled or pooled-detached.") var cmacComparison: String?
  @Option(help: "CMAC-MMD conditioning: none, positives or per-class.") var cmacConditioning: String?
  @Option(help: "CMAC-MMD minimum samples of a subgroup in a batch.") var cmacMinGroupSize: Int?
  @Flag(help: "Margins on τ-scaled logits instead of cosines (METHOD.md §8: collapse-prone).") var cmacMarginsOnLogits = false
  @Option(help: "Log a line every N steps when not on a terminal.") var logEvery: Int?
  @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false
  @Option(help: "Stop after this many epochs (the run can be resumed).") var stopAfter: Int?
  @Option(help: "Run folder.") var out: String

  func resolvedConfig() throws -> RunConfig {
    var c: RunConfig
    if let config { c = try RunConfig.load(config) } else if resume, FileManager.default.fileExists(atPath: out + "/run.json") {
      c = try RunConfig.load(out + "/run.json")
    } else {
      guard let data else { throw ValidationError("--data is required (or --config run.json)") }
      c = RunConfig(data: data)
    }
    if let data { c.data = data }
    if let val { c.val = val }
    if let model { c.model = model }
    if let fromScratch { c.fromScratch = fromScratch }
    if !prompts.isEmpty { c.prompts = prompts }
    if let method { c.method = method }
    if let lambda { c.lambda = lambda }
    if let groups { c.groups = groups }
    if let epochs { c.epochs = epochs }
    if let batchSize { c.batchSize = batchSize }
    if let sampler { c.sampler = sampler }
    if let minPerCell { c.minPerCell = minPerCell }
    if let seed { c.seed = seed }
    if let learningRate { c.learningRate = learningRate }
    if let weightDecay { c.weightDecay = weightDecay }
    if let warmupFraction { c.warmupFraction = warmupFraction }
    if let gradClip { c.gradClip = gradClip }
    if let accumulation { c.accumulation = accumulation }
    if let mode { c.mode = mode }
    if let lastK { c.lastK = lastK }
    if let loss { c.loss = loss }
    if let selection { c.selection = selection }
    if let selectionDelta { c.selectionDelta = selectionDelta }
    if let valFraction { c.valFraction = valFraction }
    if let imageSize { c.imageSize = imageSize }
    if let augment { c.augment = augment }
    if let cmacEstimator { c.cmac.estimator = cmacEstimator }
    if let cmacBandwidth { c.cmac.bandwidth = cmacBandwidth }
    if let cmacSigma { c.cmac.sigma = cmacSigma }
    if let cmacComparison { c.cmac.comparison = cmacComparison }
    if let cmacConditioning { c.cmac.conditioning = cmacConditioning }
    if let cmacMinGroupSize { c.cmac.minGroupSize = cmacMinGroupSize }
    if cmacMarginsOnLogits { c.cmac.marginsOnLogits = true }
    if let logEvery { c.logEvery = logEvery }
    return c
  }

  func run() throws {
    let c = try resolvedConfig()
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let log = try TrainingLog(metricsPath: out + "/metrics.jsonl")
    let trainer = Trainer(config: c, runDirectory: out, log: log)
    trainer.stopAfterEpochs = stopAfter
    let summary = try trainer.run(resume: resume)
    print("selected epoch \(summary.state.bestEpoch ?? 0) by \(c.selection); model in \(summary.bestModelDirectory)")
  }
}

/// `fairmed predict`: per-image P(class 1) and certainty margins of a trained run; demographic
/// columns are only copied through for the audit.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict with a trained run: writes id,label,prob,margin,group and the attribute columns.",
    discussion: "The output feeds `fairmed audit --label label --score prob --margin margin --groups ...` directly.")

  @Option(help: "Run folder written by `fairmed train` (or any HF CLIP folder with --prompts).") var model: String
  @Option(help: "Data: ham10000:DIR, fairvlmed:DIR, bcn20000:DIR or manifest:FILE.csv.") var data: String
  @Option(parsing: .upToNextOption, help: "Class prompts (default: the run's).") var prompts: [String] = []
  @Option(help: "Groups written to the `group` column (default: the run's).") var groups: String?
  @Option(help: "Split of the data to predict (e.g. test), when it has splits.") var split: String?
  @Option(help: "Batch size.") var batchSize = 64
  @Option(help: "Output CSV.") var out: String

  func run() throws {
    let preds = try Predictor.run(model: model, data: data, prompts: prompts.isEmpty ? nil : prompts, groups: groups,
      split: split, batchSize: batchSize)
    try preds.writeCSV(to: out)
    print("wrote \(preds.ids.count) predictions to \(out)")
  }
}
