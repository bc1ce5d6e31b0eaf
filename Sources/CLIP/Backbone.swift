import Foundation
import NN
import Support
import Tensor

/// The file layout a model was loaded from, and is saved back in.
public enum CheckpointFormat: Sendable, Equatable {
  /// A Hugging Face folder: `config.json` + `model.safetensors`.
  case huggingFace
  /// An open_clip folder: `open_clip_config.json` (kept byte for byte) + `open_clip_model.safetensors`.
  case openCLIP(config: Data)

  /// The weights file a saved folder of this format holds.
  public var weightsFile: String {
    switch self {
    case .huggingFace: return "model.safetensors"
    case .openCLIP: return "open_clip_model.safetensors"
    }
  }
}

/// What training, prediction and encoding need from a CLIP-style model, whatever its towers
/// (``CLIPModel``'s ViT + causal transformer, ``OpenCLIPModel``'s timm ViT + BERT).
public protocol CLIPBackbone: Module {
  /// The square input size of the image tower.
  var imageSize: Int { get }
  /// The width of the joint embedding space.
  var embeddingDim: Int { get }
  /// log τ (logits are exp(logit_scale) × cosine similarity, τ clamped at 100).
  var logitScale: Tensor { get }
  /// How the folder it came from is laid out (and how ``save(directory:)`` writes it).
  var format: CheckpointFormat { get }
  /// Parameter prefixes of the image tower including its projection.
  var imageTowerPrefixes: [String] { get }
  /// Parameter prefixes of the image encoder up to its pooled output (what `image-frozen`
  /// freezes and the feature cache stores the output of; the projection stays trainable).
  var imageEncoderPrefixes: [String] { get }
  /// Parameter prefixes of the text tower including its projection.
  var textTowerPrefixes: [String] { get }
  /// Prefixes of each tower's last `k` blocks, the final norms, both projections and the logit scale.
  func lastLayerPrefixes(_ k: Int) -> [String]
  /// Linear layers LoRA adapts when no `--lora-targets` are given (PEFT's usual choice).
  var defaultLoRATargets: [String] { get }
  /// The image tower's pooled output `[B, width]` (before the projection; the feature cache's content).
  func pooledImage(_ pixels: Tensor) throws -> Tensor
  /// Projects pooled image-tower outputs into the joint space (unnormalised).
  func projectImage(_ pooled: Tensor) throws -> Tensor
  /// Unnormalised text embeddings `[B, E]` for token rows of the model's tokenizer.
  func textEmbeddings(_ ids: [[Int]]) throws -> Tensor
  /// Writes the model's folder (config and weights) in ``format``.
  func save(directory: String) throws
  /// Loads weights from a source in this model's own naming (or, for ``CLIPModel``, OpenAI's).
  func loadWeights(_ source: TensorSource) throws
}

extension CLIPBackbone {
  /// Projected image embeddings for pixels `[B, C, H, W]`, L2-normalised when `normalized`.
  public func imageFeatures(_ pixels: Tensor, normalized: Bool = true) throws -> Tensor {
    let e = try projectImage(pooledImage(pixels))
    return normalized ? try e.l2Normalized(axis: -1) : e
  }

  /// Projected text embeddings for token rows, L2-normalised when `normalized`.
  public func textFeatures(_ ids: [[Int]], normalized: Bool = true) throws -> Tensor {
    let e = try textEmbeddings(ids)
    return normalized ? try e.l2Normalized(axis: -1) : e
  }

  /// τ = exp(logit_scale), clamped at 100 as open_clip does (``CLIPLoss/temperature(_:)``).
  public func temperature() -> Tensor { CLIPLoss.temperature(logitScale) }

  /// Loads the weights of a folder this model's ``save(directory:)`` wrote.
  public func loadSavedWeights(directory: String) throws {
    try loadWeights(SafetensorsFile(path: directory + "/" + format.weightsFile))
  }
}

extension CLIPModel: CLIPBackbone {
  public var imageSize: Int { config.vision.imageSize }
  public var embeddingDim: Int { config.projectionDim }
  public var imageTowerPrefixes: [String] { ["vision_model", "visual_projection"] }
  public var imageEncoderPrefixes: [String] { ["vision_model"] }
  public var textTowerPrefixes: [String] { ["text_model", "text_projection"] }
  /// Hugging Face CLIP's LoRA targets: the attention's query and value projections (PEFT's usual choice).
  public static let loraTargets = ["q_proj", "v_proj"]
  public var defaultLoRATargets: [String] { Self.loraTargets }

  public func lastLayerPrefixes(_ k: Int) -> [String] {
    var out: [String] = []
    for (tower, layers) in [
      ("vision_model", config.vision.numHiddenLayers), ("text_model", config.text.numHiddenLayers),
    ] {
      for l in max(0, layers - k)..<layers { out.append("\(tower).encoder.layers.\(l)") }
    }
    return out + [
      "vision_model.post_layernorm", "text_model.final_layer_norm", "visual_projection", "text_projection",
      "logit_scale",
    ]
  }

  public func pooledImage(_ pixels: Tensor) throws -> Tensor { try visionModel(pixels) }
  public func projectImage(_ pooled: Tensor) throws -> Tensor { try visualProjection(pooled) }
  public func textEmbeddings(_ ids: [[Int]]) throws -> Tensor { try textProjection(textModel(ids)) }
}
