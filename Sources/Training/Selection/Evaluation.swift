import Fairness
import Foundation

/// Validation and test metrics of one prediction set, computed by the `Fairness` module.
public struct EvalMetrics: Codable, Equatable, Sendable {
  public var n: Int
  public var auc: Double?
  public var accuracy: Double?
  /// Overall sensitivity at the threshold.
  public var tpr: Double?
  /// max − min subgroup TPR over eligible groups (docs/METHOD.md §6).
  public var deltaTPR: Double?
  public var worstGroupTPR: Double?
  public var worstGroup: String?
  public var deodds: Double?
  public var dpd: Double?
  public var esAUC: Double?
  /// Per-subgroup TPR (nil where undefined).
  public var groupTPR: [String: Double?]
  public var threshold: Double

  /// Metrics at `threshold` (P(class 1) ≥ threshold is positive); groups below `minGroupSize`
  /// are excluded from gaps, as in the audit.
  public static func compute(
    labels: [Int], scores: [Double], groups: [String], threshold: Double = ThresholdRule.argmaxValue,
    minGroupSize: Int = AuditConfiguration().minGroupSize
  ) throws -> EvalMetrics {
    let spec = GroupingSpec(
      attributes: [AttributeSpec(column: PredictionsCSV.group)], missing: .drop, missingTokens: [])
    let grouping = try Grouping(spec: spec, columns: [CategoricalColumn(values: groups)], file: "predictions")
    let input = AuditInput(
      labels: labels.map { UInt8($0 == 1 ? 1 : 0) }, scores: scores, margins: nil, grouping: grouping)
    var config = AuditConfiguration()
    config.threshold = .fixed(threshold)
    config.minGroupSize = minGroupSize
    config.singleAttributeViews = false
    config.bootstrap = nil  // point metrics only
    config.minCellCount = nil  // the studies' gaps: groups of ≥ minGroupSize samples where the metric is defined
    let result = try Audit.run(input, configuration: config)
    let a = result.intersectional
    func agg(_ k: AggregateKey) -> Double? { a.aggregates[k]?.value }
    let worst = a.aggregates[.worstGroupTPR]?.minGroup.map { a.groups[$0].name }
    var tprs: [String: Double?] = [:]
    for g in a.groups { tprs[g.name] = g[.tpr] }
    return EvalMetrics(
      n: labels.count, auc: a.overall[.auc], accuracy: a.overall[.accuracy], tpr: a.overall[.tpr],
      deltaTPR: agg(.deltaTPR), worstGroupTPR: agg(.worstGroupTPR), worstGroup: worst, deodds: agg(.deodds),
      dpd: agg(.dpd), esAUC: agg(.esAUC), groupTPR: tprs, threshold: threshold)
  }
}
