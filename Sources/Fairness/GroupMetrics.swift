/// Everything measured for one group (or overall) at the audit's threshold.
public struct GroupMetrics: Sendable {
  public var descriptor: GroupDescriptor
  public var counts: ConfusionCounts
  public var metrics: [MetricKey: Metric]
  /// Why the group is excluded from gaps (e.g. "small_group", "no_positives"); empty = eligible.
  public var flags: [String]
  /// Percentile intervals per metric (when bootstrapped).
  public var intervals: [MetricKey: Interval] = [:]

  public var name: String { descriptor.name }
  public var n: Int { counts.n }
  public var positives: Int { counts.positives }

  /// The metric's value (nil when undefined).
  public subscript(_ key: MetricKey) -> Double? { metrics[key]?.value }

  /// Builds a group's record from its tally, AUC, and flags.
  static func make(
    _ descriptor: GroupDescriptor, tally: GroupTally, group g: Int?, auc: Double?,
    minGroupSize: Int, minCellCount: Int? = nil
  ) -> GroupMetrics {
    let counts = g.map { tally.counts[$0] } ?? tally.overallCounts
    var m = counts.metrics()
    if let auc {
      m[.auc] = Metric(auc)
    } else {
      m[.auc] = Metric(
        undefined: counts.n == 0
          ? "empty group" : counts.positives == 0 ? "one class: no positives" : "one class: no negatives")
    }
    m[.brier] = tally.brier(g)
    m[.ece] = tally.ece(g)
    var flags: [String] = []
    if g != nil {
      if counts.n < minGroupSize { flags.append("small_group") }
      if counts.positives == 0 { flags.append("no_positives") }
      if counts.negatives == 0 { flags.append("no_negatives") }
      if let m = minCellCount {
        if counts.positives > 0 && counts.positives < m { flags.append("few_positives") }
        if counts.negatives > 0 && counts.negatives < m { flags.append("few_negatives") }
      }
    }
    return GroupMetrics(descriptor: descriptor, counts: counts, metrics: m, flags: flags)
  }

  /// Whether the group takes part in max/min gaps: not flagged small. Each gap then takes the
  /// eligible groups where its own metric is defined (a group without positives has no TPR but
  /// enters ΔFPR and DPD, as in fairlearn).
  public var isEligible: Bool { !flags.contains("small_group") }

  /// Whether `--min-cell-count` keeps the group out of metric `k`'s gaps: too few positives for
  /// TPR/FNR, too few negatives for FPR/TNR (the count that decides the metric).
  public func tooFewCells(for k: MetricKey) -> Bool {
    switch k {
    case .tpr, .fnr: return flags.contains("few_positives")
    case .fpr, .tnr: return flags.contains("few_negatives")
    default: return false
    }
  }
}

/// How an ``Interval`` was computed.
public enum IntervalMethod: String, Sendable, Equatable {
  /// Percentile bootstrap (``Bootstrap``).
  case bootstrap
  /// DeLong's analytic interval of an AUC (``DeLong``), where the row bootstrap did not run.
  case deLong = "delong"
}

/// A metric's interval: percentile bootstrap, or DeLong's for an AUC the bootstrap left out.
public struct Interval: Sendable, Equatable {
  public var lower: Double
  public var upper: Double
  public var level: Double
  /// Replicates that produced a value (0 for an analytic interval).
  public var replicates: Int
  /// Replicates skipped because the value was undefined (a group vanished or lost a class).
  public var skipped: Int
  public var method: IntervalMethod = .bootstrap
}
