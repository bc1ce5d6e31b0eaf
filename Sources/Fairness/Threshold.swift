import Foundation
import Support

/// How the decision threshold is chosen (docs/METHOD.md §6). Predicted positive iff score ≥ threshold.
public enum ThresholdRule: Sendable, Equatable {
  /// The argmax threshold's value: P(class 1) ≥ it is the larger of two softmax probabilities.
  public static let argmaxValue = 0.5

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
    throw AuditError.badOption(
      "threshold '\(text)': use a number, argmax, youden:FILE, sensitivity:T[:FILE] or model:DIR")
  }
}

/// The threshold an audit used, and how it was obtained (stated in every output).
public struct ResolvedThreshold: Sendable, Equatable {
  /// fixed | argmax | youden | sensitivity | model
  public var rule: String
  public var value: Double
  /// A sentence saying where the value came from.
  public var detail: String
  /// The file the value was read or chosen from, as given (nil: fixed, argmax, or the audited data).
  public var sourceFile: String? = nil
  /// Whether the threshold was chosen on the audited labels themselves (`sensitivity:T` without a
  /// validation file, or a validation file that is the audited file): optimistic, flagged in every output.
  public var chosenOnAuditedLabels = false

  /// The flag every output prints for a threshold chosen on the audited labels.
  public static let optimisticNote = "optimistic: chosen on the test labels"
}

/// Chooses thresholds on (label, score) data.
public enum ThresholdSelector {
  /// Youden's J over all distinct scores; ties go to the highest threshold. J is compared as the
  /// integer tp·N − fp·P: as Doubles, equal J values can differ in the last bit (3/10 − 1/10 <
  /// 5/10 − 3/10), which broke ties toward a lower threshold.
  public static func youden(_ ranked: RankedScores) throws -> (threshold: Double, j: Double) {
    guard ranked.label.contains(1), ranked.label.contains(0) else {
      throw AuditError.badOption("Youden's J needs both classes in the validation data")
    }
    let P = ranked.label.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }, N = ranked.label.count - P
    var best: (threshold: Double, numerator: Int)? = nil
    var tp = 0, fp = 0
    var j = ranked.score.count - 1
    while j >= 0 {  // scores ascend: from the highest threshold down
      let v = ranked.score[j]
      while j >= 0 && ranked.score[j] == v {
        if ranked.label[j] != 0 { tp += 1 } else { fp += 1 }
        j -= 1
      }
      let numerator = tp * N - fp * P
      if best == nil || numerator > best!.numerator { best = (v, numerator) }
    }
    return (best!.threshold, Double(best!.numerator) / (Double(P) * Double(N)))
  }

  /// The highest distinct score whose overall TPR reaches `target`.
  public static func sensitivity(_ ranked: RankedScores, target: Double) throws -> (threshold: Double, tpr: Double) {
    guard ranked.label.contains(1) else { throw AuditError.badOption("a sensitivity target needs positive labels") }
    for p in ranked.operatingPoints() where p.tpr >= target - 1e-12 { return (p.threshold, p.tpr) }
    throw AuditError.badOption("no threshold reaches sensitivity \(target)")
  }

  /// Resolves `rule`; `loadValidation` reads (labels, scores) from a file; `audited` is the audited data.
  public static func resolve(
    _ rule: ThresholdRule, audited: RankedScores,
    loadValidation: (String) throws -> (labels: [UInt8], scores: [Double])
  ) throws -> ResolvedThreshold {
    func ranked(_ path: String) throws -> RankedScores {
      let v = try loadValidation(path)
      return RankedScores(
        scores: v.scores, labels: v.labels, rowGroup: [Int32](repeating: 0, count: v.scores.count), groupCount: 1)
    }
    switch rule {
    case .fixed(let t):
      return ResolvedThreshold(
        rule: "fixed", value: t, detail: "fixed threshold \(t): predicted positive iff score ≥ \(t)")
    case .argmax:
      return ResolvedThreshold(
        rule: "argmax", value: ThresholdRule.argmaxValue,
        detail: "argmax over the 2-class softmax: predicted positive iff score ≥ \(ThresholdRule.argmaxValue)")
    case .youden(let path):
      let r = try ranked(path)
      let (t, j) = try youden(r)
      guard j > 0 else {
        throw AuditError.badOption(
          "youden:\(path): Youden's J is not positive at any threshold (best \(j)): the scores do not separate the classes, and every threshold would be a guess"
        )
      }
      return ResolvedThreshold(
        rule: "youden", value: t,
        detail:
          "Youden's J maximised on \(path) (n=\(r.score.count), J=\(String(format: "%.4f", j))): predicted positive iff score ≥ \(t)",
        sourceFile: path)
    case .model(let dir):
      let (t, source) = try storedThreshold(dir)
      return ResolvedThreshold(
        rule: "model", value: t,
        detail: "the threshold saved with the model in \(source): predicted positive iff score ≥ \(t)",
        sourceFile: source)
    case .sensitivity(let target, let path):
      let r = try path.map(ranked) ?? audited
      let (t, tpr) = try sensitivity(r, target: target)
      let source = path ?? "the audited data"
      return ResolvedThreshold(
        rule: "sensitivity", value: t,
        detail:
          "highest threshold with overall sensitivity ≥ \(target) on \(source) (reached \(String(format: "%.4f", tpr))): predicted positive iff score ≥ \(t)",
        sourceFile: path, chosenOnAuditedLabels: path == nil)
    }
  }

  /// The `value` of a model folder's `decision_threshold.json` (FairMed's training writes it into `best/`).
  static func storedThreshold(_ dir: String) throws -> (Double, String) {
    do {
      guard let stored = try StoredThreshold.load(modelDirectory: dir) else {
        throw AuditError.badOption(
          "--threshold model:\(dir): no \(StoredThreshold.fileName) in \(dir) or \(dir)/best (a folder written by `fairmed train` has one)"
        )
      }
      return (stored.value, stored.path)
    } catch let e as FileReadError {
      throw AuditError.badOption("--threshold model:\(dir): \(e.description)")
    }
  }
}

/// The decision threshold saved with a model, `decision_threshold.json` (training writes it into
/// `best/`): the one declaration of the file (its name, keys and the rule its `value` obeys) and
/// its one reader, used by the audit's `model:DIR` rule and by `fairmed predict`; training's
/// writer (`DecisionThreshold`) writes these keys under this name. Its `value` must be a
/// probability strictly inside (0, 1): P(class 1) ≥ value is predicted positive, so a value ≥ 1
/// (or ≤ 0) would turn every row negative (or positive).
public struct StoredThreshold: Sendable, Equatable {
  public static let fileName = "decision_threshold.json"

  /// The file's keys: a JSON object holding every key but `youdenJ`, which is written only for
  /// a threshold chosen by Youden's J. The audit reads `value` alone.
  public enum Key: String, CodingKey, CaseIterable, Sendable {
    /// How the threshold was chosen (`youden`, `argmax`).
    case policy
    /// The threshold: rows with P(class 1) ≥ value are positive.
    case value
    /// Validation rows it was chosen on (0 for argmax).
    case validationRows
    /// Youden's J at `value` on those rows.
    case youdenJ
  }

  /// What `value` must be, in words.
  public static let valueRule = "a probability strictly inside (0, 1)"
  /// Whether `value` obeys ``valueRule``: what the reader accepts and the writer may write.
  public static func accepts(_ value: Double) -> Bool { value.isFinite && value > 0 && value < 1 }

  /// The file read.
  public var path: String
  public var value: Double

  /// `dir/decision_threshold.json`, else `dir/best/decision_threshold.json`; nil when neither exists.
  public static func path(inModelDirectory dir: String) -> String? {
    [dir + "/" + fileName, dir + "/" + ModelFolderLayout.best + "/" + fileName].first {
      FileManager.default.fileExists(atPath: $0)
    }
  }

  /// The threshold of a model folder (or a run folder's `best/`); nil when it has none. Throws
  /// `FileReadError` naming the file and what it holds when it is not a JSON object whose
  /// `value` is a number strictly inside (0, 1).
  public static func load(modelDirectory dir: String) throws -> StoredThreshold? {
    guard let file = Self.path(inModelDirectory: dir) else { return nil }
    return StoredThreshold(path: file, value: try read(file))
  }

  /// The checked `value` of the threshold file at `path`.
  public static func read(_ path: String) throws -> Double {
    let data = try readFile(path)
    let key = Key.value.rawValue
    guard let parsed = try? JSONSerialization.jsonObject(with: data), let object = parsed as? [String: Any] else {
      throw FileReadError(
        path: path, "is not a JSON object (a decision threshold file holds {\"\(key)\": P, ...} with P \(valueRule))")
    }
    guard let raw = object[key] else {
      throw FileReadError(path: path, "has no '\(key)': expected \(valueRule)")
    }
    guard let value = jsonDouble(raw), accepts(value) else {
      throw FileReadError(
        path: path,
        "'\(key)' must be \(valueRule) (rows with P(class 1) ≥ \(key) are positive), got \(jsonValueDescription(raw))")
    }
    return value
  }
}
