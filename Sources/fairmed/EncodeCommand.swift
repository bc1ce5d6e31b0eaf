import ArgumentParser
import Datasets
import Support
import Training

/// `fairmed encode`: normalised CLIP features of images or texts, written as safetensors.
struct EncodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encode",
    abstract: "Write normalised CLIP image or text features (tensor `features`) to a safetensors file.")

  @OptionGroup var modelOption: ModelOptions<EncodeCommand>
  @Option(parsing: .upToNextOption, help: "JPEG or PNG image files.") var images: [String] = []
  @Option(help: "Manifest CSV (path,label,...); images in row order.") var manifest: String?
  @Option(
    help:
      "Text file, one text per line (row i of the output is line i; a blank line is an empty text); also writes `input_ids`."
  ) var texts: String?
  @OptionGroup var batchOption: BatchSizeOptions<EncodeCommand>
  @OptionGroup var precisionOption: PrecisionOptions
  @OptionGroup var output: OutputOptions<EncodeCommand>

  func validate() throws {
    let sources = [!images.isEmpty, manifest != nil, texts != nil].filter { $0 }.count
    guard sources == 1 else { throw ValidationError("give exactly one of --images, --manifest, --texts") }
  }

  func run() throws {
    try output.check()
    try precisionOption.scope(encode)
  }

  func encode() throws {
    let (model, batchSize, out) = (modelOption.model, batchOption.batchSize, output.out)
    if let texts {
      let shape = try FeatureExport.encodeTexts(model: model, textsFile: texts, batchSize: batchSize, out: out)
      print("encoded \(shape[0]) texts → \(out) \(shape)")
    } else {
      let sources =
        try manifest.map { try Manifest.load(file: $0).samples.map(\.source) } ?? images.map { ImageSource.file($0) }
      let shape = try FeatureExport.encodeImages(
        model: model, sources: sources, batchSize: batchSize, out: out,
        sourceName: manifest ?? "images")
      print("encoded \(shape[0]) images → \(out) \(shape)")
    }
  }
}

extension EncodeCommand: ModelWording, BatchSizeWording, OutputWording {
  static let defaultBatchSize = 32
  static let batchSizeHelp = "Images or texts per forward pass."
  static let outHelp = "Output .safetensors file."
}
