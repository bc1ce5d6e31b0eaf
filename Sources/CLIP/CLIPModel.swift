import Foundation
import NN
import Tensor

/// CLIP with Hugging Face parameter names: `vision_model`, `text_model`, `visual_projection`,
/// `text_projection` (no biases) and the scalar `logit_scale`.
public final class CLIPModel: Module {
  public let config: CLIPConfig
  // Declared in the checkpoint's order (text before vision); `init` builds the vision tower first.
  @Child("text_model") public private(set) var textModel: CLIPTextTransformer
  @Child("vision_model") public private(set) var visionModel: CLIPVisionTransformer
  @Child("visual_projection") public private(set) var visualProjection: Linear
  @Child("text_projection") public private(set) var textProjection: Linear
  /// log τ; logits are `exp(logit_scale)` (at most ``maxLogitScale``) × cosine similarity.
  @Param("logit_scale") public private(set) var logitScale: Tensor
  /// The folder layout it was loaded from and is saved in (Hugging Face unless it came from an
  /// open_clip folder).
  public var format: CheckpointFormat = .huggingFace

  /// A CLIP initialised with CLIP's scheme from `seed` (training from scratch), or with zeros
  /// when `seed` is nil (about to load a checkpoint).
  public init(config: CLIPConfig, seed: UInt64? = 0) {
    self.config = config
    var g = seed.map { SeededGenerator(seed: $0) } ?? .zeros
    let f = config.initializerFactor
    visionModel = CLIPVisionTransformer(config.vision, range: config.initializerRange, factor: f, using: &g)
    textModel = CLIPTextTransformer(config.text, factor: f, using: &g)
    visualProjection = Linear(
      config.vision.hiddenSize, config.projectionDim, bias: false,
      std: 1 / Float(config.vision.hiddenSize).squareRoot() * f, using: &g)
    textProjection = Linear(
      config.text.hiddenSize, config.projectionDim, bias: false,
      std: 1 / Float(config.text.hiddenSize).squareRoot() * f, using: &g)
    logitScale = Tensor(scalar: config.logitScaleInitValue).requiringGrad()
    if seed == nil {  // ones and scalars that are not drawn (layer norms, logit_scale) start at 0 too
      for (_, t) in namedParameters() { t.pointer.update(repeating: 0, count: t.count) }
    }
  }

  /// `logits_per_image [Bi, Bt]` = τ · image · textᵀ for normalised features (τ clamped at 100,
  /// as open_clip does; HF does not clamp, and fine-tuned checkpoints stay far below).
  public func logits(imageFeatures: Tensor, textFeatures: Tensor) throws -> Tensor {
    try matmul(imageFeatures, textFeatures, transposeB: true) * temperature()
  }

  /// Symmetric InfoNCE (HF `clip_loss`, open_clip `ClipLoss`): ``CLIPLoss/contrastive(images:texts:logitScale:)``.
  public func contrastiveLoss(imageFeatures: Tensor, textFeatures: Tensor) throws -> Tensor {
    try CLIPLoss.contrastive(images: imageFeatures, texts: textFeatures, logitScale: logitScale)
  }
}
