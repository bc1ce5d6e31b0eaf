import Foundation
import Tensor

/// Gradient reversal (Ganin & Lempitsky 2015): identity forward; backward multiplies the
/// gradient by −`scale`.
public func gradientReversal(_ x: Tensor, scale: Float) -> Tensor {
  Tensor.customOp(x.detached(), name: "gradientReversal", inputs: [x]) { g in [g * -scale] }
}

/// DANN / CDANN: a small MLP adversary predicts the intersectional subgroup from the image
/// embedding through a gradient-reversal layer, so the encoder learns to hide it. CDANN also
/// feeds the one-hot label to the adversary (conditional alignment). λ scales the reversed
/// gradient, optionally warmed up as λ·(2/(1+e^{−10p}) − 1) over training progress p.
public final class AdversarialDebiasing: TrainingMethod {
  public let name: String
  public var lambda: Float
  public var warmUp: Bool
  public let hidden: Int
  public let conditional: Bool
  private var w1: Tensor?, b1: Tensor?, w2: Tensor?, b2: Tensor?
  private var classCount = 2

  /// `conditional: false` is DANN, `true` is CDANN.
  public init(conditional: Bool, lambda: Float = 0.5, hidden: Int = 64, warmUp: Bool = true) {
    self.name = conditional ? "cdann" : "dann"
    self.conditional = conditional
    self.lambda = lambda
    self.hidden = hidden
    self.warmUp = warmUp
  }

  public func prepare(_ data: TrainingSetSummary) throws {
    classCount = data.classCount
    let inputs = data.embeddingDim + (conditional ? data.classCount : 0)
    var g = SeededGenerator(seed: data.seed ^ 0xADE5)
    // Kaiming-uniform-like initialisation, as torch.nn.Linear.
    let a1 = 1 / Float(inputs).squareRoot(), a2 = 1 / Float(hidden).squareRoot()
    w1 = Tensor.uniform([hidden, inputs], low: -a1, high: a1, using: &g).requiringGrad()
    b1 = Tensor.uniform([hidden], low: -a1, high: a1, using: &g).requiringGrad()
    w2 = Tensor.uniform([data.groupCount, hidden], low: -a2, high: a2, using: &g).requiringGrad()
    b2 = Tensor.uniform([data.groupCount], low: -a2, high: a2, using: &g).requiringGrad()
  }

  public var extraParameters: [(String, Tensor)] {
    guard let w1, let b1, let w2, let b2 else { return [] }
    return [
      ("adversary.fc1.weight", w1), ("adversary.fc1.bias", b1), ("adversary.fc2.weight", w2),
      ("adversary.fc2.bias", b2),
    ]
  }

  /// The effective reversal scale at training progress `p`.
  public func scale(progress p: Double) -> Float {
    warmUp ? lambda * Float(2 / (1 + Foundation.exp(-10 * p)) - 1) : lambda
  }

  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    guard let w1, let b1, let w2, let b2 else {
      throw TensorError.invalidArgument("\(name): prepare(_:) must run before the first step")
    }
    let clip = try meanLoss(batch)
    let s = scale(progress: batch.progress)
    var features = gradientReversal(batch.imageEmbeddings, scale: s)
    if conditional {
      var oneHot = [Float](repeating: 0, count: batch.labels.count * classCount)
      for (i, y) in batch.labels.enumerated() { oneHot[i * classCount + y] = 1 }
      features = try concat([features, Tensor(oneHot, shape: [batch.labels.count, classCount])], axis: 1)
    }
    let logits = try linear(linear(features, weight: w1, bias: b1).relu(), weight: w2, bias: b2)
    let adversary = try crossEntropy(logits, targets: batch.groups)
    let predicted = try logits.argmax(axis: 1)
    let accuracy = Double(zip(predicted, batch.groups).filter { $0 == $1 }.count) / Double(max(1, batch.groups.count))
    return MethodLoss(
      total: try clip + adversary,
      logs: [
        "l_clip": Double(clip.item()), "l_adv": Double(adversary.item()), "adv_acc": accuracy, "grl_scale": Double(s),
      ])
  }
}
