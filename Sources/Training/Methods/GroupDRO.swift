import Foundation
import Tensor

/// GroupDRO (Sagawa et al., ICLR 2020): per-group losses ℓ_g (mean over the group's samples in
/// the batch, 0 when absent), group weights q ← q·exp(η·(ℓ_g + C/√n_g)) renormalised every step,
/// loss = Σ_g q_g·ℓ_g. `n_g` is the group's training-set size.
public final class GroupDRO: TrainingMethod {
  public let name = "groupdro"
  public var stepSize: Float
  public var adjustment: Float
  public private(set) var weights: [Float] = []
  private var adjustments: [Float] = []

  public init(stepSize: Float = 0.01, adjustment: Float = 0) {
    self.stepSize = stepSize
    self.adjustment = adjustment
  }

  public func prepare(_ data: TrainingSetSummary) throws {
    var counts = [Int](repeating: 0, count: data.groupCount)
    for g in data.groups { counts[g] += 1 }
    weights = [Float](repeating: 1 / Float(data.groupCount), count: data.groupCount)
    adjustments = counts.map { adjustment / Float(max($0, 1)).squareRoot() }
  }

  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    precondition(!weights.isEmpty, "GroupDRO.prepare must run before the first step")
    var groupLosses: [Tensor?] = Array(repeating: nil, count: weights.count)
    for (g, idx) in membersByGroup(batch.groups) {
      groupLosses[g] = try batch.perSampleLoss.indexSelect(axis: 0, indices: idx).mean()
    }
    for g in weights.indices {
      let l = groupLosses[g]?.item() ?? 0
      weights[g] *= Foundation.exp(stepSize * (l + adjustments[g]))
    }
    let z = weights.reduce(0, +)
    weights = weights.map { $0 / z }
    var total: Tensor? = nil
    for g in weights.indices {
      guard let l = groupLosses[g] else { continue }
      let t = l * weights[g]
      total = try total.map { try $0 + t } ?? t
    }
    let robust = try total ?? meanLoss(batch) * 0
    var logs: [String: Double] = ["l_clip": Double(try meanLoss(batch).item()), "l_robust": Double(robust.item())]
    if let worst = weights.indices.max(by: { weights[$0] < weights[$1] }) {
      logs["max_group_weight"] = Double(weights[worst])
    }
    return MethodLoss(total: robust, logs: logs)
  }

  public func stateDict() -> [String: [Float]] { ["group_weights": weights] }
  public func loadStateDict(_ state: [String: [Float]]) throws {
    if let q = state["group_weights"] {
      guard q.count == weights.count else {
        throw TensorError.invalidArgument("GroupDRO checkpoint has \(q.count) group weights, expected \(weights.count)")
      }
      weights = q
    }
  }
}
