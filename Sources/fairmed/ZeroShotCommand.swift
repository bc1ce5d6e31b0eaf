import ArgumentParser
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
      open_clip does. The CSV has the columns of `fairmed predict` (id, label, prob = P(class 1), \
      pred, margin, group, the dataset's attributes; prob_0..prob_{C-1} for more than two \
      classes, where pred is the most probable class), ready for `fairmed audit`.
      """)

  @Option(help: "Model folder: Hugging Face CLIP, open_clip (BiomedCLIP, open_clip ViTs), PEFT adapter, or an OpenAI/open_clip state-dict file.") var model: String
  @Option(help: "Images: KIND:PATH (manifest:FILE.csv, ham10000:DIR, bcn20000:DIR, fairvlmed:DIR).") var data: String
  @Option(parsing: .upToNextOption, help: "One prompt (or `|`-separated templates) per class.") var prompts: [String]
  @Option(help: "Groups written to the `group` column (default: the dataset's).") var groups: String?
  @Option(help: "Images per forward pass.") var batchSize: Int = 32
  @Option(help: "Output CSV.") var out: String
  @Flag(help: "Replace the file --out names.") var overwrite = false

  func validate() throws {
    guard prompts.count >= 2 else { throw ValidationError("give at least two class prompts") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
  }

  func run() throws {
    try OutputPath.check(out, overwrite: overwrite)
    let classes = prompts.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    let preds = try FeatureExport.zeroShot(model: model, data: data, prompts: classes, groups: groups, batchSize: batchSize)
    try preds.writeCSV(to: out)
    print("classified \(preds.ids.count) images into \(classes.count) classes → \(out)")
  }
}
