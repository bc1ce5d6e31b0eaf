/// The result of auditing one grouping: per-group metrics, overall, aggregates.
public struct GroupAudit: Sendable {
  public var attributes: [String]
  public var groups: [GroupMetrics]
  public var overall: GroupMetrics
  public var aggregates: [AggregateKey: AggregateValue]
  public var aggregateIntervals: [AggregateKey: Interval] = [:]
  /// Per group: the groups taking part in each metric's gaps.
  public var members: [MetricKey: [Int]]
  public var tally: GroupTally
}

/// A full audit.
public struct AuditResult: Sendable {
  public var source: String
  public var threshold: ResolvedThreshold
  public var configuration: AuditConfiguration
  public var rows: Int
  public var rowsUsed: Int
  public var intersectional: GroupAudit
  /// One audit per attribute (when there is more than one attribute).
  public var views: [GroupAudit]
  public var referenceGroup: Int?
  public var certainty: CertaintyReport?
  /// ROC curves per intersectional group, and overall last.
  public var roc: [[(fpr: Double, tpr: Double)]]
  public var warnings: [String]
  /// Version, date, command, input hash and the threshold's source.
  public var provenance: AuditProvenance? = nil
  /// Logistic recalibration per group and the temperature-scaling diagnostic (nil: not computed).
  public var calibration: CalibrationReport? = nil
  /// DeLong intervals and tests against the reference group, Holm-adjusted.
  public var significance: SignificanceReport? = nil
  /// ΔTPR, worst-group and overall TPR, and net benefit over a grid of thresholds.
  public var curves: ThresholdCurves? = nil
  /// Seconds spent per phase, in order.
  public var timings: [(phase: String, seconds: Double)] = []
}
