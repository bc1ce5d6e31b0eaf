import ArgumentParser
import CLIP
import Foundation
import NN
import Tensor

/// `fairmed zero-shot`: per-image class probabilities and certainty margins from class prompts.
struct ZeroShotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zero-shot",
    abstract: "Classify images with class prompts; writes probabilities and certainty margins as CSV.",
    discussion: "Each --prompts value is one class (index in order). Separate several templates of a class with `|`; their embeddings are averaged as open_clip does.")

  @Option(help: "Hugging Face CLIP folder.") var model: String
  @Option(help: "Images: manifest:FILE.csv (columns path[,label,...]).") var data: String
  @Option(parsing: .upToNextOption, help: "One prompt (or `|`-separated templates) per class.") var prompts: [String]
  @Option(help: "Images per forward pass.") var batchSize: Int = 32
  @Option(help: "Output CSV.") var out: String

  func validate() throws {
    guard data.hasPrefix("manifest:") else { throw ValidationError("--data must be manifest:FILE.csv") }
    guard prompts.count >= 2 else { throw ValidationError("give at least two class prompts") }
  }

  func run() throws {
    let clip = try CLIPModel(directory: model)
    clip.setTraining(false)
    let tok = try CLIPTokenizer(modelDirectory: model, config: clip.config)
    let classes = prompts.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    let zs = try ZeroShotClassifier(model: clip, tokenizer: tok, prompts: classes)
    let (paths, labels) = try ManifestPaths.read(String(data.dropFirst("manifest:".count)))
    let c = classes.count
    var lines = ["path,label," + (0..<c).map { "p_\($0)" }.joined(separator: ",") + ",pred,margin"]
    for start in stride(from: 0, to: paths.count, by: batchSize) {
      let r = start..<min(start + batchSize, paths.count)
      let feats = try withNoGrad {
        try clip.imageFeatures(CLIPImageInput.batch(Array(paths[r]), size: clip.config.vision.imageSize))
      }
      let probs = try zs.probabilities(feats)
      let known = r.map { labels[$0] }
      let margins = try zs.margins(feats, labels: known.map { $0 ?? 0 })
      for (k, i) in r.enumerated() {
        let p = (0..<c).map { probs.pointer[k * c + $0] }
        let pred = p.indices.max { p[$0] < p[$1] }!
        let margin = known[k] == nil ? "" : String(margins[k])
        lines.append("\(paths[i]),\(known[k].map(String.init) ?? ""),\(p.map { String($0) }.joined(separator: ",")),\(pred),\(margin)")
      }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    print("classified \(paths.count) images into \(c) classes → \(out)")
  }
}
