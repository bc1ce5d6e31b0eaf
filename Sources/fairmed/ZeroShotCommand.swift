import ArgumentParser
import Fairness
import Foundation
import Support
import Training

/// `fairmed zero-shot`: per-image class probabilities and certainty margins from class prompts.
struct ZeroShotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zero-shot",
    abstract: "Classify images with class prompts; writes the predictions CSV of `fairmed predict`.",
    discussion: """
      Each --prompts value is one class, in label order: there must be as many as the data has \
      classes. Separate several templates of a class with `|`; their embeddings are averaged as \
      open_clip does. The CSV has the columns of `fairmed predict` (\(PredictionsCSV.layout), \
      where \(PredictionsCSV.score) = P(class 1) and, with more than two classes, \(PredictionsCSV.decision) \
      is the most probable class), ready for `fairmed audit`.
      """)

  @OptionGroup var modelOption: ModelOptions<ZeroShotCommand>
  @OptionGroup var dataOption: DataOptions
  @Option(parsing: .upToNextOption, help: "One prompt (or `|`-separated templates) per class.") var prompts: [String]
  @OptionGroup var groupOption: GroupOptions<ZeroShotCommand>
  @OptionGroup var batchOption: BatchSizeOptions<ZeroShotCommand>
  @OptionGroup var precisionOption: PrecisionOptions
  @OptionGroup var output: OutputOptions<ZeroShotCommand>

  func validate() throws {
    guard prompts.count >= 2 else { throw ValidationError("give at least two class prompts") }
  }

  func run() throws {
    try output.check()
    let classes = prompts.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    let preds = try precisionOption.scope {
      try FeatureExport.zeroShot(
        model: modelOption.model, data: dataOption.data, prompts: classes,
        groups: groupOption.groups, batchSize: batchOption.batchSize)
    }
    try preds.writeCSV(to: output.out)
    print("classified \(preds.ids.count) images into \(classes.count) classes → \(output.out)")
  }
}

extension ZeroShotCommand: ModelWording, GroupsWording, BatchSizeWording, OutputWording {
  static let groupsHelp = "Groups written to the `\(PredictionsCSV.group)` column (default: the dataset's)."
  static let defaultBatchSize = 32
  static let outHelp = "Output CSV."
}
