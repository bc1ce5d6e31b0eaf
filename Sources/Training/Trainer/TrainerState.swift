import CLIP
import Foundation
import NN
import Tensor
import Support

/// What a checkpoint carries besides the weights: progress, selection and the history of
/// validation metrics. Every random draw of a run is a function of (seed, epoch, index), so the
/// completed-epoch count is the RNG state.
public struct TrainerState: Codable, Equatable {
  /// Epochs completed.
  public var epoch: Int = 0
  /// Optimiser steps taken.
  public var step: Int = 0
  /// Selected epoch (1-based) and its validation metrics.
  public var bestEpoch: Int?
  public var best: EvalMetrics?
  /// Validation metrics of every completed epoch, at 0.5.
  public var history: [EvalMetrics] = []
  /// Validation metrics of every completed epoch at that epoch's decision threshold
  /// (``RunConfig/thresholdPolicy``), and the thresholds.
  public var decisionHistory: [EvalMetrics] = []
  public var thresholds: [DecisionThreshold] = []
  /// A pretraining run's validation of every completed epoch (its ``history`` stays empty).
  public var pretrainingHistory: [PretrainingMetrics] = []
  public init() {}

  /// The selected epoch's decision threshold.
  public var bestThreshold: DecisionThreshold? {
    guard let e = bestEpoch, thresholds.indices.contains(e - 1) else { return nil }
    return thresholds[e - 1]
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    epoch = try c.decode(Int.self, forKey: .epoch)
    step = try c.decode(Int.self, forKey: .step)
    bestEpoch = try c.decodeIfPresent(Int.self, forKey: .bestEpoch)
    best = try c.decodeIfPresent(EvalMetrics.self, forKey: .best)
    history = try c.decodeIfPresent([EvalMetrics].self, forKey: .history) ?? []
    decisionHistory = try c.decodeIfPresent([EvalMetrics].self, forKey: .decisionHistory) ?? history
    thresholds = try c.decodeIfPresent([DecisionThreshold].self, forKey: .thresholds) ?? history.map { _ in .argmax }
    pretrainingHistory = try c.decodeIfPresent([PretrainingMetrics].self, forKey: .pretrainingHistory) ?? []
  }

  /// The checkpoint folder to resume from, after finishing a swap a kill interrupted; nil when
  /// there is none.
  /// Epochs the checkpoint in run folder `runDirectory` has completed (0 when it has none or
  /// it cannot be read; only to tell a finished run from one to continue).
  static func finishedEpochs(runDirectory: String) -> Int {
    guard let dir = existingCheckpoint(runDirectory + "/checkpoint"),
      let data = try? readFile(dir + "/trainer_state.json"),
      let state = try? JSONDecoder().decode(TrainerState.self, from: data)
    else { return 0 }
    return state.epoch
  }

  static func existingCheckpoint(_ directory: String) -> String? {
    AtomicWrite.recover(directory)
    return FileManager.default.fileExists(atPath: directory + "/trainer_state.json") ? directory : nil
  }
}

/// Checkpoint folders: `model.safetensors` + `config.json` + tokenizer files (a loadable HF
/// folder), `optimizer.safetensors`, `method.json`, `trainer_state.json`, `run.json`.
enum Checkpoint {
  static func save(
    to directory: String, classifier: CLIPClassifier, optimizers: [(String, Optimizer)], method: TrainingMethod,
    state: TrainerState, config: RunConfig
  ) throws {
    try AtomicWrite.directory(directory) { dir in
      try classifier.save(directory: dir, includingOpenCLIP: false)
      var tensors: [(String, Tensor)] = []
      for (prefix, opt) in optimizers { tensors += opt.stateDict().map { (prefix + "." + $0.0, $0.1) } }
      tensors += method.extraParameters.map { ("method." + $0.0, $0.1) }
      try Safetensors.write(tensors, to: dir + "/optimizer.safetensors")
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      try AtomicWrite.file(try enc.encode(method.stateDict()), to: dir + "/method.json")
      try AtomicWrite.file(try enc.encode(state), to: dir + "/trainer_state.json")
      try config.write(to: dir + "/" + RunConfig.fileName)
    }
  }

  static func load(
    from directory: String, classifier: CLIPClassifier, optimizers: [(String, Optimizer)], method: TrainingMethod
  ) throws -> TrainerState {
    try classifier.loadSavedWeights(directory: directory)
    let file = try SafetensorsFile(path: directory + "/optimizer.safetensors")
    let all = try file.allTensors()
    for (prefix, opt) in optimizers {
      var part: [String: Tensor] = [:]
      for (k, v) in all where k.hasPrefix(prefix + ".") { part[String(k.dropFirst(prefix.count + 1))] = v }
      try opt.loadStateDict(part)
    }
    for (path, p) in method.extraParameters {
      guard let t = all["method." + path], t.count == p.count else {
        throw TrainingError.file(directory + "/optimizer.safetensors", "lacks method parameter \(path) \(p.shape)")
      }
      p.pointer.update(from: t.pointer, count: p.count)
    }
    let dec = JSONDecoder()
    let methodState = try dec.decode(
      [String: [Float]].self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/method.json")))
    try method.loadStateDict(methodState)
    do {
      return try dec.decode(
        TrainerState.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/trainer_state.json")))
    } catch {
      throw TrainingError.file(directory + "/trainer_state.json", "cannot be read: \(error)")
    }
  }
}
