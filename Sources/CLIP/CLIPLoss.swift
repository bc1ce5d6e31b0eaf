import Foundation
import Tensor

/// The CLIP objectives (docs/METHOD.md §3), written once: training (`CLIPClassifier`'s method
/// batch), the model's own `contrastiveLoss`, prediction and the fairness terms all take the
/// temperature and the per-sample losses from here, and the PyTorch golden tests check these
/// functions on the path training runs.
public enum CLIPLoss {
  /// Largest allowed logit scale τ = exp(logit_scale).
  public static let maxLogitScale: Float = 100

  /// τ = exp(logit_scale), logit_scale clamped at log 100 first (the clamp stops the gradient, as
  /// open_clip's `logit_scale.clamp(0, ln 100)` does; Hugging Face does not clamp).
  public static func temperature(_ logitScale: Tensor) -> Tensor {
    logitScale.clamped(max: Foundation.log(maxLogitScale)).exp()
  }

  /// Symmetric InfoNCE of each pair `[N]`: ℓᵢ = −½[log softmax(Zᵢ,·)ᵢ + log softmax(Z·,ᵢ)ᵢ] with
  /// Z = τ·V·Wᵀ, for L2-normalised image features `images` `[N, D]` and their paired texts'
  /// `texts` `[N, D]`. The mean is open_clip's `ClipLoss` and Hugging Face's `clip_loss`.
  public static func contrastivePerSample(images: Tensor, texts: Tensor, logitScale: Tensor) throws -> Tensor {
    let n = images.shape.first ?? 0
    guard images.rank == 2, texts.rank == 2, texts.shape[0] == n else {
      throw TensorError.invalidArgument(
        "CLIP contrastive loss: need as many texts as images, got \(images.shape) and \(texts.shape)")
    }
    let z = try matmul(images, texts, transposeB: true) * temperature(logitScale)
    let diagonal = Array(0..<n)
    let rows = try z.logSoftmax(axis: 1).gather(axis: 1, indices: diagonal)
    let columns = try z.logSoftmax(axis: 0).gather(axis: 1, indices: diagonal)
    return try (rows + columns) * -0.5
  }

  /// The batch's symmetric InfoNCE: the mean of ``contrastivePerSample(images:texts:logitScale:)``.
  public static func contrastive(images: Tensor, texts: Tensor, logitScale: Tensor) throws -> Tensor {
    try contrastivePerSample(images: images, texts: texts, logitScale: logitScale).mean()
  }

  /// `prompt-ce` of each sample `[N]`: −log softmax(τ·s)_y over the cosine similarities
  /// `similarities` `[N, C]` to the class prompts.
  public static func promptCEPerSample(similarities: Tensor, labels: [Int], logitScale: Tensor) throws -> Tensor {
    try (similarities * temperature(logitScale)).logSoftmax(axis: 1).gather(axis: 1, indices: labels) * -1
  }
}
