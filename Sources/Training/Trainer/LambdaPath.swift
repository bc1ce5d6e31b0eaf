import Foundation
import Support
import Tensor

extension Trainer {
  /// Trains every λ of ``RunConfig/lambdaPath`` as a complete run in `lambda/<λ>/` (same data,
  /// batches, seed and, for image-frozen, one shared feature cache), keeps the one
  /// ``LambdaSelection`` chooses on validation as the run's `best/`, and writes the selection
  /// table (`selection.json`, `selection.md`, the log). Resuming continues the unfinished
  /// members and skips the finished ones. A member λ > 0 whose training stops on a non-finite
  /// loss or score is listed and left out of the choice (λ 0's divergence is the run's error).
  func runLambdaPath(resume: Bool, overwrite: Bool) throws -> Summary {
    try validateComputeEnvironment()
    try config.validate()
    try parallel.check(batchSize: config.batchSize)
    let replaced = try parallel.onLeader("checking the run folder") {
      try RunFolder.check(runDirectory, config: config, resume: resume, overwrite: overwrite)
    }
    // The data must load before an overwritten run is cleared (as a single run's data and model must).
    let data = try parallel.together("loading the data") { try TrainingData(config: config) }
    try parallel.onLeader("writing run.json") {
      try RunFolder.clear(runDirectory, replaced ?? [])
      try config.write(to: runDirectory + "/" + RunConfig.fileName)
    }
    try log.truncate(toStep: 0)
    let path = config.lambdaPath.map { $0 == 0 ? 0 : $0 }.sorted()  // −0 is λ 0
    log.line(
      "λ path: \(path.map(LambdaSelection.memberName).joined(separator: ", ")) (\(config.method.rawValue)); "
        + LambdaSelection.rule(delta: config.lambdaDelta, minPositives: config.lambdaMinPositives)
    )
    var finished: [(lambda: Float, summary: Summary, seconds: Double?)] = []
    var diverged: [LambdaSelection.Diverged] = []
    for (k, lambda) in path.enumerated() {
      let dir = memberDirectory(lambda)
      var member = config
      member.lambda = lambda
      if member.mode == .imageFrozen && member.featureCache == nil {
        // Built by the first member, read by the rest.
        member.featureCache = runDirectory + "/" + RunConfig.defaultFeatureCacheFolder
      }
      let memberLog = try TrainingLog(
        metricsPath: dir + "/" + TrainingLog.fileName, quiet: log.isQuiet,
        prefix: "λ \(LambdaSelection.memberName(lambda)): ")
      let trainer = Trainer(
        config: member, runDirectory: dir, log: memberLog, method: memberMethod?(lambda), world: parallel.world)
      trainer.stopAfterEpochs = stopAfterEpochs
      let already = TrainerState.finishedEpochs(runDirectory: dir)
      log.line("λ path member \(k + 1)/\(path.count): λ \(LambdaSelection.memberName(lambda)) in \(dir)")
      let start = Date()
      let summary: Summary
      do {
        summary = try trainer.run(
          resume: FileManager.default.fileExists(atPath: dir + "/" + RunConfig.fileName), overwrite: false)
      } catch TrainingError.nonFinite(let error) where lambda != 0 {
        log.line(
          "λ \(LambdaSelection.memberName(lambda)) diverged (\(error)): it is left out of the selection; the other members are compared"
        )
        diverged.append(.init(lambda: lambda, error: error))
        continue
      }
      let seconds = already == member.epochs ? nil : Date().timeIntervalSince(start)
      guard summary.state.epoch >= member.epochs else {
        log.line(
          "stopped in λ \(LambdaSelection.memberName(lambda)) after epoch \(summary.state.epoch); --resume continues the path"
        )
        return summary
      }
      finished.append((lambda, summary, seconds))
    }
    let outcome = try parallel.onLeader("selecting λ on validation") { () throws -> LambdaSelection.Outcome in
      var outcome = try LambdaSelection.select(
        finished.map { ($0.lambda, try ValidationPredictions.load(modelDirectory: $0.summary.bestModelDirectory)) },
        delta: config.lambdaDelta, minPositives: config.lambdaMinPositives, seed: config.seed, diverged: diverged)
      for i in outcome.members.indices { outcome.members[i].seconds = finished[i].seconds }
      let chosen = finished.first { $0.lambda == outcome.chosenLambda }!
      let source = chosen.summary.bestModelDirectory
      try AtomicWrite.directory(bestDirectory) { dir in
        for item in try FileManager.default.contentsOfDirectory(atPath: source) {
          try FileManager.default.copyItem(atPath: source + "/" + item, toPath: dir + "/" + item)
        }
        // The member's card, with the selection that chose it.
        var member = config
        member.lambda = outcome.chosenLambda
        try ModelCard(
          config: member, trainingCounts: data.trainingCounts, classNames: data.train.classNames, prompts: data.prompts,
          validation: try ValidationPredictions.load(modelDirectory: source),
          threshold: try DecisionThreshold.load(modelDirectory: source) ?? .argmax, selection: outcome
        ).write(toDirectory: dir)
      }
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      try AtomicWrite.file(try enc.encode(outcome), to: runDirectory + "/" + LambdaSelection.tableFile)
      try AtomicWrite.file(outcome.markdown, to: runDirectory + "/" + LambdaSelection.markdownFile)
      return outcome
    }
    let chosenLambda = outcome?.chosenLambda ?? finished[0].lambda
    let chosen = finished.first { $0.lambda == chosenLambda }!
    if let outcome {
      log.record([
        "kind": "lambda_selection",
        "chosen_lambda": Double(LambdaSelection.memberName(outcome.chosenLambda)) ?? Double(outcome.chosenLambda),
        "fell_back": outcome.fellBack,
        "reason": outcome.reason,
      ])
      log.line("λ selection on validation:\n" + outcome.markdown)
      let times = outcome.members.compactMap(\.seconds)
      if times.count == outcome.members.count, let one = times.first {
        log.line(
          String(
            format: "the path of %d members took %.0f s, %.1f× its λ 0 member (%.0f s)", times.count,
            times.reduce(0, +), times.reduce(0, +) / max(one, 1e-9), one))
      }
    }
    return Summary(
      state: chosen.summary.state, bestModelDirectory: bestDirectory, groupNames: chosen.summary.groupNames,
      selection: outcome)
  }

  /// The run folder of the path member with strength `lambda`.
  func memberDirectory(_ lambda: Float) -> String {
    runDirectory + "/" + LambdaSelection.membersFolder + "/" + LambdaSelection.memberName(lambda)
  }
}
