import ArgumentParser
import CLIP
import Data
import Foundation
import NN
import Tensor

/// `fairmed zero-shot`: per-image class probabilities and certainty margins from class prompts.
struct ZeroShotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zero-shot",
    abstract: "Classify images with class prompts; writes probabilities and certainty margins as CSV.",
    discussion: """
      Each --prompts value is one class, in label order. Separate several templates of a class \
      with `|`; their embeddings are averaged as open_clip does. The CSV has id, y (label), the \
      dataset's attributes, p_0..p_{C-1}, p (= p_1 for two classes), pred and margin (cosine \
      similarity to the true class minus the best other), ready for `fairmed audit`.
      """)

  @Option(help: "Hugging Face CLIP folder.") var model: String
  @Option(help: "Images: KIND:PATH (manifest:FILE.csv, ham10000:DIR, bcn20000:DIR, fairvlmed:DIR).") var data: String
  @Option(parsing: .upToNextOption, help: "One prompt (or `|`-separated templates) per class.") var prompts: [String]
  @Option(help: "Images per forward pass.") var batchSize: Int = 32
  @Option(help: "Output CSV.") var out: String

  func validate() throws {
    guard prompts.count >= 2 else { throw ValidationError("give at least two class prompts") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
  }

  func run() throws {
    let inputs = try CLIPInputs(modelDirectory: model)
    let tok = try CLIPTokenizer(modelDirectory: model, config: inputs.model.config)
    let classes = prompts.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    let zs = try ZeroShotClassifier(model: inputs.model, tokenizer: tok, prompts: classes)
    let dataset = try DatasetKind.load(data)
    let c = classes.count
    if let bad = dataset.samples.first(where: { $0.label >= c }) {
      throw ValidationError("sample \(bad.id) has label \(bad.label) but only \(c) class prompts were given")
    }
    let attributes = Set(dataset.samples.flatMap { $0.attributes.keys }).sorted()
    var header = ["id", "y"] + attributes + (0..<c).map { "p_\($0)" }
    if c == 2 { header.append("p") }
    var lines = [(header + ["pred", "margin"]).joined(separator: ",")]
    for start in stride(from: 0, to: dataset.count, by: batchSize) {
      let batch = Array(dataset.samples[start..<min(start + batchSize, dataset.count)])
      let feats = try inputs.imageFeatures(batch.map(\.source), batchSize: batchSize)
      let probs = try zs.probabilities(feats)
      let margins = try zs.margins(feats, labels: batch.map(\.label))
      for (k, s) in batch.enumerated() {
        let p = (0..<c).map { probs.pointer[k * c + $0] }
        let pred = p.indices.max { p[$0] < p[$1] }!
        var row = [s.id, String(s.label)] + attributes.map { s.attributes[$0] ?? unknownValue } + p.map { String($0) }
        if c == 2 { row.append(String(p[1])) }
        row += [String(pred), String(margins[k])]
        lines.append(row.map(csvField).joined(separator: ","))
      }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    print("classified \(dataset.count) images into \(c) classes → \(out)")
  }
}
