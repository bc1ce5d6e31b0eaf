import CLIP
import Data
import Foundation
import NN
import Tensor

/// Fine-tunes (or trains from scratch) a CLIP classifier with one ``TrainingMethod``, validating
/// every epoch, selecting a model by a named criterion, and checkpointing atomically so that a
/// killed run resumes to the same final weights.
public final class Trainer {
  public let config: RunConfig
  public let runDirectory: String
  public let log: TrainingLog
  /// Stop after this many completed epochs (simulates a kill; tests and `--stop-after`).
  public var stopAfterEpochs: Int?
  /// A method object to use instead of `config.method` (custom methods, tests).
  public let customMethod: TrainingMethod?

  public init(config: RunConfig, runDirectory: String, log: TrainingLog, method: TrainingMethod? = nil) {
    self.config = config
    self.runDirectory = runDirectory
    self.log = log
    self.customMethod = method
  }

  /// What a finished (or stopped) run reports.
  public struct Summary {
    public let state: TrainerState
    public let bestModelDirectory: String
    public let groupNames: [String]
  }

  var checkpointDirectory: String { runDirectory + "/checkpoint" }
  var bestDirectory: String { runDirectory + "/best" }

  /// Runs (or, with `resume`, continues) training.
  public func run(resume: Bool = false) throws -> Summary {
    try config.validate()
    try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
    try config.write(to: runDirectory + "/run.json")
    let data = try TrainingData(config: config)
    let classifier = try makeClassifier(prompts: data.prompts)
    try applyMode(classifier.model)
    let imageSize = config.imageSize ?? classifier.model.config.vision.imageSize
    let evalTransform = try transform(size: imageSize, augment: false)
    let trainTransform = try transform(size: imageSize, augment: config.augment && config.mode != "image-frozen")
    let contrastive = config.loss == "contrastive" || (config.loss == "auto" && data.hasNotes)

    let trainGroups = data.groupIDs(data.train.samples.map(data.groupSpec.key))
    let method = try customMethod ?? config.makeMethod()
    try method.prepare(TrainingSetSummary(labels: data.train.samples.map(\.label), groups: trainGroups,
      groupCount: data.groupNames.count, classCount: data.prompts.count, embeddingDim: classifier.model.config.projectionDim, seed: config.seed))

    let optimizer = AdamW(parameters: classifier.model.trainableParameters(), weightDecay: config.weightDecay)
    var optimizers: [(String, Optimizer)] = [("model", optimizer)]
    if !method.extraParameters.isEmpty {
      optimizers.append(("method", AdamW(parameters: method.extraParameters.map { (path: $0.0, tensor: $0.1) }, weightDecay: 0)))
    }
    let sampler = try makeSampler(data: data, method: method)
    let batchesPerEpoch = sampler.batches(epoch: 0).count
    let stepsPerEpoch = (batchesPerEpoch + config.accumulation - 1) / config.accumulation
    let totalSteps = stepsPerEpoch * config.epochs
    let schedule = LRSchedule.warmupCosine(peak: config.learningRate, warmup: Int(config.warmupFraction * Double(totalSteps)), total: totalSteps)

    var state = TrainerState()
    if resume, let dir = AtomicFile.existingDirectory(checkpointDirectory) {
      state = try Checkpoint.load(from: dir, classifier: classifier, optimizers: optimizers, method: method)
      log.line("resumed from \(dir) after epoch \(state.epoch) (step \(state.step))")
    }
    let cache = config.mode == "image-frozen" ? try FeatureCache.build(classifier: classifier, datasets: [data.train, data.val],
      transform: evalTransform, directory: config.featureCache ?? runDirectory + "/feature_cache", threads: config.loaderThreads, log: log) : nil

    log.start()
    var imagesSeen = 0
    while state.epoch < config.epochs {
      if let stop = stopAfterEpochs, state.epoch >= stop { break }
      let epoch = state.epoch
      let batches = sampler.batches(epoch: epoch)
      let source = BatchSource(data: data, batches: batches, cache: cache?[0], transform: trainTransform,
        seed: config.seed, epoch: epoch, threads: config.loaderThreads)
      var pending = 0
      var logs: [String: Double] = [:]
      for b in 0..<batches.count {
        guard let batch = try source.next() else { break }
        let progress = Double(state.step) / Double(max(totalSteps, 1))
        let mb = try classifier.methodBatch(images: batch.images, pooled: cache != nil, labels: batch.labels,
          groups: data.groupIDs(batch.groups), texts: contrastive ? batch.texts : nil, contrastive: contrastive, progress: progress)
        let out = try method.loss(mb)
        let lossValue = out.total.item()
        guard lossValue.isFinite else {
          throw TrainingError.nonFinite("epoch \(epoch + 1), step \(state.step + 1): loss is \(lossValue); stopped, the last good checkpoint is kept in \(checkpointDirectory)")
        }
        try (config.accumulation > 1 ? out.total * (1 / Float(config.accumulation)) : out.total).backward()
        for (k, v) in out.logs { logs[k, default: 0] += v / Double(config.accumulation) }
        logs["loss", default: 0] += Double(lossValue) / Double(config.accumulation)
        pending += 1
        imagesSeen += batch.labels.count
        guard pending == config.accumulation || b == batches.count - 1 else { continue }
        let params = optimizers.flatMap { $0.1.parameters }
        let (norm, scale) = GradientClipping.scale(params, maxNorm: config.gradClip > 0 ? config.gradClip : .infinity)
        guard norm.isFinite else {
          throw TrainingError.nonFinite("epoch \(epoch + 1), step \(state.step + 1): gradient norm is \(norm); stopped, the last good checkpoint is kept in \(checkpointDirectory)")
        }
        let lr = schedule(state.step)
        for (_, opt) in optimizers {
          opt.step(lr: lr, gradScale: scale)
          opt.zeroGrad()
        }
        state.step += 1
        pending = 0
        logs["grad_norm"] = Double(norm)
        logs["lr"] = Double(lr)
        log.record(["kind": "step", "epoch": epoch + 1, "step": state.step].merging(logs) { a, _ in a })
        log.step(epoch: epoch, epochs: config.epochs, step: state.step, total: totalSteps, images: imagesSeen, terms: logs, every: config.logEvery)
        logs = [:]
      }
      let metrics = try evaluate(classifier: classifier, dataset: data.val, groupSpec: data.groupSpec, transform: evalTransform,
        cached: cache?[1])
      state.history.append(metrics)
      state.epoch += 1
      if isBetter(metrics, than: state) {
        state.best = metrics
        state.bestEpoch = state.epoch
        try AtomicFile.replaceDirectory(bestDirectory) { try classifier.save(directory: $0) }
      }
      try Checkpoint.save(to: checkpointDirectory, classifier: classifier, optimizers: optimizers, method: method, state: state, config: config)
      var record: [String: Any] = ["kind": "epoch", "epoch": state.epoch, "step": state.step, "selected_epoch": state.bestEpoch ?? 0]
      for (k, v) in Self.fields(metrics) { record["val_" + k] = v }
      log.record(record)
      log.line(String(format: "epoch %d/%d  val AUC %@  ΔTPR %@  worst-group TPR %@ (%@)%@", state.epoch, config.epochs,
        Self.fmt(metrics.auc), Self.fmt(metrics.deltaTPR), Self.fmt(metrics.worstGroupTPR), metrics.worstGroup ?? "–",
        state.bestEpoch == state.epoch ? "  ← selected" : ""))
    }
    return Summary(state: state, bestModelDirectory: bestDirectory, groupNames: data.groupNames)
  }

  // MARK: - Pieces

  func makeClassifier(prompts: [String]) throws -> CLIPClassifier {
    if let dir = config.model { return try CLIPClassifier.load(directory: dir, prompts: prompts) }
    let size = config.imageSize ?? 64
    guard let name = config.fromScratch, let cfg = ModelPresets.config(named: name, imageSize: size) else {
      throw TrainingError.invalidConfig(["give --model HF_DIR or --from-scratch tiny|small"])
    }
    let tokenizer = try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength)
    return CLIPClassifier(model: CLIPModel(config: cfg, seed: config.seed), tokenizer: tokenizer, prompts: prompts)
  }

  /// Freezes parameters by fine-tuning mode.
  func applyMode(_ model: CLIPModel) throws {
    switch config.mode {
    case "full": _ = model.unfreeze()
    case "text-frozen":
      _ = model.unfreeze()
      _ = model.freeze(prefix: "text_model")
      _ = model.freeze(prefix: "text_projection")
    case "image-frozen":
      _ = model.unfreeze()
      _ = model.freeze(prefix: "vision_model")
    case "last-k":
      _ = model.freeze()
      for (tower, layers) in [("vision_model", model.config.vision.numHiddenLayers), ("text_model", model.config.text.numHiddenLayers)] {
        for l in max(0, layers - config.lastK)..<layers { _ = model.unfreeze(prefix: "\(tower).encoder.layers.\(l)") }
      }
      for p in ["vision_model.post_layernorm", "text_model.final_layer_norm", "visual_projection", "text_projection", "logit_scale"] {
        _ = model.unfreeze(prefix: p)
      }
    default: throw TrainingError.invalidConfig(["unknown mode \(config.mode)"])
    }
  }

  func transform(size: Int, augment: Bool) throws -> ImageTransform {
    let aug: Augmentation? = augment ? Augmentation() : nil
    if let dir = config.model, FileManager.default.fileExists(atPath: dir + "/preprocessor_config.json") {
      var t = try ImageTransform(preprocessorConfig: dir + "/preprocessor_config.json", augmentation: aug)
      t.size = size
      t.resizeShortestSide = size
      return t
    }
    return ImageTransform(size: size, augmentation: aug)
  }

  func makeSampler(data: TrainingData, method: TrainingMethod) throws -> BatchSampler {
    let samples = data.train.samples
    let cellOf = samples.map { data.groupSpec.key($0) + "|y=\($0.label)" }
    if method.sampling == .balancedCells {
      return CellBalancedResampler(cellOf: cellOf, batchSize: config.batchSize, seed: config.seed)
    }
    if config.sampler == "balanced-cells" {
      return try GroupBalancedBatchSampler(cellOf: cellOf, batchSize: config.batchSize, minPerCell: config.minPerCell, seed: config.seed)
    }
    if config.sampler == "balanced" {
      return try GroupBalancedBatchSampler(cellOf: samples.map(data.groupSpec.key), batchSize: config.batchSize,
        minPerCell: config.minPerCell, seed: config.seed)
    }
    return ShuffleBatchSampler(count: samples.count, batchSize: config.batchSize, seed: config.seed, dropLast: samples.count > config.batchSize)
  }

  func isBetter(_ m: EvalMetrics, than state: TrainerState) -> Bool {
    guard let best = state.best else { return true }
    switch config.selection {
    case "last": return true
    case "val-dtpr":
      let bestAUC = max(best.auc ?? 0, state.history.compactMap(\.auc).max() ?? 0)
      guard (m.auc ?? 0) >= bestAUC - config.selectionDelta else { return false }
      // The incumbent may itself have fallen below the AUC bar as better-AUC epochs arrived.
      if (best.auc ?? 0) < bestAUC - config.selectionDelta { return true }
      return (m.deltaTPR ?? .infinity) < (best.deltaTPR ?? .infinity)
    default: return (m.auc ?? -1) > (best.auc ?? -1)
    }
  }

  func evaluate(classifier: CLIPClassifier, dataset: Dataset, groupSpec: GroupSpec, transform: ImageTransform, cached: Tensor?) throws -> EvalMetrics {
    let preds = try Predictions.compute(classifier: classifier, dataset: dataset, groupSpec: groupSpec, transform: transform,
      batchSize: max(config.batchSize, 64), cached: cached, threads: config.loaderThreads)
    return try EvalMetrics.compute(labels: preds.labels, scores: preds.scores, groups: preds.groups)
  }

  static func fields(_ m: EvalMetrics) -> [String: Any] {
    var out: [String: Any] = ["n": m.n, "threshold": m.threshold]
    for (k, v) in [("auc", m.auc), ("accuracy", m.accuracy), ("tpr", m.tpr), ("delta_tpr", m.deltaTPR),
                   ("worst_group_tpr", m.worstGroupTPR), ("deodds", m.deodds), ("dpd", m.dpd), ("es_auc", m.esAUC)] {
      out[k] = v.map { $0 as Any } ?? NSNull()
    }
    return out
  }

  static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
}
