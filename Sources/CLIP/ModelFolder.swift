import Foundation
import NN
import Support

/// A model, its tokenizer and (for open_clip folders) its preprocessing, as loaded from disk.
public struct LoadedCLIP {
  public let model: any CLIPBackbone
  public let tokenizer: any TextTokenizer
  /// open_clip's `preprocess_cfg`; nil for Hugging Face folders (their `preprocessor_config.json`
  /// is read by the caller).
  public let preprocess: OpenCLIPPreprocess?
}

/// Opens the model folders researchers have: Hugging Face `CLIPModel` folders, open_clip folders
/// (`open_clip_config.json` + `open_clip_model.safetensors` or `open_clip_pytorch_model.bin`,
/// native ViT CLIPs and timm + BERT ones such as BiomedCLIP), and single OpenAI/open_clip state
/// dicts (`.safetensors`, `.pt`, `.pth`, `.bin`, architecture inferred from the shapes).
public enum CLIPFolder {
  /// Weight file names of an open_clip folder, in the order they are looked for.
  public static let openCLIPWeights = ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]

  /// Loads the model at `path` (a folder, or a single state-dict file).
  public static func load(_ path: String) throws -> LoadedCLIP {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw CLIPFileError(file: path, "no such model folder or file")
    }
    if !isDir.boolValue { return try loadStateDictFile(path) }
    let fm = FileManager.default
    let openCLIPConfig = path + "/open_clip_config.json"
    // Hub folders often hold both layouts; open_clip's is used unless only the HF weights are there.
    let hfOnly =
      fm.fileExists(atPath: path + "/config.json")
      && !openCLIPWeights.contains { fm.fileExists(atPath: path + "/" + $0) }
    if fm.fileExists(atPath: openCLIPConfig) && !hfOnly {
      return try loadOpenCLIP(path, config: OpenCLIPConfig(contentsOf: openCLIPConfig))
    }
    let model = try CLIPModel(directory: path)
    return LoadedCLIP(
      model: model, tokenizer: try CLIPTokenizer(modelDirectory: path, config: model.config), preprocess: nil)
  }

  /// Opens `path` as a state dict: safetensors, or a PyTorch checkpoint through the restricted unpickler.
  public static func tensorSource(_ path: String) throws -> TensorSource {
    path.hasSuffix(".safetensors") ? try SafetensorsFile(path: path) : try TorchCheckpoint(path: path)
  }

  static func loadStateDictFile(_ path: String) throws -> LoadedCLIP {
    let source = try tensorSource(path)
    guard OpenAINamingSource.matches(source.shapes.keys) else {
      throw CLIPFileError(
        file: path,
        "is not an OpenAI/open_clip CLIP state dict (no visual.conv1.weight or token_embedding.weight); "
          + "give the folder with its config instead")
    }
    let config = try CLIPConfig.inferred(fromOpenAI: source.shapes, source: source.sourceDescription)
    try CLIPModel.checkFits(config, source, file: path)
    let model = CLIPModel(config: config, seed: nil)
    try model.loadWeights(source)
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    return LoadedCLIP(model: model, tokenizer: try CLIPTokenizer(modelDirectory: dir, config: config), preprocess: nil)
  }

  static func loadOpenCLIP(_ dir: String, config: OpenCLIPConfig) throws -> LoadedCLIP {
    guard
      let weights = openCLIPWeights.map({ dir + "/" + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) })
    else {
      throw CLIPFileError(file: dir, "has open_clip_config.json but no \(openCLIPWeights.joined(separator: " or "))")
    }
    let source = try tensorSource(weights)
    switch config.architecture {
    case let .native(clip):
      try CLIPModel.checkFits(clip, source, file: config.file)
      let model = CLIPModel(config: clip, seed: nil)
      model.format = .openCLIP(config: config.bytes)
      try model.loadWeights(source)
      return LoadedCLIP(
        model: model, tokenizer: try CLIPTokenizer(modelDirectory: dir, config: clip), preprocess: config.preprocess)
    case let .timmBert(settings):
      let tokenizer = try WordPieceTokenizer(
        directory: dir, contextLength: settings.contextLength ?? 77, cleaning: .openCLIP)
      let (vision, text) = try OpenCLIPModel.shapes(
        from: source, directory: dir, settings: settings, padTokenID: tokenizer.padID)
      guard tokenizer.vocabulary.count <= text.vocabSize else {
        throw CLIPFileError(
          file: dir + "/vocab.txt", "has \(tokenizer.vocabulary.count) tokens, the model's BERT only \(text.vocabSize)")
      }
      guard tokenizer.contextLength <= text.maxPositions else {
        throw CLIPFileError(
          file: config.file,
          "text_cfg.context_length \(tokenizer.contextLength) exceeds the BERT's \(text.maxPositions) positions")
      }
      let model = OpenCLIPModel(vision: vision, text: text, settings: settings, configBytes: config.bytes, seed: nil)
      try model.loadWeights(source)
      return LoadedCLIP(model: model, tokenizer: tokenizer, preprocess: config.preprocess)
    }
  }
}
