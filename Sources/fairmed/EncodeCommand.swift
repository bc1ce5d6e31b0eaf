import ArgumentParser
import CLIP
import Data
import Foundation
import NN
import Tensor

/// `fairmed encode`: normalised CLIP features of images or texts, written as safetensors.
struct EncodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encode",
    abstract: "Write normalised CLIP image or text features (tensor `features`) to a safetensors file.")

  @Option(help: "Hugging Face CLIP folder (config.json, model.safetensors, vocab.json, merges.txt).") var model: String
  @Option(parsing: .upToNextOption, help: "JPEG or PNG image files.") var images: [String] = []
  @Option(help: "Manifest CSV (path,label,...); images in row order.") var manifest: String?
  @Option(help: "Text file, one text per line (blank lines skipped); also writes `input_ids`.") var texts: String?
  @Option(help: "Images or texts per forward pass.") var batchSize: Int = 32
  @Option(help: "Output .safetensors file.") var out: String

  func validate() throws {
    let sources = [!images.isEmpty, manifest != nil, texts != nil].filter { $0 }.count
    guard sources == 1 else { throw ValidationError("give exactly one of --images, --manifest, --texts") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
  }

  func run() throws {
    let inputs = try CLIPInputs(modelDirectory: model)
    if let texts {
      guard let body = try? String(contentsOfFile: texts, encoding: .utf8) else {
        throw ValidationError("cannot read \(texts) as UTF-8")
      }
      let lines = body.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
      let tok = try CLIPTokenizer(modelDirectory: model, config: inputs.model.config)
      let ids = tok(lines)
      let features = try inBatches(ids.count, batchSize) { try inputs.model.textFeatures(Array(ids[$0])) }
      let idTensor = try Tensor(ids.flatMap { $0.map(Float.init) }, shape: [ids.count, tok.contextLength])
      try Safetensors.write([("features", features), ("input_ids", idTensor)], metadata: ["source": texts], to: out)
      print("encoded \(lines.count) texts → \(out) \(features.shape)")
    } else {
      let sources = try manifest.map { try Manifest.load(file: $0).samples.map(\.source) } ?? images.map { ImageSource.file($0) }
      let features = try inputs.imageFeatures(sources, batchSize: batchSize)
      try Safetensors.write([("features", features)], metadata: ["source": manifest ?? "images"], to: out)
      print("encoded \(sources.count) images → \(out) \(features.shape)")
    }
  }
}
