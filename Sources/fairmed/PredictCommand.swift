import ArgumentParser
import Distributed
import Fairness
import Support
import Training

/// `fairmed predict`: per-image P(class 1) and certainty margins of a trained run; demographic
/// columns are only copied through for the audit.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract:
      "Predict with a trained run: writes \(PredictionsCSV.leadingColumns.joined(separator: ",")) and the attribute columns.",
    discussion: """
      `\(PredictionsCSV.decision)` is the decision at the threshold saved with the model (best/\(StoredThreshold.fileName): \
      Youden's J on the validation predictions, unless the run chose argmax); a folder without one \
      decides at 0.5, and a saved value that is not \(StoredThreshold.valueRule) is an \
      error. With more than two classes `\(PredictionsCSV.decision)` is the most probable class. --out must be new or \
      empty unless --overwrite. The output feeds `fairmed audit --margin \(PredictionsCSV.margin) \
      --threshold model:RUN_DIR --groups ...` directly (its --label and --score default to this file's columns).
      """)

  @OptionGroup var modelOption: ModelOptions<PredictCommand>
  @OptionGroup var dataOption: DataOptions
  @Option(parsing: .upToNextOption, help: "Class prompts (default: the run's).") var prompts: [String] = []
  @OptionGroup var groupOption: GroupOptions<PredictCommand>
  @Option(help: "Split of the data to predict (e.g. test), when it has splits.") var split: String?
  @OptionGroup var batchOption: BatchSizeOptions<PredictCommand>
  @OptionGroup var precisionOption: PrecisionOptions
  @OptionGroup var output: OutputOptions<PredictCommand>

  func run() throws {
    let world = try World.current.get()
    try world.endingJobOnFailure {
      try output.check()
      let preds = try Predictor.run(
        model: modelOption.model, data: dataOption.data, prompts: prompts.isEmpty ? nil : prompts,
        groups: groupOption.groups, split: split, batchSize: batchOption.batchSize,
        precision: precisionOption.precision, world: world)
      guard world.isLeader else { return }
      try preds.writeCSV(to: output.out)
      print(
        "wrote \(preds.ids.count) predictions to \(output.out); \(PredictionsCSV.decision) = \(PredictionsCSV.score) ≥ \(preds.threshold.value) (\(preds.threshold.policy == .argmax ? "argmax" : "the run's validation Youden threshold"))"
      )
    }
  }
}

extension PredictCommand: ModelWording, GroupsWording, BatchSizeWording, OutputWording {
  static let modelHelp =
    "Run folder written by `fairmed train`, or any model folder (Hugging Face, open_clip, PEFT adapter) with --prompts."
  static let groupsHelp = "Groups written to the `\(PredictionsCSV.group)` column (default: the run's)."
  static let defaultBatchSize = 64
  static let outHelp = "Output CSV."
}
