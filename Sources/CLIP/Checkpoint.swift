import Foundation
import Support
import NN
import Tensor

extension CLIPModel {
  /// Buffers older `transformers` versions saved with the weights; skipped when loading.
  static let savedBuffers: Set<String> = [
    "text_model.embeddings.position_ids", "vision_model.embeddings.position_ids",
  ]

  /// Loads a Hugging Face CLIP folder: `config.json` plus `model.safetensors` (or shards listed in
  /// `model.safetensors.index.json`). Weights in OpenAI/open_clip naming are accepted too; without
  /// a `config.json` their architecture is inferred from the shapes.
  public convenience init(directory: String) throws {
    let dir = URL(fileURLWithPath: directory)
    let source = try Self.weights(in: dir)
    let configPath = dir.appendingPathComponent("config.json").path
    let config: CLIPConfig
    if FileManager.default.fileExists(atPath: configPath) {
      config = try CLIPConfig(contentsOf: configPath)
    } else if OpenAINamingSource.matches(source.shapes.keys) {
      config = try CLIPConfig.inferred(fromOpenAI: source.shapes, source: source.sourceDescription)
    } else {
      throw CLIPFileError(file: configPath, "missing (needed for Hugging Face-named weights)")
    }
    try Self.checkFits(config, source, file: configPath)
    self.init(config: config, seed: nil)
    try loadWeights(source)
  }

  /// Compares sizes before allocating anything: a config can describe a model the file cannot hold.
  static func checkFits(_ config: CLIPConfig, _ source: TensorSource, file: String) throws {
    let stored = source.shapes.values.reduce(0) { total, shape in
      let n = checkedProduct(shape) ?? Int.max
      return total.addingReportingOverflow(n).overflow ? Int.max : total + n
    }
    guard let needed = config.parameterCount, needed <= stored else {
      throw CLIPFileError(
        file: file,
        "describes \(config.parameterCount.map(String.init) ?? "more than 2^63") parameters, "
          + "but \(source.sourceDescription) holds \(stored) values: the config does not belong to these weights")
    }
  }

  /// Loads weights from a safetensors file in HF or OpenAI/open_clip naming.
  public func loadWeights(safetensors path: String) throws {
    try loadWeights(SafetensorsFile(path: path))
  }

  /// Loads weights from any source, detecting OpenAI naming; every missing, unexpected or
  /// wrong-shape tensor is reported in one ``StateDictError``.
  public func loadWeights(_ source: TensorSource) throws {
    let names = namedParameters().map(\.path)
    let view: TensorSource =
      OpenAINamingSource.matches(source.shapes.keys)
      ? OpenAINamingSource(base: source, hfNames: names) : source
    try load(from: FilteredSource(base: view, drop: Self.savedBuffers))
  }

  /// Writes the model into `directory` (created if needed) in its ``format``: `config.json` and
  /// `model.safetensors` (F32, HF names) that `transformers.CLIPModel.from_pretrained` opens, or
  /// for a model from an open_clip folder its `open_clip_config.json` and
  /// `open_clip_model.safetensors` in open_clip's names.
  public func save(directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let dir = URL(fileURLWithPath: directory)
    switch format {
    case .huggingFace:
      try config.write(to: dir.appendingPathComponent("config.json").path)
      try save(safetensors: dir.appendingPathComponent("model.safetensors").path, metadata: ["format": "pt"])
    case let .openCLIP(configBytes):
      try AtomicWrite.file(configBytes, to: dir.appendingPathComponent("open_clip_config.json").path)
      try Safetensors.write(
        openAIStateDict(), metadata: ["format": "pt"], to: dir.appendingPathComponent(format.weightsFile).path)
    }
  }

  /// The weights in a folder: `model.safetensors`, the shards of its index, the only
  /// `.safetensors` file, or else `pytorch_model.bin` (read by the restricted unpickler).
  static func weights(in dir: URL) throws -> TensorSource {
    let fm = FileManager.default
    let single = dir.appendingPathComponent("model.safetensors").path
    if fm.fileExists(atPath: single) { return try SafetensorsFile(path: single) }
    let bin = dir.appendingPathComponent("pytorch_model.bin").path
    if fm.fileExists(atPath: bin) { return try TorchCheckpoint(path: bin) }
    let index = dir.appendingPathComponent("model.safetensors.index.json").path
    if fm.fileExists(atPath: index) {
      guard let data = try? readFile(index),
        let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let map = obj["weight_map"] as? [String: String]
      else {
        throw CLIPFileError(file: index, "no weight_map object")
      }
      let shards = Set(map.values).sorted()
      return try ShardedSource(files: shards.map { try SafetensorsFile(path: dir.appendingPathComponent($0).path) })
    }
    let all = ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".safetensors") }
    guard all.count == 1 else {
      throw CLIPFileError(
        file: dir.path,
        all.isEmpty ? "no .safetensors weights" : "several .safetensors files and no model.safetensors: \(all.sorted())"
      )
    }
    return try SafetensorsFile(path: dir.appendingPathComponent(all[0]).path)
  }
}

/// A source with some names hidden.
struct FilteredSource: TensorSource {
  let base: TensorSource
  let drop: Set<String>
  var shapes: [String: [Int]] { base.shapes.filter { !drop.contains($0.key) } }
  func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
    try base.read(name, into: destination)
  }
  var sourceDescription: String { base.sourceDescription }
}

extension CLIPTokenizer {
  /// The tokenizer of a CLIP folder, padding with the end token as HF does, with the context
  /// length of `config` (its text positions). Uses `vocab.json` + `merges.txt`, else a
  /// `bpe_simple_vocab_16e6.txt.gz` in the folder, else — for the standard 49,408-token
  /// vocabulary — the bundled OpenAI one.
  public convenience init(modelDirectory: String, config: CLIPConfig) throws {
    let dir = URL(fileURLWithPath: modelDirectory)
    let fm = FileManager.default
    let vocab = dir.appendingPathComponent("vocab.json").path, merges = dir.appendingPathComponent("merges.txt").path
    let gz = dir.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz").path
    if fm.fileExists(atPath: vocab) || fm.fileExists(atPath: merges) {
      try self.init(vocabJSON: vocab, merges: merges, padID: nil)
    } else if fm.fileExists(atPath: gz) {
      try self.init(bpeGzip: gz, padID: nil)
    } else if config.text.vocabSize == 49408 {
      try self.init(bpeGzip: CLIPTokenizer.bundledVocabularyPath, padID: nil)
    } else {
      throw CLIPFileError(
        file: modelDirectory,
        "no vocab.json + merges.txt, and the model's \(config.text.vocabSize)-token vocabulary is not OpenAI's")
    }
    let source =
      fm.fileExists(atPath: vocab) ? vocab : fm.fileExists(atPath: gz) ? gz : CLIPTokenizer.bundledVocabularyPath
    guard encoder.count <= config.text.vocabSize else {
      throw CLIPFileError(
        file: source,
        "has \(encoder.count) tokens, the model's embedding table only \(config.text.vocabSize) (text vocab_size)")
    }
    // Every id the tokenizer can emit must index the embedding table (a sparse vocab.json can
    // pass the count check with an id past the end).
    if let bad = encoder.first(where: { $0.value < 0 || $0.value >= config.text.vocabSize }) {
      throw CLIPFileError(
        file: source,
        "gives token \(bad.key.debugDescription) the id \(bad.value), outside the model's embedding table of \(config.text.vocabSize) rows (ids 0…\(config.text.vocabSize - 1))"
      )
    }
    contextLength = config.text.maxPositionEmbeddings
  }
}
