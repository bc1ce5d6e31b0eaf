import ArgumentParser
import Data
import Support
import Training

/// `fairmed encode`: normalised CLIP features of images or texts, written as safetensors.
struct EncodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encode",
    abstract: "Write normalised CLIP image or text features (tensor `features`) to a safetensors file.")

  @Option(help: "Model folder: Hugging Face CLIP, open_clip (BiomedCLIP, open_clip ViTs), PEFT adapter, or an OpenAI/open_clip state-dict file.") var model: String
  @Option(parsing: .upToNextOption, help: "JPEG or PNG image files.") var images: [String] = []
  @Option(help: "Manifest CSV (path,label,...); images in row order.") var manifest: String?
  @Option(help: "Text file, one text per line (row i of the output is line i; a blank line is an empty text); also writes `input_ids`.") var texts: String?
  @Option(help: "Images or texts per forward pass.") var batchSize: Int = 32
  @Option(help: "Output .safetensors file.") var out: String
  @Flag(help: "Replace the file --out names.") var overwrite = false

  func validate() throws {
    let sources = [!images.isEmpty, manifest != nil, texts != nil].filter { $0 }.count
    guard sources == 1 else { throw ValidationError("give exactly one of --images, --manifest, --texts") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
  }

  func run() throws {
    try OutputPath.check(out, overwrite: overwrite)
    if let texts {
      let shape = try FeatureExport.encodeTexts(model: model, textsFile: texts, batchSize: batchSize, out: out)
      print("encoded \(shape[0]) texts → \(out) \(shape)")
    } else {
      let sources = try manifest.map { try Manifest.load(file: $0).samples.map(\.source) } ?? images.map { ImageSource.file($0) }
      let shape = try FeatureExport.encodeImages(model: model, sources: sources, batchSize: batchSize, out: out,
                                                 sourceName: manifest ?? "images")
      print("encoded \(shape[0]) images → \(out) \(shape)")
    }
  }
}
