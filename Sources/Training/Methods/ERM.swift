import Tensor

/// Empirical risk minimisation: the CLIP loss alone.
public final class ERM: TrainingMethod {
  public let name = "erm"
  public init() {}
  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    let l = try meanLoss(batch)
    return MethodLoss(total: l, logs: ["l_clip": Double(l.item())])
  }
}
