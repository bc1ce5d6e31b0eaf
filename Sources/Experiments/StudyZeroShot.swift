import Datasets
import Fairness
import Foundation
import Support
import Training

extension Study {
  /// One `zero-shot.csv` row: the pretrained model before any fine-tuning, with the study's
  /// class prompts, on one test split at one threshold.
  public struct ZeroShotResult: Sendable {
    /// The seed whose validation split chose the threshold.
    public let seed: UInt64
    public let split: String
    public let threshold: ThresholdKind
    public let metrics: EvalMetrics
    public let predictions: String
  }

  /// Scores the pretrained `model` zero-shot on every test set, once per seed: the decision
  /// threshold is Youden's J on that seed's validation split of the training data (the split
  /// its fine-tuning runs validate on), never on test data. Predictions go to
  /// `zero-shot/s<seed>/predictions-<split>.csv`.
  func zeroShot(model: String, train: String, tests: [(String, String, String?)]) throws -> [ZeroShotResult] {
    var out: [ZeroShotResult] = []
    for seed in config.seeds {
      var run = try baseRunConfig(train: train)
      run.seed = seed
      let data = try TrainingData(config: run)
      let classifier = try CLIPClassifier.load(directory: model, prompts: data.prompts)
      let val = try Predictions.compute(
        classifier: classifier, dataset: data.val, groupSpec: data.groupSpec, transform: classifier.preprocessing,
        threads: run.loaderThreads)
      let threshold = try DecisionThreshold.choose(.youden, labels: val.labels, scores: val.scores)
      let dir = "\(directory)/zero-shot/s\(seed)"
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      for (split, spec, subset) in tests {
        var preds = try Predictor.run(
          model: model, data: spec, prompts: data.prompts, groups: config.groups, split: subset,
          precision: run.precision)
        preds.threshold = threshold
        let csv = "\(dir)/predictions-\(split).csv"
        try preds.writeCSV(to: csv)
        for (kind, t) in [(ThresholdKind.validation, threshold.value), (.half, ThresholdRule.argmaxValue)] {
          let m = try EvalMetrics.compute(
            labels: preds.labels, scores: preds.scores, groups: preds.groups, threshold: t)
          out.append(ZeroShotResult(seed: seed, split: split, threshold: kind, metrics: m, predictions: csv))
        }
      }
    }
    return out
  }

  /// `zero-shot.csv`: one row per seed, split and threshold.
  static func zeroShotCSV(_ rows: [ZeroShotResult]) -> String {
    var lines = ["seed,split,threshold,auc,tpr,worst_group_tpr,delta_tpr,worst_group,predictions"]
    for r in rows {
      let m = r.metrics
      lines.append(
        [
          String(r.seed), r.split, r.threshold.rawValue, f(m.auc), f(m.tpr), f(m.worstGroupTPR), f(m.deltaTPR),
          m.worstGroup ?? "", r.predictions,
        ].joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The zero-shot table of `summary.md`: mean ± std over seeds at the validation threshold.
  static func zeroShotMarkdown(_ rows: [ZeroShotResult]) -> String {
    let chosen = rows.filter { $0.threshold == .validation }
    guard !chosen.isEmpty else { return "" }
    var lines = [
      "| zero-shot | split | AUC | TPR | worst-group TPR | ΔTPR | seeds |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    var splits: [String] = []
    for r in chosen where !splits.contains(r.split) { splits.append(r.split) }
    for split in splits {
      let r = chosen.filter { $0.split == split }.map(\.metrics)
      func cell(_ values: [Double?]) -> String {
        let v = values.compactMap { $0 }
        guard !v.isEmpty else { return "–" }
        let mean = v.reduce(0, +) / Double(v.count)
        let sd = v.count > 1 ? (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : 0
        return String(format: "%.3f ± %.3f", mean, sd)
      }
      lines.append(
        "| pretrained, before fine-tuning | \(split) | \(cell(r.map(\.auc))) | \(cell(r.map(\.tpr))) | \(cell(r.map(\.worstGroupTPR))) | \(cell(r.map(\.deltaTPR))) | \(r.count) |"
      )
    }
    return lines.joined(separator: "\n")
      + "\n\nThe pretrained model scored with the class prompts before any fine-tuning; each seed's threshold is Youden's J on its validation split (`zero-shot.csv`).\n"
  }
}
