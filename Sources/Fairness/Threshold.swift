import Foundation

/// How the decision threshold is chosen (docs/METHOD.md §6). Predicted positive iff score ≥ threshold.
public enum ThresholdRule: Sendable, Equatable {
  /// A fixed threshold.
  case fixed(Double)
  /// Argmax over a 2-class softmax: score ≥ 0.5.
  case argmax
  /// Youden's J (max TPR − FPR) on a validation set of (label, score).
  case youden(validation: String)
  /// The highest threshold reaching this overall sensitivity, on `validation` or, when nil, on the audited data.
  case sensitivity(Double, validation: String?)
  /// The threshold a trained model carries (`DIR/decision_threshold.json` or `DIR/best/…`,
  /// chosen on its validation predictions).
  case model(directory: String)

  /// Parses `0.5`, `argmax`, `youden:val.csv`, `sensitivity:0.9`, `sensitivity:0.9:val.csv` or `model:RUN_DIR`.
  public static func parse(_ text: String) throws -> ThresholdRule {
    if text == "argmax" { return .argmax }
    if let v = Double(text) {
      guard v.isFinite else { throw AuditError.badOption("threshold '\(text)' is not finite") }
      return .fixed(v)
    }
    if text.hasPrefix("youden:") {
      let path = String(text.dropFirst("youden:".count))
      guard !path.isEmpty else { throw AuditError.badOption("youden needs a validation file: youden:val.csv") }
      return .youden(validation: path)
    }
    if text.hasPrefix("model:") {
      let path = String(text.dropFirst("model:".count))
      guard !path.isEmpty else { throw AuditError.badOption("model needs a run or model folder: model:RUN_DIR") }
      return .model(directory: path)
    }
    if text.hasPrefix("sensitivity:") {
      let rest = text.dropFirst("sensitivity:".count)
      let parts = rest.split(separator: ":", maxSplits: 1).map(String.init)
      guard let target = parts.first.flatMap(Double.init), target > 0, target <= 1 else {
        throw AuditError.badOption("sensitivity target must be in (0, 1]: '\(text)'")
      }
      return .sensitivity(target, validation: parts.count > 1 ? parts[1] : nil)
    }
    throw AuditError.badOption("threshold '\(text)': use a number, argmax, youden:FILE, sensitivity:T[:FILE] or model:DIR")
  }
}

/// The threshold an audit used, and how it was obtained (stated in every output).
public struct ResolvedThreshold: Sendable, Equatable {
  /// fixed | argmax | youden | sensitivity | model
  public var rule: String
  public var value: Double
  /// A sentence saying where the value came from.
  public var detail: String
}

/// Chooses thresholds on (label, score) data.
public enum ThresholdSelector {
  /// Youden's J over all distinct scores; ties go to the highest threshold (as sklearn's argmax over roc_curve).
  public static func youden(_ ranked: RankedScores) throws -> (threshold: Double, j: Double) {
    let points = ranked.operatingPoints()
    guard ranked.label.contains(1), ranked.label.contains(0) else {
      throw AuditError.badOption("Youden's J needs both classes in the validation data")
    }
    var best = (threshold: points[0].threshold, j: -Double.infinity)
    for p in points where p.tpr - p.fpr > best.j { best = (p.threshold, p.tpr - p.fpr) }
    return best
  }

  /// The highest distinct score whose overall TPR reaches `target`.
  public static func sensitivity(_ ranked: RankedScores, target: Double) throws -> (threshold: Double, tpr: Double) {
    guard ranked.label.contains(1) else { throw AuditError.badOption("a sensitivity target needs positive labels") }
    for p in ranked.operatingPoints() where p.tpr >= target - 1e-12 { return (p.threshold, p.tpr) }
    throw AuditError.badOption("no threshold reaches sensitivity \(target)")
  }

  /// Resolves `rule`; `loadValidation` reads (labels, scores) from a file; `audited` is the audited data.
  public static func resolve(_ rule: ThresholdRule, audited: RankedScores,
                             loadValidation: (String) throws -> (labels: [UInt8], scores: [Double])) throws -> ResolvedThreshold {
    func ranked(_ path: String) throws -> RankedScores {
      let v = try loadValidation(path)
      return RankedScores(scores: v.scores, labels: v.labels, rowGroup: [Int32](repeating: 0, count: v.scores.count), groupCount: 1)
    }
    switch rule {
    case .fixed(let t):
      return ResolvedThreshold(rule: "fixed", value: t, detail: "fixed threshold \(t): predicted positive iff score ≥ \(t)")
    case .argmax:
      return ResolvedThreshold(rule: "argmax", value: 0.5, detail: "argmax over the 2-class softmax: predicted positive iff score ≥ 0.5")
    case .youden(let path):
      let r = try ranked(path)
      let (t, j) = try youden(r)
      return ResolvedThreshold(rule: "youden", value: t,
                               detail: "Youden's J maximised on \(path) (n=\(r.score.count), J=\(String(format: "%.4f", j))): predicted positive iff score ≥ \(t)")
    case .model(let dir):
      let (t, source) = try storedThreshold(dir)
      return ResolvedThreshold(rule: "model", value: t, detail: "the threshold saved with the model in \(source): predicted positive iff score ≥ \(t)")
    case .sensitivity(let target, let path):
      let r = try path.map(ranked) ?? audited
      let (t, tpr) = try sensitivity(r, target: target)
      let source = path ?? "the audited data"
      return ResolvedThreshold(rule: "sensitivity", value: t,
                               detail: "highest threshold with overall sensitivity ≥ \(target) on \(source) (reached \(String(format: "%.4f", tpr))): predicted positive iff score ≥ \(t)")
    }
  }

  /// The `value` of a model folder's `decision_threshold.json` (FairMed's training writes it into `best/`).
  static func storedThreshold(_ dir: String) throws -> (Double, String) {
    let fm = FileManager.default
    guard let path = [dir + "/decision_threshold.json", dir + "/best/decision_threshold.json"].first(where: fm.fileExists) else {
      throw AuditError.badOption("--threshold model:\(dir): no decision_threshold.json in \(dir) or \(dir)/best (a folder written by `fairmed train` has one)")
    }
    guard let data = fm.contents(atPath: path),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let value = (object["value"] as? NSNumber)?.doubleValue, value.isFinite else {
      throw AuditError.badOption("--threshold model:\(dir): \(path) must be a JSON object with a finite number 'value'")
    }
    return (value, path)
  }
}
