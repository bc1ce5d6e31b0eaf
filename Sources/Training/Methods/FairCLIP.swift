import CLIP
import Tensor

/// FairCLIP (Luo et al., CVPR 2024): λ · Σ over subgroups of the Sinkhorn distance between the
/// distribution of paired image–text similarities in the batch and in that subgroup.
///
/// Paper formulation (default): the similarity of pair i is its cosine ⟨vᵢ, wᵢ⟩, and gradients
/// flow through both the batch and the group distributions. `originalCode: true` reproduces the
/// two deviations of the released code: each group's similarities are computed without gradient,
/// and the "similarity" is diag(Z·Zᵀ) of the logit matrix rows (for a class-prompt head,
/// Σ_c z_ic²) rather than the paired logit.
public final class FairCLIP: TrainingMethod {
  public let name = "fairclip"
  public var lambda: Float
  public var sinkhorn: Sinkhorn
  public var originalCode: Bool
  public var minGroupSize: Int

  public init(lambda: Float = 0.5, sinkhorn: Sinkhorn = Sinkhorn(), originalCode: Bool = false, minGroupSize: Int = 2) {
    self.lambda = lambda
    self.sinkhorn = sinkhorn
    self.originalCode = originalCode
    self.minGroupSize = minGroupSize
  }

  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    let clip = try meanLoss(batch)
    let sims: Tensor
    if originalCode {
      let z = try batch.similarities * CLIPLoss.temperature(batch.logitScale)
      sims = try (z * z).sum(axes: [1])
    } else {
      sims = batch.pairedSimilarities
    }
    var total: Tensor? = nil
    var groups = 0
    for (_, idx) in membersByGroup(batch.groups) where idx.count >= minGroupSize {
      var groupSims = try sims.indexSelect(axis: 0, indices: idx)
      if originalCode { groupSims = groupSims.detached() }
      let d = try sinkhorn.divergence(sims, groupSims)
      total = try total.map { try $0 + d } ?? d
      groups += 1
    }
    let term = try total ?? sims.sum() * 0
    return MethodLoss(
      total: try clip + term * lambda,
      logs: [
        "l_clip": Double(clip.item()), "l_fairclip": Double(term.item()), "groups_compared": Double(groups),
      ])
  }
}
