import Tensor

/// Mean matching: λ · mean over subgroup pairs of (mean s_g − mean s_h)², on the same certainty
/// margins as CMAC-MMD — the first-moment special case of matching whole distributions.
public final class MeanMatch: TrainingMethod {
  public let name = "meanmatch"
  public var lambda: Float
  public var minGroupSize: Int

  public init(lambda: Float = 0.5, minGroupSize: Int = 2) {
    self.lambda = lambda
    self.minGroupSize = minGroupSize
  }

  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    let clip = try meanLoss(batch)
    let margins = try CertaintyMargin.margins(similarities: batch.similarities, labels: batch.labels)
    let means = try membersByGroup(batch.groups).filter { $0.1.count >= minGroupSize }
      .map { try margins.indexSelect(axis: 0, indices: $0.1).mean() }
    var penalty: Tensor? = nil
    var pairs = 0
    for a in 0..<means.count {
      for b in (a + 1)..<means.count {
        let d = try (means[a] - means[b]).pow(2)
        penalty = try penalty.map { try $0 + d } ?? d
        pairs += 1
      }
    }
    let term = try penalty.map { $0 * (1 / Float(pairs)) } ?? margins.sum() * 0
    return MethodLoss(
      total: try clip + term * lambda, logs: ["l_clip": Double(clip.item()), "l_meanmatch": Double(term.item())])
  }
}
