import Tensor

/// The certainty (alignment) score of docs/METHOD.md §3:
/// sᵢ = ⟨vᵢ, t_{yᵢ}⟩ − max_{c≠yᵢ} ⟨vᵢ, t_c⟩.
/// High s: confident and correct; s ≈ 0: uncertain; s < 0: wrong.
public enum CertaintyMargin {
  /// Margins from per-class similarities `similarities` `[N, C]` (cosines, or τ-scaled logits)
  /// and true labels. Differentiable with respect to the similarities.
  public static func margins(similarities: Tensor, labels: [Int]) throws -> Tensor {
    guard similarities.rank == 2, similarities.shape[0] == labels.count, similarities.shape[1] >= 2 else {
      throw TensorError.invalidArgument(
        "certainty margin: similarities \(similarities.shape) need shape [\(labels.count), classes ≥ 2]")
    }
    let c = similarities.shape[1]
    let correct = try similarities.gather(axis: 1, indices: labels)
    var isTrue = [Bool](repeating: false, count: labels.count * c)
    for (i, y) in labels.enumerated() { isTrue[i * c + y] = true }
    let competing = try similarities.maskedFill(isTrue, value: -.infinity).max(axis: 1)
    return try correct - competing
  }

  /// Margins computed outside the graph, e.g. for predictions: `[Float]` per sample.
  public static func values(similarities: Tensor, labels: [Int]) throws -> [Float] {
    try withNoGrad { try margins(similarities: similarities, labels: labels).scalars }
  }
}
