/// Every fairness aggregate, with its snake_case name.
public enum AggregateKey: String, CaseIterable, Sendable, Hashable {
  /// max_g TPR_g − min_g TPR_g (fairlearn equal_opportunity_difference; the paper's headline).
  case deltaTPR = "delta_tpr"
  /// min_g TPR_g / max_g TPR_g.
  case tprRatio = "tpr_ratio"
  /// min_g TPR_g.
  case worstGroupTPR = "worst_group_tpr"
  /// max_g FPR_g − min_g FPR_g.
  case deltaFPR = "delta_fpr"
  /// Demographic parity difference: max − min selection rate.
  case dpd
  /// Demographic parity ratio: min / max selection rate.
  case dpr
  /// Equalized-odds difference: max(ΔTPR, ΔFPR).
  case deodds
  /// max − min accuracy.
  case deltaAccuracy = "delta_accuracy"
  /// max − min AUC.
  case deltaAUC = "delta_auc"
  /// min_g AUC_g.
  case worstGroupAUC = "worst_group_auc"
  /// AUC / (1 + Σ_g |AUC_g − AUC|) (FairCLIP).
  case esAUC = "es_auc"
  /// Accuracy / (1 + Σ_g |ACC_g − ACC|).
  case esACC = "es_acc"
  /// max_g |TPR_g − TPR_overall|.
  case maxTPRDiffToOverall = "max_tpr_diff_to_overall"
  /// max_g |FPR_g − FPR_overall|.
  case maxFPRDiffToOverall = "max_fpr_diff_to_overall"
  /// max_g |selection_g − selection_overall|.
  case maxSelectionDiffToOverall = "max_selection_rate_diff_to_overall"
  /// max_g |AUC_g − AUC_overall|.
  case maxAUCDiffToOverall = "max_auc_diff_to_overall"

  /// The per-group metrics the aggregate reads.
  public var inputs: [MetricKey] {
    switch self {
    case .deltaTPR, .tprRatio, .worstGroupTPR, .maxTPRDiffToOverall: return [.tpr]
    case .deltaFPR, .maxFPRDiffToOverall: return [.fpr]
    case .dpd, .dpr, .maxSelectionDiffToOverall: return [.selectionRate]
    case .deodds: return [.tpr, .fpr]
    case .deltaAccuracy, .esACC: return [.accuracy]
    case .deltaAUC, .worstGroupAUC, .esAUC, .maxAUCDiffToOverall: return [.auc]
    }
  }

  /// Whether it can be bootstrapped from per-cell counts alone.
  public var isCountBased: Bool { inputs.allSatisfy(\.isCountBased) }
}

/// An aggregate's value with the groups that define it (by index), or the reason it is undefined.
public struct AggregateValue: Sendable, Equatable {
  public var value: Double?
  public var reason: String?
  /// For gaps: the group with the highest value; for worst-group: nil.
  public var maxGroup: Int?
  /// For gaps and worst-group: the group with the lowest value; for to-overall: the farthest group.
  public var minGroup: Int?
}

/// Computes aggregates from per-group values over a fixed set of member groups per metric.
public enum AggregateCalculator {
  /// `value(metric, group)` and `overall(metric)` give values; `members[metric]` lists the groups
  /// that take part (eligible and defined in the original data). A member whose value is nil makes
  /// the aggregate undefined (the bootstrap skips such replicates).
  public static func compute(
    _ key: AggregateKey, members: [MetricKey: [Int]],
    value: (MetricKey, Int) -> Double?, overall: (MetricKey) -> Double?
  ) -> AggregateValue {
    func extremes(_ m: MetricKey) -> (min: (Double, Int), max: (Double, Int))? {
      var lo = (Double.infinity, -1), hi = (-Double.infinity, -1)
      for g in members[m] ?? [] {
        guard let v = value(m, g) else { return nil }
        if v < lo.0 { lo = (v, g) }
        if v > hi.0 { hi = (v, g) }
      }
      return lo.1 < 0 ? nil : (lo, hi)
    }
    func undefined(_ m: MetricKey) -> AggregateValue {
      let count = members[m]?.count ?? 0
      return AggregateValue(
        value: nil,
        reason: count < (key.needsTwo ? 2 : 1)
          ? "fewer than \(key.needsTwo ? "two" : "one") eligible groups with a defined \(m.rawValue)"
          : "\(m.rawValue) undefined in a member group", maxGroup: nil, minGroup: nil)
    }
    let m = key.inputs[0]
    if (members[m]?.count ?? 0) < (key.needsTwo ? 2 : 1) { return undefined(m) }
    switch key {
    case .deltaTPR, .deltaFPR, .dpd, .deltaAccuracy, .deltaAUC:
      guard let e = extremes(m) else { return undefined(m) }
      return AggregateValue(value: e.max.0 - e.min.0, reason: nil, maxGroup: e.max.1, minGroup: e.min.1)
    case .tprRatio, .dpr:
      guard let e = extremes(m) else { return undefined(m) }
      guard e.max.0 > 0 else {
        return AggregateValue(value: nil, reason: "every \(m.rawValue) is 0", maxGroup: e.max.1, minGroup: e.min.1)
      }
      return AggregateValue(value: e.min.0 / e.max.0, reason: nil, maxGroup: e.max.1, minGroup: e.min.1)
    case .worstGroupTPR, .worstGroupAUC:
      guard let e = extremes(m) else { return undefined(m) }
      return AggregateValue(value: e.min.0, reason: nil, maxGroup: nil, minGroup: e.min.1)
    case .deodds:
      guard (members[.fpr]?.count ?? 0) >= 2 else { return undefined(.fpr) }
      guard let t = extremes(.tpr) else { return undefined(.tpr) }
      guard let f = extremes(.fpr) else { return undefined(.fpr) }
      let dt = t.max.0 - t.min.0, df = f.max.0 - f.min.0
      return dt >= df
        ? AggregateValue(value: dt, reason: nil, maxGroup: t.max.1, minGroup: t.min.1)
        : AggregateValue(value: df, reason: nil, maxGroup: f.max.1, minGroup: f.min.1)
    case .esAUC, .esACC:
      guard let all = overall(m) else { return AggregateValue(value: nil, reason: "overall \(m.rawValue) undefined") }
      var spread = 0.0
      var worst = (0.0, -1)
      for g in members[m] ?? [] {
        guard let v = value(m, g) else { return undefined(m) }
        spread += abs(v - all)
        if abs(v - all) > worst.0 || worst.1 < 0 { worst = (abs(v - all), g) }
      }
      return AggregateValue(
        value: all / (1 + spread), reason: nil, maxGroup: nil, minGroup: worst.1 < 0 ? nil : worst.1)
    case .maxTPRDiffToOverall, .maxFPRDiffToOverall, .maxSelectionDiffToOverall, .maxAUCDiffToOverall:
      guard let all = overall(m) else { return AggregateValue(value: nil, reason: "overall \(m.rawValue) undefined") }
      var worst = (-1.0, -1)
      for g in members[m] ?? [] {
        guard let v = value(m, g) else { return undefined(m) }
        if abs(v - all) > worst.0 { worst = (abs(v - all), g) }
      }
      guard worst.1 >= 0 else { return undefined(m) }
      return AggregateValue(value: worst.0, reason: nil, maxGroup: nil, minGroup: worst.1)
    }
  }
}

extension AggregateKey {
  /// Gaps and ratios need two groups; worst-group, ES and to-overall need one.
  var needsTwo: Bool {
    switch self {
    case .worstGroupTPR, .worstGroupAUC, .esAUC, .esACC, .maxTPRDiffToOverall, .maxFPRDiffToOverall,
      .maxSelectionDiffToOverall, .maxAUCDiffToOverall:
      return false
    default: return true
    }
  }
}
