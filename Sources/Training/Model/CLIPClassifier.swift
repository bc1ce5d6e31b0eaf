import CLIP
import Datasets
import Foundation
import Support
import NN
import Tensor

/// A CLIP model with its tokenizer and class prompts: the objects every step and every
/// prediction works with. Image features can come from pixels or from cached image-tower outputs.
public final class CLIPClassifier {
  public let model: any CLIPBackbone
  public let tokenizer: any TextTokenizer
  public let prompts: [String]
  /// The adapters being trained (`--lora`), saved as a PEFT adapter of ``baseModel``.
  public var lora: LoRAConfig?
  /// Where the base model was loaded from (written as the adapter's `base_model_name_or_path`).
  public var baseModel: String?
  /// Also write the merged full model when saving an adapter (`--merge`).
  public var mergeOnSave = false
  /// Also write the model as an open_clip folder in `open_clip/` (`--open-clip`).
  public var openCLIPOnSave = false
  /// The folder inside a saved model that holds its open_clip copy.
  public static let openCLIPFolder = "open_clip"
  /// The evaluation preprocessing; saved as `preprocessor_config.json` with the model.
  public var preprocessing: ImageTransform
  private let promptIDs: [[Int]]
  /// Class embeddings computed once when the text side is frozen.
  private var frozenClassTexts: Tensor?

  public init(
    model: any CLIPBackbone, tokenizer: any TextTokenizer, prompts: [String], preprocessing: ImageTransform? = nil
  ) {
    self.model = model
    self.tokenizer = tokenizer
    self.prompts = prompts
    self.preprocessing = preprocessing ?? ImageTransform(size: model.imageSize)
    self.promptIDs = tokenizer(prompts)
  }

  /// Loads a model folder (``CLIPFolder``: Hugging Face, open_clip, a single state dict, or a
  /// PEFT adapter folder over one of them) with its tokenizer and preprocessing: the folder's
  /// `preprocessor_config.json`, else open_clip's `preprocess_cfg`, else CLIP's defaults.
  public static func load(directory: String, prompts: [String]) throws -> CLIPClassifier {
    let adapter = PEFTAdapter.isAdapter(directory)
    let base = adapter ? try adapterBase(directory) : directory
    let loaded = try CLIPFolder.load(base)
    let model = loaded.model
    if adapter { try PEFTAdapter.load(into: model, from: directory) }
    let pre = ["preprocessor_config.json", "processor_config.json"].map { directory + "/" + $0 }
      .first { FileManager.default.fileExists(atPath: $0) }
    let preprocessing =
      try pre.map { try ImageTransform(preprocessorConfig: $0) }
      ?? loaded.preprocess.map {
        ImageTransform(
          size: model.imageSize, resizeShortestSide: model.imageSize,
          filter: $0.interpolation == "bilinear" ? .bilinear : .bicubic,
          mean: $0.mean, std: $0.std)
      }
    if let preprocessing, preprocessing.size != model.imageSize {
      throw TrainingError.file(
        pre ?? directory, "crop size \(preprocessing.size) differs from the model's image_size \(model.imageSize)")
    }
    let classifier = CLIPClassifier(
      model: model, tokenizer: loaded.tokenizer, prompts: prompts, preprocessing: preprocessing)
    classifier.baseModel = URL(fileURLWithPath: base).standardizedFileURL.path
    return classifier
  }

  /// The base model of an adapter folder: its `base_model_name_or_path`, relative to the folder
  /// when not absolute. Nothing is fetched, so it must be on disk.
  static func adapterBase(_ directory: String) throws -> String {
    let (_, base) = try PEFTAdapter.readConfig(directory)
    guard let base, !base.isEmpty else {
      throw TrainingError.file(
        directory + "/" + PEFTAdapter.configFile,
        "has no base_model_name_or_path: FairMed cannot tell which model it adapts")
    }
    let path =
      base.hasPrefix("/") ? base : URL(fileURLWithPath: directory).appendingPathComponent(base).standardized.path
    guard FileManager.default.fileExists(atPath: path) else {
      throw TrainingError.file(
        directory + "/" + PEFTAdapter.configFile,
        "base_model_name_or_path '\(base)' is not a folder on this machine (nothing is downloaded)")
    }
    return path
  }

  /// Saves a complete folder in the model's format (Hugging Face: `config.json`,
  /// `model.safetensors`; open_clip: `open_clip_config.json`, `open_clip_model.safetensors`) with
  /// the tokenizer files and `preprocessor_config.json`. With LoRA it is a PEFT adapter folder
  /// instead, or with ``mergeOnSave`` the merged full model plus the adapter in `adapter/`.
  /// `includingOpenCLIP` false leaves out the open_clip copy (checkpoints).
  public func save(directory: String, includingOpenCLIP: Bool = true) throws {
    if let lora {
      let adapterDir = mergeOnSave ? directory + "/adapter" : directory
      try FileManager.default.createDirectory(atPath: adapterDir, withIntermediateDirectories: true)
      try PEFTAdapter.save(model, config: lora, base: baseModel ?? "", to: adapterDir)
      if mergeOnSave { try model.withLoRAMerged { try model.save(directory: directory) } }
    } else {
      try model.save(directory: directory)
    }
    if openCLIPOnSave && includingOpenCLIP { try saveOpenCLIP(directory: directory + "/" + Self.openCLIPFolder) }
    try tokenizer.save(directory: directory)
    try AtomicWrite.file(preprocessing.preprocessorConfigJSON(), to: directory + "/preprocessor_config.json")
  }

  /// The model as an open_clip folder (merged, with LoRA). A timm + BERT model is saved in
  /// open_clip's format already, and needs no copy.
  func saveOpenCLIP(directory: String) throws {
    guard let clip = model as? CLIPModel else { return }
    let write = {
      try clip.saveOpenCLIP(
        directory: directory, mean: self.preprocessing.mean, std: self.preprocessing.std,
        bilinear: self.preprocessing.filter == .bilinear)
    }
    if lora != nil { try clip.withLoRAMerged(write) } else { try write() }
  }

  /// Loads the trained weights of a folder ``save(directory:)`` wrote (the adapter's tensors with LoRA).
  func loadSavedWeights(directory: String) throws {
    if lora != nil {
      let adapterDir = mergeOnSave ? directory + "/adapter" : directory
      let file = try SafetensorsFile(path: adapterDir + "/" + PEFTAdapter.weightsFile)
      for (path, t) in model.loraStateDict() {
        guard file.entry("base_model.model." + path)?.shape == t.shape else {
          throw TrainingError.file(file.path, "lacks adapter tensor base_model.model.\(path) \(t.shape)")
        }
        try file.read("base_model.model." + path, into: t.pointer)
      }
    } else {
      try model.loadSavedWeights(directory: directory)
    }
    invalidateCaches()
  }

  /// Whether any text-side parameter is trainable (read once per ``invalidateCaches()``: the
  /// parameter walk reflects over every module, about a millisecond for the tiny preset, and the
  /// answer only changes when the caller freezes or unfreezes).
  var textTrainable: Bool {
    if let known = textTrainableCache { return known }
    let trainable = model.namedParameters().contains { p in
      model.textTowerPrefixes.contains { pathHasPrefix(p.path, $0) } && p.tensor.requiresGrad
    }
    textTrainableCache = trainable
    return trainable
  }
  private var textTrainableCache: Bool?

  /// Normalised class-prompt embeddings `[C, D]` (recomputed while the text side trains).
  public func classTexts() throws -> Tensor {
    if let t = frozenClassTexts { return t }
    if !textTrainable {
      frozenClassTexts = try withNoGrad { try model.textFeatures(promptIDs) }
      return frozenClassTexts!
    }
    return try model.textFeatures(promptIDs)
  }

  /// Forgets cached class embeddings and which side trains (after loading new weights, or
  /// freezing or unfreezing parameters).
  public func invalidateCaches() {
    frozenClassTexts = nil
    textTrainableCache = nil
  }

  /// Normalised image embeddings `[N, D]` from pixels `[N, 3, S, S]`, or from cached pooled
  /// image-tower outputs `[N, width]` when `pooled` is true.
  public func imageFeatures(_ input: Tensor, pooled: Bool) throws -> Tensor {
    if pooled { return try model.projectImage(input).l2Normalized(axis: -1) }
    return try model.imageFeatures(input)
  }

  /// Pooled image-tower outputs `[N, width]` (the feature cache's content).
  public func pooledImageOutputs(_ pixels: Tensor) throws -> Tensor {
    try withNoGrad { try model.pooledImage(pixels) }
  }

  /// Everything the loss needs for one batch.
  public func methodBatch(
    images: Tensor, pooled: Bool, labels: [Int], groups: [Int], texts: [String]?, contrastive: Bool, progress: Double
  ) throws -> MethodBatch {
    let e = try encode(images: images, pooled: pooled, texts: contrastive ? texts : nil)
    return try Self.methodBatch(
      imageEmbeddings: e.images, textEmbeddings: e.texts, classTexts: classTexts(), logitScale: model.logitScale,
      labels: labels, groups: groups, contrastive: contrastive, progress: progress)
  }

  /// The encoders' outputs for a batch (or one rank's shard of it): normalised image embeddings
  /// and, when `texts` are given (contrastive training on notes), their text embeddings.
  public func encode(images: Tensor, pooled: Bool, texts: [String]?) throws -> (images: Tensor, texts: Tensor?) {
    let v = try imageFeatures(images, pooled: pooled)
    return (v, try texts.map { try model.textFeatures(tokenizer($0)) })
  }

  /// The loss inputs from encoded embeddings `[N, D]`: the class-prompt head, or with
  /// `contrastive` the symmetric InfoNCE against `textEmbeddings` (the class prompts of the labels
  /// when nil).
  public static func methodBatch(
    imageEmbeddings v: Tensor, textEmbeddings: Tensor?, classTexts t: Tensor, logitScale: Tensor, labels: [Int],
    groups: [Int],
    contrastive: Bool, progress: Double
  ) throws -> MethodBatch {
    let sims = try matmul(v, t, transposeB: true)
    let perSample: Tensor, paired: Tensor
    if contrastive {
      let w = try textEmbeddings ?? t.indexSelect(axis: 0, indices: labels)
      perSample = try CLIPLoss.contrastivePerSample(images: v, texts: w, logitScale: logitScale)
      paired = try (v * w).sum(axes: [1])
    } else {
      perSample = try CLIPLoss.promptCEPerSample(similarities: sims, labels: labels, logitScale: logitScale)
      paired = try sims.gather(axis: 1, indices: labels)
    }
    return MethodBatch(
      perSampleLoss: perSample, similarities: sims, pairedSimilarities: paired, imageEmbeddings: v,
      logitScale: logitScale, labels: labels, groups: groups, progress: progress)
  }

  /// P(class 1) (or of each class) and the certainty margin on the true label, without a graph.
  public func predict(_ images: Tensor, pooled: Bool, labels: [Int]) throws -> (
    probabilities: [[Float]], margins: [Float]
  ) {
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
