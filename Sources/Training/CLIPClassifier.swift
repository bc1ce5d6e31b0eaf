import CLIP
import Data
import Foundation
import Support
import NN
import Tensor

/// A CLIP model with its tokenizer and class prompts: the objects every step and every
/// prediction works with. Image features can come from pixels or from cached image-tower outputs.
public final class CLIPClassifier {
  public let model: CLIPModel
  public let tokenizer: CLIPTokenizer
  public let prompts: [String]
  /// The evaluation preprocessing; saved as `preprocessor_config.json` with the model.
  public var preprocessing: ImageTransform
  private let promptIDs: [[Int]]
  /// Class embeddings computed once when the text side is frozen.
  private var frozenClassTexts: Tensor?

  public init(model: CLIPModel, tokenizer: CLIPTokenizer, prompts: [String], preprocessing: ImageTransform? = nil) {
    self.model = model
    self.tokenizer = tokenizer
    self.prompts = prompts
    self.preprocessing = preprocessing ?? ImageTransform(size: model.config.vision.imageSize)
    self.promptIDs = tokenizer(prompts)
  }

  /// Loads a Hugging Face CLIP folder with its tokenizer files (or the bundled OpenAI
  /// vocabulary when the folder has none) and its `preprocessor_config.json` (CLIP's defaults
  /// at the model's image size when absent).
  public static func load(directory: String, prompts: [String]) throws -> CLIPClassifier {
    let model = try CLIPModel(directory: directory)
    let pre = ["preprocessor_config.json", "processor_config.json"].map { directory + "/" + $0 }
      .first { FileManager.default.fileExists(atPath: $0) }
    let preprocessing = try pre.map { try ImageTransform(preprocessorConfig: $0) }
    if let preprocessing, preprocessing.size != model.config.vision.imageSize {
      throw TrainingError.file(pre ?? directory, "crop size \(preprocessing.size) differs from the model's image_size \(model.config.vision.imageSize)")
    }
    return CLIPClassifier(model: model, tokenizer: try CLIPTokenizer(modelDirectory: directory, config: model.config),
                          prompts: prompts, preprocessing: preprocessing)
  }

  /// Saves a complete Hugging Face folder: `config.json`, `model.safetensors`, the tokenizer
  /// files and `preprocessor_config.json` (``CLIPProcessor.from_pretrained`` opens it).
  public func save(directory: String) throws {
    try model.save(directory: directory)
    try tokenizer.save(directory: directory)
    try AtomicWrite.file(preprocessing.preprocessorConfigJSON(), to: directory + "/preprocessor_config.json")
  }

  /// Whether any text-side parameter is trainable.
  var textTrainable: Bool {
    model.namedParameters().contains { ($0.path.hasPrefix("text_model.") || $0.path.hasPrefix("text_projection.")) && $0.tensor.requiresGrad }
  }

  /// Normalised class-prompt embeddings `[C, D]` (recomputed while the text side trains).
  public func classTexts() throws -> Tensor {
    if let t = frozenClassTexts { return t }
    if !textTrainable {
      frozenClassTexts = try withNoGrad { try model.textFeatures(promptIDs) }
      return frozenClassTexts!
    }
    return try model.textFeatures(promptIDs)
  }

  /// Forgets cached class embeddings (after loading new weights).
  public func invalidateCaches() { frozenClassTexts = nil }

  /// Normalised image embeddings `[N, D]` from pixels `[N, 3, S, S]`, or from cached pooled
  /// image-tower outputs `[N, width]` when `pooled` is true.
  public func imageFeatures(_ input: Tensor, pooled: Bool) throws -> Tensor {
    if pooled { return try model.visualProjection(input).l2Normalized(axis: -1) }
    return try model.imageFeatures(input)
  }

  /// Pooled image-tower outputs `[N, width]` (the feature cache's content).
  public func pooledImageOutputs(_ pixels: Tensor) throws -> Tensor {
    try withNoGrad { try model.visionModel(pixels) }
  }

  /// Everything the loss needs for one batch.
  public func methodBatch(
    images: Tensor, pooled: Bool, labels: [Int], groups: [Int], texts: [String]?, contrastive: Bool, progress: Double
  ) throws -> MethodBatch {
    let v = try imageFeatures(images, pooled: pooled)
    let t = try classTexts()
    let sims = try matmul(v, t, transposeB: true)
    let tau = CLIPLoss.temperature(model.logitScale)
    let n = labels.count
    let perSample: Tensor, paired: Tensor
    if contrastive {
      let w = try texts.map { try model.textFeatures(tokenizer($0)) } ?? t.indexSelect(axis: 0, indices: labels)
      let z = try matmul(v, w, transposeB: true) * tau
      let diag = Array(0..<n)
      let rows = try z.logSoftmax(axis: 1).gather(axis: 1, indices: diag)
      let cols = try z.logSoftmax(axis: 0).gather(axis: 1, indices: diag)
      perSample = try (rows + cols) * -0.5
      paired = try (v * w).sum(axes: [1])
    } else {
      perSample = try (sims * tau).logSoftmax(axis: 1).gather(axis: 1, indices: labels) * -1
      paired = try sims.gather(axis: 1, indices: labels)
    }
    return MethodBatch(perSampleLoss: perSample, similarities: sims, pairedSimilarities: paired, imageEmbeddings: v,
      logitScale: model.logitScale, labels: labels, groups: groups, progress: progress)
  }

  /// P(class 1) (or of each class) and the certainty margin on the true label, without a graph.
  public func predict(_ images: Tensor, pooled: Bool, labels: [Int]) throws -> (probabilities: [[Float]], margins: [Float]) {
    try withNoGrad {
      let v = try imageFeatures(images, pooled: pooled)
      let sims = try matmul(v, classTexts(), transposeB: true)
      let probs = try (sims * CLIPLoss.temperature(model.logitScale)).softmax(axis: 1)
      let c = sims.shape[1]
      let p = probs.scalars
      let rows = (0..<labels.count).map { Array(p[($0 * c)..<(($0 + 1) * c)]) }
      return (rows, try CertaintyMargin.values(similarities: sims, labels: labels))
    }
  }
}
