import Tensor

/// Reweighting: per-sample loss weights ∝ 1 / frequency of the sample's subgroup × label cell in
/// the training set, normalised to mean 1 over the training set.
public final class Reweight: TrainingMethod {
  public let name = "reweight"
  /// Weight of each (group, label) cell.
  public private(set) var cellWeights: [Cell: Float] = [:]
  public struct Cell: Hashable, Sendable { public let group: Int, label: Int }

  public init() {}

  public func prepare(_ data: TrainingSetSummary) throws {
    var counts: [Cell: Int] = [:]
    for (g, y) in zip(data.groups, data.labels) { counts[Cell(group: g, label: y), default: 0] += 1 }
    let raw = counts.mapValues { 1 / Float($0) }
    // Mean over samples of 1/count is (#cells)/N; rescale so the per-sample mean is 1.
    let meanRaw = Float(counts.count) / Float(max(data.labels.count, 1))
    cellWeights = raw.mapValues { $0 / meanRaw }
  }

  public func loss(_ batch: MethodBatch) throws -> MethodLoss {
    let w = zip(batch.groups, batch.labels).map { cellWeights[Cell(group: $0, label: $1)] ?? 1 }
    let weighted = try (batch.perSampleLoss * Tensor(w)).mean()
    return MethodLoss(
      total: weighted, logs: ["l_clip": Double(try meanLoss(batch).item()), "l_weighted": Double(weighted.item())])
  }
}
