import Foundation

/// A decision curve (Vickers & Elkin 2006, "Decision curve analysis: a novel method for
/// evaluating prediction models"): the net benefit of treating the rows whose score is ≥ the
/// threshold probability pₜ (the audit's rule: predicted positive iff score ≥ threshold),
///   NB(pₜ) = TP/n − FP/n · pₜ/(1 − pₜ),
/// against treating every row, NB_all(pₜ) = π − (1 − π)·pₜ/(1 − pₜ) with π = positives/n, and
/// treating none, NB_none = 0. n, TP and FP count the curve's own rows (a subgroup's curve
/// uses the subgroup's n and prevalence).
public struct DecisionCurve: Sendable, Equatable {
  /// Threshold probabilities pₜ, strictly increasing in (0, 1).
  public var thresholds: [Double]
  /// The model's net benefit at each threshold.
  public var model: [Double]
  /// Treat all.
  public var treatAll: [Double]
  /// True and false positives at each threshold (score ≥ pₜ).
  public var truePositives: [Int]
  public var falsePositives: [Int]
  public var n: Int
  public var positives: Int

  /// Treat none: 0 at every threshold.
  public var treatNone: [Double] { [Double](repeating: 0, count: thresholds.count) }

  /// 0.01, 0.02, …, 0.99 (k/100, each exact to the nearest double).
  public static let defaultThresholds: [Double] = (1...99).map { Double($0) / 100 }

  /// The curve over all rows: labels 0 or 1, scores probabilities in [0, 1].
  public static func compute(labels: [UInt8], scores: [Double], thresholds: [Double] = defaultThresholds) throws
    -> DecisionCurve
  {
    try grouped(
      labels: labels, scores: scores, rowGroup: [Int32](repeating: 0, count: labels.count), groupCount: 1,
      thresholds: thresholds
    ).overall
  }

  /// The curve of every group of `rowGroup` (values in 0..<groupCount; rows with −1 are left
  /// out of every curve) and of all its rows, in one pass: each score finds, by binary search,
  /// how many thresholds it reaches, and suffix sums of those counts give TP and FP at every
  /// threshold, O(n·log T + groups·T) for T thresholds. A group without rows gets nil. Throws on
  /// empty input, a label other than 0/1, a score NaN or outside [0, 1], or thresholds that are
  /// empty, outside (0, 1) or not strictly increasing.
  public static func grouped(
    labels: [UInt8], scores: [Double], rowGroup: [Int32], groupCount: Int,
    thresholds: [Double] = defaultThresholds
  ) throws -> (groups: [DecisionCurve?], overall: DecisionCurve) {
    _ = try StatisticsInput.check(labels, scores, probabilities: true, what: "decision curve")
    guard !thresholds.isEmpty, thresholds.count <= 1_000_000 else {
      throw AuditError.badOption("decision curve: \(thresholds.count) thresholds (give 1…1000000)")
    }
    for (k, t) in thresholds.enumerated() {
      guard t > 0, t < 1, k == 0 || t > thresholds[k - 1] else {
        throw AuditError.badOption(
          "decision curve: threshold \(t) at index \(k) is not in (0, 1) or not above the one before")
      }
    }
    guard rowGroup.count == labels.count else {
      throw AuditError.badOption("decision curve: \(rowGroup.count) group codes for \(labels.count) rows")
    }
    guard groupCount >= 1, groupCount <= 1_000_000 else {
      throw AuditError.badOption("decision curve: group count \(groupCount) is not in 1…1000000")
    }
    let T = thresholds.count, width = T + 1
    guard (groupCount + 1) * width <= 50_000_000 else {
      throw AuditError.badOption("decision curve: \(groupCount) groups × \(T) thresholds is too many curves")
    }
    // Per group (and overall, last), per k = number of thresholds ≤ score: positives, negatives.
    var histogram = [Int](repeating: 0, count: 2 * (groupCount + 1) * width)
    for i in scores.indices {
      let g = Int(rowGroup[i])
      guard g >= -1, g < groupCount else {
        throw AuditError.badOption("decision curve: group \(g) at index \(i) is not in −1..<\(groupCount)")
      }
      if g < 0 { continue }
      var lo = 0, hi = T  // the number of thresholds ≤ score
      let s = scores[i]
      while lo < hi {
        let mid = (lo + hi) / 2
        if thresholds[mid] <= s { lo = mid + 1 } else { hi = mid }
      }
      let c = labels[i] != 0 ? 0 : 1
      histogram[(2 * g + c) * width + lo] += 1
      histogram[(2 * groupCount + c) * width + lo] += 1
    }
    let odds = thresholds.map { $0 / (1 - $0) }
    func curve(_ g: Int) -> DecisionCurve? {
      let pos = histogram[(2 * g) * width..<(2 * g + 1) * width]
      let neg = histogram[(2 * g + 1) * width..<(2 * g + 2) * width]
      let P = pos.reduce(0, +), N = neg.reduce(0, +)
      guard P + N > 0 else { return nil }
      // TP at threshold k: positives reaching more than k thresholds (suffix sums).
      var tp = [Int](repeating: 0, count: T), fp = tp
      var sp = 0, sn = 0
      for k in stride(from: T - 1, through: 0, by: -1) {
        sp += pos[pos.startIndex + k + 1]; sn += neg[neg.startIndex + k + 1]
        tp[k] = sp; fp[k] = sn
      }
      let n = Double(P + N), prevalence = Double(P) / n
      return DecisionCurve(
        thresholds: thresholds,
        model: (0..<T).map { Double(tp[$0]) / n - Double(fp[$0]) / n * odds[$0] },
        treatAll: (0..<T).map { prevalence - (1 - prevalence) * odds[$0] },
        truePositives: tp, falsePositives: fp, n: P + N, positives: P)
    }
    guard let overall = curve(groupCount) else {
      throw AuditError.badOption("decision curve: every row has group −1, no rows left")
    }
    return ((0..<groupCount).map(curve), overall)
  }
}
