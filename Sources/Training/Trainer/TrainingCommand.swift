import Distributed
import Foundation

extension Trainer {
  /// `fairmed train` and `fairmed pretrain`: the configuration from `configFile` (or, with
  /// `resume`, the run's own `run.json`) with the command's `arguments` laid over it, trained in
  /// run folder `out` (created, continued with `resume`, or replaced with `overwrite`). Returns
  /// what the command prints, in `world`'s rank 0.
  public static func runCommand(
    objective: Objective, configFile: String?, arguments: [String], out: String, resume: Bool, overwrite: Bool,
    stopAfter: Int?, world: any Communicator
  ) throws -> [String] {
    if let stopAfter, !(1...RunConfig.maxEpochs).contains(stopAfter) {
      throw TrainingError.invalidConfig(["--stop-after must be in 1…\(RunConfig.maxEpochs) (epochs), got \(stopAfter)"])
    }
    var file = configFile
    if file == nil && resume && FileManager.default.fileExists(atPath: out + "/" + RunConfig.fileName) {
      file = out + "/" + RunConfig.fileName
    }
    if file == nil && resume && !overwrite && !arguments.contains(where: { $0 == "--data" || $0.hasPrefix("--data=") })
    {
      try requireRun(in: out)
    }
    let config = try RunConfig.resolve(file: file, arguments: arguments, objective: objective)
    let log = try TrainingLog(metricsPath: out + "/" + TrainingLog.fileName)
    let trainer = Trainer(config: config, runDirectory: out, log: log, world: world)
    trainer.stopAfterEpochs = stopAfter
    let summary = try trainer.run(resume: resume, overwrite: overwrite)
    guard world.isLeader else { return [] }
    if objective == .pretrain {
      let m = summary.state.bestEpoch.map { summary.state.pretrainingHistory[$0 - 1] }
      return [
        "selected epoch \(summary.state.bestEpoch ?? 0) by validation InfoNCE"
          + (m.map { String(format: " (%.4f)", $0.loss) } ?? "") + "; model in \(summary.bestModelDirectory)"
      ]
    }
    let threshold = summary.threshold.map { " (decision threshold \($0.label))" } ?? ""
    return (summary.selection.map { [$0.reason] } ?? []) + [
      "selected epoch \(summary.state.bestEpoch ?? 0) by \(config.selection.rawValue); model in \(summary.bestModelDirectory)\(threshold)"
    ]
  }
}
