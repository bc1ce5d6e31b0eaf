import Fairness
import CLIP
import Datasets
import Foundation
import NN
import Tensor
import Support
import Distributed

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
  /// A method object for the λ path's member of each strength instead of `config.method` (tests).
  var memberMethod: ((Float) -> TrainingMethod?)? = nil
  /// The processes training together (``DataParallel``); rank 0 alone writes files and logs.
  public let parallel: DataParallel

  /// `world` is ``World/current`` under `mpirun`; the default is one process. Ranks other than
  /// 0 log nothing.
  public init(
    config: RunConfig, runDirectory: String, log: TrainingLog, method: TrainingMethod? = nil,
    world: any Communicator = SingleProcess()
  ) {
    self.config = config.resolved
    self.runDirectory = runDirectory
    self.parallel = DataParallel(world: world)
    self.log = world.isLeader ? log : TrainingLog.silent
    self.customMethod = method
  }

  /// What a finished (or stopped) run reports.
  public struct Summary {
    public let state: TrainerState
    public let bestModelDirectory: String
    public let groupNames: [String]
    /// The λ selection of a run that trained a λ path (``RunConfig/selectsLambda``), on rank 0.
    public var selection: LambdaSelection.Outcome? = nil
    /// The decision threshold saved with `best/`.
    public var threshold: DecisionThreshold? { state.bestThreshold }
  }

  var checkpointDirectory: String { runDirectory + "/checkpoint" }
  /// Whether this run pretrains (``Objective/pretrain``).
  var pretraining: Bool { config.objective == .pretrain }
  var bestDirectory: String { runDirectory + "/" + ModelFolderLayout.best }

  /// Everything a run holds between steps.
  final class Session {
    let data: TrainingData
    let classifier: CLIPClassifier
    let method: TrainingMethod
    let optimizers: [(String, Optimizer)]
    let sampler: BatchSampler
    let schedule: LRSchedule
    let totalSteps: Int
    let trainTransform: ImageTransform
    let evalTransform: ImageTransform
    let contrastive: Bool
    /// Subgroup × label cell of each training sample (how batches are sharded over ranks).
    let cellOf: [String]
    var cache: [Tensor]?
    var state = TrainerState()
    var imagesSeen = 0

    init(
      data: TrainingData, classifier: CLIPClassifier, method: TrainingMethod, optimizers: [(String, Optimizer)],
      sampler: BatchSampler, schedule: LRSchedule, totalSteps: Int, trainTransform: ImageTransform,
      evalTransform: ImageTransform, contrastive: Bool, cellOf: [String]
    ) {
      self.data = data; self.classifier = classifier; self.method = method; self.optimizers = optimizers
      self.sampler = sampler; self.schedule = schedule; self.totalSteps = totalSteps
      self.trainTransform = trainTransform; self.evalTransform = evalTransform; self.contrastive = contrastive
      self.cellOf = cellOf
    }
  }

  /// Refuses `--resume` into `directory` when it holds no run (no `run.json`): the error names the
  /// folder and the file looked for, and says to drop `--resume`.
  public static func requireRun(in directory: String) throws {
    try RunFolder.requireRun(directory)
  }

  /// Runs (or, with `resume`, continues) training. A folder that already holds a run is
  /// refused unless `resume` (same configuration, continued) or `overwrite` (replaced); a
  /// non-empty folder holding no run is refused unless `overwrite`, and `resume` of a folder
  /// holding no run is refused.
  /// A method with a λ and no `--lambda` trains the λ path and keeps the λ chosen on validation
  /// (``runLambdaPath(resume:overwrite:)``).
  public func run(resume: Bool = false, overwrite: Bool = false) throws -> Summary {
    try config.validate()
    return try Precision.withPrecision(config.precision) { try runInPrecision(resume: resume, overwrite: overwrite) }
  }

  /// ``run(resume:overwrite:)`` with the run's ``RunConfig/precision`` in force.
  func runInPrecision(resume: Bool, overwrite: Bool) throws -> Summary {
    if config.selectsLambda { return try runLambdaPath(resume: resume, overwrite: overwrite) }
    try validateComputeEnvironment()
    try config.validate()
    try parallel.check(batchSize: config.batchSize)
    let replaced = try parallel.onLeader("checking the run folder") {
      try RunFolder.check(runDirectory, config: config, resume: resume, overwrite: overwrite)
    }
    let session = try parallel.together("loading the data and the model") { () throws -> Session in
      let s = try setUp()
      try parallel.check(batches: s.sampler.batches(epoch: 0), dataset: s.data.train.name)
      return s
    }
    try parallel.onLeader("writing run.json") {
      try RunFolder.clear(runDirectory, replaced ?? [])  // only once data and model have loaded
      try config.write(to: runDirectory + "/" + RunConfig.fileName)
    }
    if resume {  // rank 0 finishes any swap a kill interrupted before every rank reads the checkpoint
      try parallel.onLeader("recovering the checkpoint") { _ = TrainerState.existingCheckpoint(checkpointDirectory) }
    }
    if resume, let dir = TrainerState.existingCheckpoint(checkpointDirectory) {
      session.state = try parallel.together("loading the checkpoint") {
        try Checkpoint.load(
          from: dir, classifier: session.classifier, optimizers: session.optimizers, method: session.method)
      }
      try log.truncate(toStep: session.state.step)
      log.line("resumed from \(dir) after epoch \(session.state.epoch) (step \(session.state.step))")
    } else {
      try log.truncate(toStep: 0)
    }
    if config.mode == .imageFrozen {
      let build = {
        try FeatureCache.build(
          classifier: session.classifier, datasets: [session.data.train, session.data.val],
          transform: session.evalTransform, precision: self.config.precision,
          directory: self.config.featureCache ?? self.runDirectory + "/" + RunConfig.defaultFeatureCacheFolder,
          threads: self.config.loaderThreads, log: self.log)
      }
      let built = try parallel.onLeader("building the feature cache", build)
      session.cache = try parallel.together("reading the feature cache") { try built ?? build() }
    }
    try parallel.broadcast(session.optimizers.flatMap { $0.1.parameters.map(\.tensor) })
    if parallel.size > 1 { log.line("data-parallel over \(parallel.size) processes; global batch \(config.batchSize)") }
    log.start()
    while session.state.epoch < config.epochs {
      if let stop = stopAfterEpochs, session.state.epoch >= stop { break }
      try trainEpoch(session)
      try endEpoch(session)
    }
    return Summary(state: session.state, bestModelDirectory: bestDirectory, groupNames: session.data.groupNames)
  }

  /// Data, model, method, optimisers, sampler and schedule of this configuration.
  func setUp() throws -> Session {
    let data = try TrainingData(config: config)
    let classifier = try makeClassifier(prompts: data.prompts)
    try applyMode(classifier)
    classifier.openCLIPOnSave = config.openClip
    let imageSize = config.imageSize ?? classifier.model.imageSize
    let evalTransform = transform(classifier.preprocessing, size: imageSize, augment: false)
    classifier.preprocessing = evalTransform
    let trainTransform = transform(
      evalTransform, size: imageSize, augment: config.augment && config.mode != .imageFrozen)

    let trainGroups = data.groupIDs(data.train.samples.map(data.groupSpec.key))
    let method = customMethod ?? (pretraining ? ERM() : config.makeMethod())
    try method.prepare(
      TrainingSetSummary(
        labels: data.train.samples.map(\.label), groups: trainGroups,
        groupCount: data.groupNames.count, classCount: data.prompts.count, embeddingDim: classifier.model.embeddingDim,
        seed: config.seed))
    var optimizers: [(String, Optimizer)] = [
      ("model", AdamW(parameters: classifier.model.trainableParameters(), weightDecay: config.weightDecay))
    ]
    if !method.extraParameters.isEmpty {
      optimizers.append(
        (
          Self.methodOptimizer,
          AdamW(parameters: method.extraParameters.map { (path: $0.0, tensor: $0.1) }, weightDecay: 0)
        ))
    }
    let sampler = try makeSampler(data: data, method: method)
    let stepsPerEpoch = (sampler.batches(epoch: 0).count + config.accumulation - 1) / config.accumulation
    let totalSteps = stepsPerEpoch * config.epochs
    let schedule = LRSchedule.warmupCosine(
      peak: config.effectiveLearningRate, warmup: Int(config.warmupFraction * Double(totalSteps)), total: totalSteps)
    return Session(
      data: data, classifier: classifier, method: method, optimizers: optimizers, sampler: sampler, schedule: schedule,
      totalSteps: totalSteps, trainTransform: trainTransform, evalTransform: evalTransform,
      contrastive: pretraining
        || config.loss.isContrastive(hasNotes: data.hasNotes, fromScratch: config.fromScratch != nil),
      cellOf: cellOf(data))
  }

  /// One pass over the epoch's batches: forward, backward, and an optimiser step every
  /// ``RunConfig/accumulation`` micro-batches.
  func trainEpoch(_ s: Session) throws {
    let epoch = s.state.epoch
    s.classifier.model.reseedDropout(config.seed &+ UInt64(epoch) &* 0x2545_F491_4F6C_DD1D)
    s.classifier.model.setTraining(true)
    defer { s.classifier.model.setTraining(false) }
    let batches = s.sampler.batches(epoch: epoch)
    let shards = batches.map { DataParallel.shards(of: $0, cell: { s.cellOf[$0] }, ranks: parallel.size) }
    let source = BatchSource(
      data: s.data, batches: shards.map { $0[parallel.rank] }, cache: s.cache?[0], transform: s.trainTransform,
      seed: config.seed, epoch: epoch, threads: config.loaderThreads)
    var pending = 0
    var logs: [String: Double] = [:]
    for b in 0..<batches.count {
      guard let batch = try source.next() else { break }
      let progress = Double(s.state.step) / Double(max(s.totalSteps, 1))
      let global = shards[b].flatMap { $0 }.map { s.data.train.samples[$0] }
      let out =
        try pretraining
        ? pretrainingLoss(s, batch)
        : s.method.loss(
          lossInputs(
            s, batch, labels: global.map(\.label), groups: s.data.groupIDs(global.map(s.data.groupSpec.key)),
            progress: progress))
      let lossValue = out.total.item()
      guard lossValue.isFinite else { throw nonFinite(s, "loss is \(lossValue)") }
      try (config.accumulation > 1 ? out.total * (1 / Float(config.accumulation)) : out.total).backward()
      for (k, v) in out.logs { logs[k, default: 0] += v / Double(config.accumulation) }
      logs["loss", default: 0] += Double(lossValue) / Double(config.accumulation)
      pending += 1
      s.imagesSeen += global.count
      guard pending == config.accumulation || b == batches.count - 1 else { continue }
      try optimizerStep(s, logs: &logs)
      pending = 0
      log.record(["kind": "step", "epoch": epoch + 1, "step": s.state.step].merging(logs) { a, _ in a })
      log.step(
        epoch: epoch, epochs: config.epochs, step: s.state.step, total: s.totalSteps, images: s.imagesSeen, terms: logs,
        every: config.logEvery)
      logs = [:]
    }
  }

  /// The loss inputs of one global batch from this rank's shard: its embeddings are gathered
  /// from every rank, and the class prompts and temperature are shared (``DataParallel``).
  func lossInputs(_ s: Session, _ shard: ModelBatch, labels: [Int], groups: [Int], progress: Double) throws
    -> MethodBatch
  {
    let e = try s.classifier.encode(
      images: shard.images, pooled: s.cache != nil, texts: s.contrastive ? shard.texts : nil)
    return try CLIPClassifier.methodBatch(
      imageEmbeddings: parallel.gather(e.images), textEmbeddings: e.texts.map(parallel.gather),
      classTexts: parallel.replicated(s.classifier.classTexts()),
      logitScale: parallel.replicated(s.classifier.model.logitScale),
      labels: labels, groups: groups, contrastive: s.contrastive, progress: progress)
  }

  /// The optimiser of a method's own parameters (an adversary's), beside the model's.
  static let methodOptimizer = "method"

  /// Sums the gradients over ranks, clips them by their global norm (the model's and the
  /// method's each by their own) and steps every optimiser.
  func optimizerStep(_ s: Session, logs: inout [String: Double]) throws {
    try parallel.reduceGradients(
      summed: s.optimizers.filter { $0.0 != Self.methodOptimizer }.flatMap { $0.1.parameters.map(\.tensor) },
      averaged: s.optimizers.filter { $0.0 == Self.methodOptimizer }.flatMap { $0.1.parameters.map(\.tensor) })
    // The model's gradients are clipped by their own global norm, a method's own parameters (an
    // adversary) by theirs: a method's parameters never rescale the model's step, so a method at
    // λ 0 trains the model exactly as ERM does.
    let maxNorm = config.gradClip > 0 ? config.gradClip : .infinity
    let (norm, scale) = GradientClipping.scale(
      s.optimizers.filter { $0.0 != Self.methodOptimizer }.flatMap { $0.1.parameters }, maxNorm: maxNorm)
    let (methodNorm, methodScale) = GradientClipping.scale(
      s.optimizers.filter { $0.0 == Self.methodOptimizer }.flatMap { $0.1.parameters }, maxNorm: maxNorm)
    guard norm.isFinite else { throw nonFinite(s, "gradient norm is \(norm)") }
    guard methodNorm.isFinite else { throw nonFinite(s, "the method's gradient norm is \(methodNorm)") }
    let lr = s.schedule(s.state.step)
    for (name, opt) in s.optimizers {
      opt.step(lr: lr, gradScale: name == Self.methodOptimizer ? methodScale : scale)
      opt.zeroGrad()
    }
    s.state.step += 1
    FaultInjection.point("train.step")
    logs["grad_norm"] = Double(norm)
    logs["lr"] = Double(lr)
  }

  /// Validation (at 0.5 and at the decision threshold chosen on it), model selection, the
  /// checkpoint and the epoch's log line.
  func endEpoch(_ s: Session) throws {
    if pretraining { return try endPretrainingEpoch(s) }
    let preds = try parallel.predictions(dataset: s.data.val, groupSpec: s.data.groupSpec) { rows in
      try Predictions.compute(
        classifier: s.classifier, dataset: s.data.val, groupSpec: s.data.groupSpec, transform: s.evalTransform,
        batchSize: max(config.batchSize, 64), cached: s.cache?[1], threads: config.loaderThreads, rows: rows)
    }
    let metrics = try EvalMetrics.compute(labels: preds.labels, scores: preds.scores, groups: preds.groups)
    let threshold: DecisionThreshold
    do {
      threshold = try DecisionThreshold.choose(config.thresholdPolicy, labels: preds.labels, scores: preds.scores)
    } catch {
      // A validation set with one class has no Youden threshold (nor an AUC): decide at 0.5 and say so.
      if s.state.epoch == 0 { log.line("warning: \(error); the saved decision threshold is 0.5 (argmax)") }
      threshold = .argmax
    }
    let decided = try EvalMetrics.compute(
      labels: preds.labels, scores: preds.scores, groups: preds.groups, threshold: threshold.value)
    s.state.history.append(metrics)
    s.state.decisionHistory.append(decided)
    s.state.thresholds.append(threshold)
    s.state.epoch += 1
    if isBetter(s.state) {
      s.state.best = metrics
      s.state.bestEpoch = s.state.epoch
      if parallel.world.isLeader {
        try AtomicWrite.directory(bestDirectory) { dir in
          try s.classifier.save(directory: dir)
          try threshold.write(toDirectory: dir)
          let validation = ValidationPredictions(
            epoch: s.state.epoch, labels: preds.labels, scores: preds.scores, groups: preds.groups,
            threshold: threshold.value)
          try validation.write(toDirectory: dir)
          try ModelCard(
            config: config, trainingCounts: s.data.trainingCounts, classNames: s.data.train.classNames,
            prompts: s.data.prompts, validation: validation, threshold: threshold
          ).write(toDirectory: dir)
        }
      }
    }
    // The epoch's record goes before its checkpoint: a run killed between the two resumes from the
    // previous checkpoint, drops this record with the epoch's steps and logs them all again.
    var record: [String: Any] = [
      "kind": "epoch", "epoch": s.state.epoch, "step": s.state.step, "selected_epoch": s.state.bestEpoch ?? 0,
      "val_decision_threshold": threshold.value,
    ]
    for (k, v) in Self.fields(metrics) { record["val_" + k] = v }
    for (k, v) in Self.fields(decided) where k != "auc" && k != "n" { record["val_decision_" + k] = v }
    log.record(record)
    if parallel.world.isLeader {
      try Checkpoint.save(
        to: checkpointDirectory, classifier: s.classifier, optimizers: s.optimizers, method: s.method, state: s.state,
        config: config)
    }
    let atHalf =
      threshold.policy == .argmax
      ? ""
      : String(format: "  | at 0.5: ΔTPR %@  worst %@", Self.fmt(metrics.deltaTPR), Self.fmt(metrics.worstGroupTPR))
    log.line(
      String(
        format: "epoch %d/%d  val AUC %@  at %@: ΔTPR %@  worst-group TPR %@ (%@)%@%@", s.state.epoch, config.epochs,
        Self.fmt(metrics.auc), threshold.label, Self.fmt(decided.deltaTPR), Self.fmt(decided.worstGroupTPR),
        decided.worstGroup ?? "–",
        atHalf, s.state.bestEpoch == s.state.epoch ? "  ← selected" : ""))
    if let warning = Self.chanceWarning(auc: metrics.auc, epoch: s.state.epoch, epochs: config.epochs, config: config) {
      log.line(warning)
    }
  }

  /// A warning when validation AUC is still near or below chance (< 0.55) after the first epochs (a learning
  /// rate far too small for the mode is the usual cause).
  static func chanceWarning(auc: Double?, epoch: Int, epochs: Int, config: RunConfig) -> String? {
    guard epoch == min(2, epochs), let auc, auc < 0.55 else { return nil }
    let scratch = config.fromScratch != nil
    let suggested = DefaultLearningRate.value(fromScratch: scratch, mode: config.mode, lora: config.loraRank != nil)
    let hint =
      config.effectiveLearningRate < suggested
      ? String(
        format: "--lr %g is below the default for %@ (%g); ", config.effectiveLearningRate,
        scratch ? "training from scratch" : "--mode \(config.mode.rawValue)", suggested)
      : ""
    return String(
      format:
        "warning: validation AUC %.3f after %d epoch%@ is near or below chance (0.5): %@the model may not be learning",
      auc, epoch, epoch == 1 ? "" : "s", hint)
  }

  /// The NaN stop: names the step and what this run has kept.
  func nonFinite(_ s: Session, _ what: String) -> TrainingError {
    let kept =
      s.state.epoch > 0
      ? "the checkpoint of epoch \(s.state.epoch) is kept in \(checkpointDirectory)"
      : "no epoch had completed, so there is no checkpoint"
    return .nonFinite("epoch \(s.state.epoch + 1), step \(s.state.step + 1): \(what); stopped, \(kept)")
  }

  // MARK: - Pieces

  func makeClassifier(prompts: [String]) throws -> CLIPClassifier {
    if let dir = config.model { return try CLIPClassifier.load(directory: dir, prompts: prompts) }
    let size = config.imageSize ?? 64
    guard let preset = config.fromScratch, let cfg = preset.config(imageSize: size) else {
      throw TrainingError.invalidConfig(["give --model HF_DIR or --from-scratch tiny|small"])
    }
    let tokenizer = try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength)
    return CLIPClassifier(model: CLIPModel(config: cfg, seed: config.seed), tokenizer: tokenizer, prompts: prompts)
  }

  /// Freezes parameters by fine-tuning mode; with `--lora`, attaches adapters to the target
  /// layers of the towers the mode trains and freezes everything else.
  func applyMode(_ classifier: CLIPClassifier) throws {
    let model = classifier.model
    defer { classifier.invalidateCaches() }  // which parameters train has changed
    if let lora = config.loraConfig(defaultTargets: model.defaultLoRATargets) {
      // image-frozen caches the image encoder's outputs, so its adapters go to the text tower only.
      let within: [String]? =
        config.mode == .textFrozen
        ? model.imageTowerPrefixes : config.mode == .imageFrozen ? model.textTowerPrefixes : nil
      do { try model.attachLoRA(lora, within: within, seed: config.seed) } catch let e as LoRAError {
        throw TrainingError.invalidConfig([e.problem])
      }
      classifier.lora = lora
      classifier.mergeOnSave = config.merge
      return
    }
    _ = model.unfreeze()
    switch config.mode {
    case .full: break
    case .textFrozen: for p in model.textTowerPrefixes { _ = model.freeze(prefix: p) }
    case .imageFrozen: for p in model.imageEncoderPrefixes { _ = model.freeze(prefix: p) }
    case .lastK:
      _ = model.freeze()
      for p in model.lastLayerPrefixes(config.lastK) { _ = model.unfreeze(prefix: p) }
    }
  }

  /// The model's own preprocessing (its `preprocessor_config.json`), at `size` when
  /// `--image-size` changes it (the resize step scales with the crop).
  func transform(_ base: ImageTransform, size: Int, augment: Bool) -> ImageTransform {
    var t = base
    if size != t.size {
      t.resizeShortestSide = max(size, Int((Double(t.resizeShortestSide) * Double(size) / Double(t.size)).rounded()))
      t.size = size
    }
    t.augmentation = augment ? Augmentation() : nil
    return t
  }

  /// Subgroup × label cell of each training sample.
  func cellOf(_ data: TrainingData) -> [String] {
    data.train.samples.map { data.groupSpec.key($0) + "|y=\($0.label)" }
  }

  func makeSampler(data: TrainingData, method: TrainingMethod) throws -> BatchSampler {
    let samples = data.train.samples
    let cellOf = cellOf(data)
    if pretraining {  // no labels or groups to balance: every pair once per epoch
      return ShuffleBatchSampler(
        count: samples.count, batchSize: config.batchSize, seed: config.seed, dropLast: samples.count > config.batchSize
      )
    }
    if method.sampling == .balancedCells {
      return CellBalancedResampler(cellOf: cellOf, batchSize: config.batchSize, seed: config.seed)
    }
    switch config.sampler {
    case .balancedCells:
      return try GroupBalancedBatchSampler(
        cellOf: cellOf, batchSize: config.batchSize, minPerCell: config.minPerCell, seed: config.seed)
    case .balanced:
      return try GroupBalancedBatchSampler(
        cellOf: samples.map(data.groupSpec.key), batchSize: config.batchSize,
        minPerCell: config.minPerCell, seed: config.seed)
    case .shuffle:
      return ShuffleBatchSampler(
        count: samples.count, batchSize: config.batchSize, seed: config.seed, dropLast: samples.count > config.batchSize
      )
    }
  }

  /// Whether the epoch just appended to `state`'s history beats the selected one.
  func isBetter(_ state: TrainerState) -> Bool {
    guard let bestEpoch = state.bestEpoch else { return true }
    let m = state.history[state.history.count - 1], best = state.history[bestEpoch - 1]
    let decided = state.decisionHistory[state.decisionHistory.count - 1],
      bestDecided = state.decisionHistory[bestEpoch - 1]
    let bar = (state.history.compactMap(\.auc).max() ?? 0) - config.selectionDelta
    switch config.selection {
    case .last: return true
    case .valAUC: return (m.auc ?? -1) > (best.auc ?? -1)
    case .valDTPR, .valWorstTPR:
      guard (m.auc ?? 0) >= bar else { return false }
      // The incumbent may itself have fallen below the AUC bar as better-AUC epochs arrived.
      if (best.auc ?? 0) < bar { return true }
      if config.selection == .valDTPR { return (decided.deltaTPR ?? .infinity) < (bestDecided.deltaTPR ?? .infinity) }
      return (decided.worstGroupTPR ?? -1) > (bestDecided.worstGroupTPR ?? -1)
    }
  }

  static func fields(_ m: EvalMetrics) -> [String: Any] {
    var out: [String: Any] = ["n": m.n, "threshold": m.threshold]
    for (k, v) in [
      ("auc", m.auc), ("accuracy", m.accuracy), ("tpr", m.tpr), ("delta_tpr", m.deltaTPR),
      ("worst_group_tpr", m.worstGroupTPR), ("deodds", m.deodds), ("dpd", m.dpd), ("es_auc", m.esAUC),
    ] {
      out[k] = v.map { $0 as Any } ?? NSNull()
    }
    return out
  }

  static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
}
