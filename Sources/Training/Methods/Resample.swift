import Tensor

/// Resampling: batches balanced over subgroup × label cells (drawn with replacement where a
/// cell is small, re-drawn every epoch, seeded); the loss is plain ERM on those batches.
public final class Resample: TrainingMethod {
  public let name = "resample"
  public let sampling = SamplingRequest.balancedCells
  public init() {}
  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    let l = try meanLoss(batch)
    return MethodLoss(total: l, logs: ["l_clip": Double(l.item())])
  }
}
