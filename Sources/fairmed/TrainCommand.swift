import ArgumentParser
import Distributed
import Foundation
import Training

/// `fairmed train`: fine-tune (or train from scratch) a CLIP classifier with ERM, CMAC-MMD or a
/// baseline; the run folder gets `run.json`, `metrics.jsonl`, `checkpoint/` and `best/`.
private let d = RunConfig.defaults

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a CLIP classifier with ERM, CMAC-MMD or a fairness baseline.",
    discussion: """
      Methods: \(MethodName.names). Demographic groups are used \
      for training only (the CMAC-MMD term, samplers, baselines), never as model inputs.

      --config run.json reads every option from a file (see the run.json a run writes); flags \
      given on the command line override it. Without --val, a seeded split of the training data \
      grouped by lesion/patient is held out (--val-fraction), or the data's own validation split \
      is used (FairVLMed).
      """)

  @Option(help: "Run configuration file (JSON); flags override it.") var config: String?
  @Option(help: "Training data: ham10000:DIR, fairvlmed:DIR, bcn20000:DIR or manifest:FILE.csv.") var data: String?
  @Option(help: "Validation data (same forms as --data).") var val: String?
  @Option(help: "Model to fine-tune: a Hugging Face CLIP folder, an open_clip folder (BiomedCLIP, open_clip ViTs), or an OpenAI/open_clip state dict (.safetensors, .pt, .pth, .bin).") var model: String?
  @Option(help: "Train a CLIP from scratch.") var fromScratch: ScratchPreset?
  @Option(parsing: .upToNextOption, help: "One prompt per class, class 0 first.") var prompts: [String] = []
  @Option(help: "Method (default: \(d.method.rawValue)).") var method: MethodName?
  @Option(name: .customLong("lambda"), help: "Weight λ of the fairness term (default: \(d.lambda)).") var lambda: Float?
  @Option(help: "Intersectional groups (default: \(d.groups); grammar in docs/METHOD.md §10).") var groups: String?
  @Option(help: "Epochs (default: \(d.epochs)).") var epochs: Int?
  @Option(help: "Batch size (default: \(d.batchSize)).") var batchSize: Int?
  @Option(help: "Sampler: balanced guarantees --min-per-cell of every subgroup per batch, balanced-cells of every subgroup × label (default: \(d.sampler.rawValue)).") var sampler: SamplerKind?
  @Option(help: "Samples per subgroup guaranteed by the balanced samplers (default: \(d.minPerCell)).") var minPerCell: Int?
  @Option(help: "Random seed: the same seed gives the same weights (default: \(d.seed)).") var seed: UInt64?
  @Option(name: .customLong("lr"), help: "Peak learning rate, linear warm-up then cosine decay (default: 1e-3 from scratch, 1e-5 for full and text-frozen fine-tuning, 1e-4 for last-k, image-frozen and --lora).") var learningRate: Float?
  @Option(help: "AdamW weight decay (default: \(d.weightDecay)).") var weightDecay: Float?
  @Option(help: "Fraction of steps spent warming up (default: \(d.warmupFraction)).") var warmupFraction: Double?
  @Option(help: "Global gradient-norm clip, 0 = off (default: \(d.gradClip)).") var gradClip: Float?
  @Option(help: "Micro-batches per optimiser step (default: \(d.accumulation)).") var accumulation: Int?
  @Option(help: "Fine-tuning mode; image-frozen caches the image tower's outputs (default: \(d.mode.rawValue)).") var mode: FineTuningMode?
  @Option(help: "Blocks per tower trained in last-k mode (default: \(d.lastK)).") var lastK: Int?
  @Option(help: "Loss; auto = contrastive when the data has notes and the model is pretrained, else prompt-ce (default: \(d.loss.rawValue)).") var loss: LossKind?
  @Option(help: "Model selection (default: \(d.selection.rawValue)).") var selection: SelectionRule?
  @Option(help: "AUC tolerance δ of val-dtpr selection (default: \(d.selectionDelta)).") var selectionDelta: Double?
  @Option(help: "Decision threshold saved with best/: youden = Youden's J on the validation predictions, argmax = 0.5 (default: \(d.thresholdPolicy.rawValue)).") var thresholdPolicy: ThresholdPolicy?
  @Option(help: "Held-out validation fraction when --val is absent (default: \(d.valFraction)).") var valFraction: Double?
  @Option(help: "Model input size (default: the model's image_size; 64 from scratch).") var imageSize: Int?
  @Option(name: .customLong("lora"), help: "Train LoRA adapters of this rank on --lora-targets, base weights frozen; best/ is a PEFT adapter folder.") var loraRank: Int?
  @Option(help: "LoRA alpha; the update is scaled by alpha/rank (default: the rank).") var loraAlpha: Float?
  @Option(help: "Dropout on the LoRA path's input (default: \(d.loraDropout)).") var loraDropout: Float?
  @Option(help: "Comma-separated Linear layers to adapt, matched as PEFT does (default: q_proj,v_proj for HF CLIP; qkv,query,value for timm + BERT models).") var loraTargets: String?
  @Flag(help: "With --lora, also save the merged full model in best/ (the adapter goes to best/adapter/).") var merge = false
  @Flag(inversion: .prefixedNo, help: "Training augmentation (default: on).") var augment: Bool?
  @Option(help: "CMAC-MMD estimator (default: \(d.cmac.estimator.rawValue)).") var cmacEstimator: CMACMMD.Estimator?
  @Option(help: "CMAC-MMD bandwidth (default: \(d.cmac.bandwidth.rawValue)).") var cmacBandwidth: BandwidthKind?
  @Option(help: "CMAC-MMD kernel σ of the fixed and multi bandwidths, in cosine units (default: \(d.cmac.sigma)).") var cmacSigma: Float?
  @Option(help: "CMAC-MMD comparison (default: \(d.cmac.comparison.rawValue)).") var cmacComparison: CMACMMD.Comparison?
  @Option(help: "CMAC-MMD conditioning (default: \(d.cmac.conditioning.rawValue)).") var cmacConditioning: CMACMMD.Conditioning?
  @Option(help: "CMAC-MMD minimum samples of a subgroup in a batch (default: \(d.cmac.minGroupSize)).") var cmacMinGroupSize: Int?
  @Flag(help: "Margins on τ-scaled logits instead of cosines (docs/METHOD.md §8: collapse-prone).") var cmacMarginsOnLogits = false
  @Option(help: "Log a line every N steps when not on a terminal.") var logEvery: Int?
  @Flag(help: "Continue the run in --out from its last checkpoint (the options must match its run.json).") var resume = false
  @Flag(help: "Replace the run that --out already holds (or write into a non-empty folder holding no run).") var overwrite = false
  @Option(help: "Stop after this many epochs (the run can be resumed).") var stopAfter: Int?
  @Option(help: "Run folder.") var out: String

  func resolvedConfig() throws -> RunConfig {
    var c: RunConfig
    if let config { c = try RunConfig.load(config) } else if resume, FileManager.default.fileExists(atPath: out + "/run.json") {
      c = try RunConfig.load(out + "/run.json")
    } else {
      if resume && !overwrite && data == nil { try Trainer.requireRun(in: out) }
      guard let data else { throw ValidationError("--data is required (or --config run.json)") }
      c = RunConfig(data: data)
    }
    if let data { c.data = data }
    if let val { c.val = val }
    if let model { c.model = model }
    if let loraRank { c.loraRank = loraRank }
    if let loraAlpha { c.loraAlpha = loraAlpha }
    if let loraDropout { c.loraDropout = loraDropout }
    if let loraTargets { c.loraTargets = loraTargets.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
    if merge { c.merge = true }
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
    if let thresholdPolicy { c.thresholdPolicy = thresholdPolicy }
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
    let world = try World.current.get()
    try world.endingJobOnFailure {
      let c = try resolvedConfig()
      let log = try TrainingLog(metricsPath: out + "/metrics.jsonl")
      let trainer = Trainer(config: c, runDirectory: out, log: log, world: world)
      trainer.stopAfterEpochs = stopAfter
      let summary = try trainer.run(resume: resume, overwrite: overwrite)
      let threshold = summary.threshold.map { " (decision threshold \($0.label))" } ?? ""
      if world.isLeader {
        print("selected epoch \(summary.state.bestEpoch ?? 0) by \(c.selection.rawValue); model in \(summary.bestModelDirectory)\(threshold)")
      }
    }
  }
}
