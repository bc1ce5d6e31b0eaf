import CLIP
import Datasets
import Fairness
import Foundation
import NN
import Support
import Tensor

/// What `fairmed encode` and `fairmed zero-shot` do: CLIP features and zero-shot predictions of
/// a Hugging Face CLIP folder, preprocessed as its `preprocessor_config.json` says.
public enum FeatureExport {
  /// The lines of a UTF-8 text file, one entry per line: blank lines stay (an empty text is a
  /// valid CLIP input, start and end token), so row i of the output is line i of the file.
  public static func lines(ofFile path: String) throws -> [String] {
    guard let data = try? readFile(path) else { throw TrainingError.file(path, "cannot be read") }
    guard let body = String(data: data, encoding: .utf8) else { throw TrainingError.file(path, "is not UTF-8 text") }
    var lines = body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
    if lines.last == "" { lines.removeLast() }  // the final line break ends the last line
    guard !lines.isEmpty else { throw TrainingError.file(path, "holds no line to encode") }
    return lines
  }

  /// Normalised text features `[N, D]` (tensor `features`) and token ids (`input_ids`) of every
  /// line of `textsFile`, written to the safetensors file `out`; returns the feature shape.
  @discardableResult
  public static func encodeTexts(model directory: String, textsFile: String, batchSize: Int, out: String) throws
    -> [Int]
  {
    try validateComputeEnvironment()
    let classifier = try CLIPClassifier.load(directory: directory, prompts: [])
    let lines = try lines(ofFile: textsFile)
    let ids = classifier.tokenizer(lines)
    let features = try inBatches(ids.count, batchSize) { try classifier.model.textFeatures(Array(ids[$0])) }
    let idTensor = try Tensor(
      ids.flatMap { $0.map(Float.init) }, shape: [ids.count, classifier.tokenizer.contextLength])
    try Safetensors.write([("features", features), ("input_ids", idTensor)], metadata: ["source": textsFile], to: out)
    return features.shape
  }

  /// Normalised image features `[N, D]` of `sources`, in order, written to `out`.
  @discardableResult
  public static func encodeImages(
    model directory: String, sources: [ImageSource], batchSize: Int, out: String,
    sourceName: String
  ) throws -> [Int] {
    try validateComputeEnvironment()
    let classifier = try CLIPClassifier.load(directory: directory, prompts: [])
    let features = try imageFeatures(classifier, sources, batchSize: batchSize)
    try Safetensors.write([("features", features)], metadata: ["source": sourceName], to: out)
    return features.shape
  }

  /// Zero-shot predictions on `data` with one prompt list per class (templates averaged, as
  /// open_clip does), in the schema of `fairmed predict`. There must be exactly one prompt list
  /// per class of the data (as `fairmed predict` requires): a prompt for a class the data lacks
  /// would take probability from the real classes.
  public static func zeroShot(
    model directory: String, data: String, prompts: [[String]], groups: String?,
    batchSize: Int
  ) throws -> Predictions {
    try validateComputeEnvironment()
    let dataset = try DatasetKind.load(data)
    guard prompts.count == dataset.classNames.count else {
      throw TrainingError.invalidConfig([
        "--prompts: \(prompts.count) prompts for the \(dataset.classNames.count) classes of \(data) "
          + "(\(dataset.classNames.joined(separator: ", "))): give one prompt (or `|`-separated templates) per class, in label order"
      ])
    }
    if let c = prompts.firstIndex(where: { $0.isEmpty || $0.contains(where: \.isEmpty) }) {
      throw TrainingError.invalidConfig([
        "--prompts: class \(c) (\(dataset.classNames[c])) has an empty prompt or template (\(prompts[c])): give each class text, templates separated by `|`"
      ])
    }
    if let bad = dataset.samples.first(where: { $0.label >= prompts.count }) {
      throw TrainingError.data(
        "\(data): sample \(bad.id) has label \(bad.label) but only \(prompts.count) class prompts were given")
    }
    let classifier = try CLIPClassifier.load(directory: directory, prompts: [])
    let zs = try ZeroShotClassifier(model: classifier.model, tokenizer: classifier.tokenizer, prompts: prompts)
    let spec = try groups.map { try GroupingSpec(parsing: $0) } ?? dataset.defaultGroups
    try spec.validate(dataset)
    var out = Predictions()
    for start in stride(from: 0, to: dataset.count, by: batchSize) {
      let batch = Array(dataset.samples[start..<min(start + batchSize, dataset.count)])
      let feats = try imageFeatures(classifier, batch.map(\.source), batchSize: batchSize)
      let probs = try zs.probabilities(feats).scalars
      let c = prompts.count
      out.append(
        samples: batch, probabilities: batch.indices.map { k in (0..<c).map { Double(probs[k * c + $0]) } },
        margins: try zs.margins(feats, labels: batch.map(\.label)).map(Double.init), groups: spec)
    }
    return out
  }

  static func imageFeatures(_ classifier: CLIPClassifier, _ sources: [ImageSource], batchSize: Int) throws -> Tensor {
    let t = classifier.preprocessing, plane = 3 * t.size * t.size
    return try inBatches(sources.count, batchSize) { range in
      var values: [Float] = []
      values.reserveCapacity(range.count * plane)
      var rng = SeededRNG(seed: 0)  // unused without augmentation
      for i in range { values += t(try sources[i].load(), rng: &rng) }
      return try classifier.model.imageFeatures(Tensor(values, shape: [range.count, 3, t.size, t.size]))
    }
  }

  /// Runs `body` on consecutive ranges without gradients and stacks the results along axis 0.
  static func inBatches(_ n: Int, _ batchSize: Int, _ body: (Range<Int>) throws -> Tensor) throws -> Tensor {
    guard batchSize > 0 else { throw TrainingError.invalidConfig(["--batch-size must be ≥ 1, got \(batchSize)"]) }
    guard n > 0 else { throw TrainingError.data("nothing to encode") }
    return try withNoGrad {
      try concat(stride(from: 0, to: n, by: batchSize).map { try body($0..<min($0 + batchSize, n)) }, axis: 0)
    }
  }
}
