import Foundation
import Tensor

/// The CLIP objectives of docs/METHOD.md §3.
public enum CLIPLoss {
  /// Largest allowed logit scale τ = exp(logit_scale).
  public static let maxLogitScale: Float = 100

  /// τ = exp(logit_scale), clamped at 100 (the clamp stops the gradient, as in open_clip).
  public static func temperature(_ logitScale: Tensor) -> Tensor {
    logitScale.clamped(max: Foundation.log(maxLogitScale)).exp()
  }

  /// Symmetric InfoNCE: ½[CE(Z, I) + CE(Zᵀ, I)] with Z = τ·V·Wᵀ, for L2-normalised image
  /// features `images` `[N, D]` and the matching texts' features `texts` `[N, D]`.
  public static func contrastive(images: Tensor, texts: Tensor, logitScale: Tensor) throws -> Tensor {
    let z = try matmul(images, texts, transposeB: true) * temperature(logitScale)
    let targets = Array(0..<images.shape[0])
    let imageToText = try crossEntropy(z, targets: targets)
    let textToImage = try crossEntropy(z.transposed(0, 1), targets: targets)
    return try (imageToText + textToImage) * 0.5
  }

  /// `prompt-ce`: cross-entropy over the class-prompt logits z = τ·⟨v, t_c⟩, with optional
  /// per-sample weights (mean 1 keeps the scale).
  public static func promptCE(
    images: Tensor, classTexts: Tensor, labels: [Int], logitScale: Tensor, weights: [Float]? = nil
  ) throws -> Tensor {
    let z = try matmul(images, classTexts, transposeB: true) * temperature(logitScale)
    return try crossEntropy(z, targets: labels, weights: weights)
  }
}
