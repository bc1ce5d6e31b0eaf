import ArgumentParser
import Distributed
import Support
import Training

/// `fairmed predict`: per-image P(class 1) and certainty margins of a trained run; demographic
/// columns are only copied through for the audit.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict with a trained run: writes id,label,prob,pred,margin,group and the attribute columns.",
    discussion: """
      `pred` is the decision at the threshold saved with the model (best/decision_threshold.json: \
      Youden's J on the validation predictions, unless the run chose argmax); a folder without one \
      decides at 0.5, and a saved value that is not a probability strictly inside (0, 1) is an \
      error. With more than two classes `pred` is the most probable class. --out must be new or \
      empty unless --overwrite. The output feeds `fairmed audit --label label --score prob --margin margin \
      --threshold model:RUN_DIR --groups ...` directly.
      """)

  @Option(help: "Run folder written by `fairmed train`, or any model folder (Hugging Face, open_clip, PEFT adapter) with --prompts.") var model: String
  @Option(help: "Data: ham10000:DIR, fairvlmed:DIR, bcn20000:DIR or manifest:FILE.csv.") var data: String
  @Option(parsing: .upToNextOption, help: "Class prompts (default: the run's).") var prompts: [String] = []
  @Option(help: "Groups written to the `group` column (default: the run's).") var groups: String?
  @Option(help: "Split of the data to predict (e.g. test), when it has splits.") var split: String?
  @Option(help: "Images per forward pass.") var batchSize = 64
  @Option(help: "Output CSV.") var out: String
  @Flag(help: "Replace the file --out names.") var overwrite = false

  func validate() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
  }

  func run() throws {
    let world = try World.current.get()
    try world.endingJobOnFailure {
      try OutputPath.check(out, overwrite: overwrite)
      let preds = try Predictor.run(model: model, data: data, prompts: prompts.isEmpty ? nil : prompts, groups: groups,
        split: split, batchSize: batchSize, world: world)
      guard world.isLeader else { return }
      try preds.writeCSV(to: out)
      print("wrote \(preds.ids.count) predictions to \(out); pred = prob ≥ \(preds.threshold.value) (\(preds.threshold.policy == .argmax ? "argmax" : "the run's validation Youden threshold"))")
    }
  }
}
