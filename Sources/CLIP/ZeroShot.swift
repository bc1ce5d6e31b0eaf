import Foundation
import NN
import Tensor

/// A zero-shot classifier: one normalised text embedding per class, built as open_clip's
/// `build_zero_shot_classifier` does — embed every prompt of the class, normalise each, average,
/// normalise again.
public struct ZeroShotClassifier {
  /// Class embeddings `[classes, projection_dim]`, unit rows.
  public let classEmbeddings: Tensor
  /// τ used for the probabilities (the model's exp(logit_scale) at construction).
  public let temperature: Float

  /// Builds the class embeddings from prompt lists (`prompts[c]` = the templates of class c).
  public init(model: any CLIPBackbone, tokenizer: any TextTokenizer, prompts: [[String]]) throws {
    guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else {
      throw TensorError.invalidArgument("ZeroShotClassifier: every class needs at least one prompt")
    }
    let rows: [Tensor] = try withNoGrad {
      try prompts.map { templates in
        let e = try model.textFeatures(tokenizer(templates))
        return try e.mean(axes: [0], keepDims: true).l2Normalized(axis: -1)
      }
    }
    classEmbeddings = try withNoGrad { try concat(rows, axis: 0) }
    temperature = model.temperature().item()
  }

  /// Cosine similarities `[B, classes]` of normalised image features with each class.
  public func similarities(_ imageFeatures: Tensor) throws -> Tensor {
    try withNoGrad { try matmul(imageFeatures, classEmbeddings, transposeB: true) }
  }

  /// Class probabilities softmax(τ · similarity), `[B, classes]`.
  public func probabilities(_ imageFeatures: Tensor) throws -> Tensor {
    try withNoGrad { try (similarities(imageFeatures) * temperature).softmax(axis: -1) }
  }

  /// Certainty margin per image (docs/METHOD.md §3): similarity to `label` minus the best other class.
  public func margins(_ imageFeatures: Tensor, labels: [Int]) throws -> [Float] {
    let s = try similarities(imageFeatures)
    let c = s.shape[1]
    return try labels.enumerated().map { i, y in
      guard y >= 0 && y < c else { throw TensorError.invalidArgument("margins: label \(y) outside 0..<\(c)") }
      let row = Array(UnsafeBufferPointer(start: s.pointer + i * c, count: c))
      let other = row.enumerated().filter { $0.offset != y }.map(\.element).max() ?? 0
      return row[y] - other
    }
  }
}
