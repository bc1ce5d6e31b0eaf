/// A metric value, or nil with the reason it is undefined (never 0 or NaN in its place).
public struct Metric: Sendable, Equatable {
  public var value: Double?
  public var reason: String?

  public init(_ value: Double) {
    self.value = value.isFinite ? value : nil
    self.reason = value.isFinite ? nil : "not finite"
  }

  public init(undefined reason: String) { value = nil; self.reason = reason }

  /// numerator / denominator, undefined with `reason` when the denominator is 0.
  public static func ratio(_ numerator: Double, _ denominator: Double, _ reason: String) -> Metric {
    denominator > 0 ? Metric(numerator / denominator) : Metric(undefined: reason)
  }
}

/// Every per-group metric, with its snake_case name used in JSON and CSV.
public enum MetricKey: String, CaseIterable, Sendable, Hashable {
  case prevalence, tpr, fnr, fpr, tnr, ppv, npv, accuracy
  case balancedAccuracy = "balanced_accuracy"
  case selectionRate = "selection_rate"
  case auc, brier, ece

  /// Whether the metric is a function of the group's confusion counts alone
  /// (so its bootstrap can resample per-cell counts instead of rows).
  public var isCountBased: Bool {
    switch self {
    case .auc, .brier, .ece: return false
    default: return true
    }
  }

  /// A short human label.
  public var title: String {
    switch self {
    case .prevalence: return "Prevalence"
    case .tpr: return "TPR (sensitivity)"
    case .fnr: return "FNR (missed)"
    case .fpr: return "FPR"
    case .tnr: return "TNR (specificity)"
    case .ppv: return "PPV"
    case .npv: return "NPV"
    case .accuracy: return "Accuracy"
    case .balancedAccuracy: return "Balanced accuracy"
    case .selectionRate: return "Selection rate"
    case .auc: return "AUC"
    case .brier: return "Brier"
    case .ece: return "ECE"
    }
  }
}

/// True/false positive/negative counts of one group at one threshold.
public struct ConfusionCounts: Sendable, Equatable {
  public var tp = 0, fp = 0, tn = 0, fn = 0

  public init(tp: Int = 0, fp: Int = 0, tn: Int = 0, fn: Int = 0) {
    self.tp = tp; self.fp = fp; self.tn = tn; self.fn = fn
  }

  public var n: Int { tp + fp + tn + fn }
  public var positives: Int { tp + fn }
  public var negatives: Int { fp + tn }

  public static func + (a: ConfusionCounts, b: ConfusionCounts) -> ConfusionCounts {
    ConfusionCounts(tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn)
  }

  /// The count-based metrics (docs/METHOD.md §6); undefined ones carry their reason.
  public func metrics() -> [MetricKey: Metric] {
    let tp = Double(tp), fp = Double(fp), tn = Double(tn), fn = Double(fn)
    let p = tp + fn, q = fp + tn, n = p + q
    var m: [MetricKey: Metric] = [:]
    m[.prevalence] = .ratio(p, n, "empty group")
    m[.tpr] = .ratio(tp, p, "no positives")
    m[.fnr] = .ratio(fn, p, "no positives")
    m[.fpr] = .ratio(fp, q, "no negatives")
    m[.tnr] = .ratio(tn, q, "no negatives")
    m[.ppv] = .ratio(tp, tp + fp, "no predicted positives")
    m[.npv] = .ratio(tn, tn + fn, "no predicted negatives")
    m[.accuracy] = .ratio(tp + tn, n, "empty group")
    m[.selectionRate] = .ratio(tp + fp, n, "empty group")
    if p > 0 && q > 0 {
      m[.balancedAccuracy] = Metric((tp / p + tn / q) / 2)
    } else {
      m[.balancedAccuracy] = Metric(undefined: p == 0 ? "no positives" : "no negatives")
    }
    return m
  }

  /// One count-based metric as a plain optional (the bootstrap's hot path).
  @inline(__always)
  public func value(_ key: MetricKey) -> Double? {
    let tp = Double(tp), fp = Double(fp), tn = Double(tn), fn = Double(fn)
    func r(_ a: Double, _ b: Double) -> Double? { b > 0 ? a / b : nil }
    switch key {
    case .prevalence: return r(tp + fn, tp + fp + tn + fn)
    case .tpr: return r(tp, tp + fn)
    case .fnr: return r(fn, tp + fn)
    case .fpr: return r(fp, fp + tn)
    case .tnr: return r(tn, fp + tn)
    case .ppv: return r(tp, tp + fp)
    case .npv: return r(tn, tn + fn)
    case .accuracy: return r(tp + tn, tp + fp + tn + fn)
    case .selectionRate: return r(tp + fp, tp + fp + tn + fn)
    case .balancedAccuracy:
      guard tp + fn > 0, fp + tn > 0 else { return nil }
      return (tp / (tp + fn) + tn / (fp + tn)) / 2
    case .auc, .brier, .ece: return nil
    }
  }
}
