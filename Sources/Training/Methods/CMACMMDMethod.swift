import CLIP
import Tensor

/// CMAC-MMD as a training method: L = L_CLIP + λ·L_CMAC on certainty margins of cosine
/// similarities (default) or of the τ-scaled logits (`marginsOnLogits`, docs/METHOD.md §8's
/// collapse-prone reading, kept for reproduction).
public final class CMACMMDMethod: TrainingMethod {
  public let name = "cmac-mmd"
  public var options: CMACMMD
  public var marginsOnLogits: Bool
  public let sampling: SamplingRequest

  public init(options: CMACMMD = CMACMMD(), marginsOnLogits: Bool = false, balancedSampling: Bool = false) {
    self.options = options
    self.marginsOnLogits = marginsOnLogits
    self.sampling = balancedSampling ? .balancedCells : .any
  }

  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    let clip = try meanLoss(batch)
    let sims =
      marginsOnLogits
      ? try batch.similarities * CLIPLoss.temperature(batch.logitScale) : batch.similarities
    let margins = try CertaintyMargin.margins(similarities: sims, labels: batch.labels)
    let term = try options.term(margins: margins, groups: batch.groups, labels: batch.labels)
    let total = try clip + term.value * options.lambda
    return MethodLoss(
      total: total,
      logs: [
        "l_clip": Double(clip.item()), "l_cmac": Double(term.value.item()),
        "groups_compared": Double(term.groupsCompared), "groups_skipped": Double(term.groupsSkipped),
      ])
  }
}
