import Fairness
import Foundation
import Support

/// How training chooses the decision threshold saved with the model (`--threshold-policy`).
public enum ThresholdPolicy: String, CaseIterable, Codable, Sendable {
  /// Youden's J (max TPR − FPR) on the validation predictions; no demographics.
  case youden
  /// Argmax over the class prompts: P(class 1) ≥ 0.5.
  case argmax
}

/// The decision threshold saved with a model (`best/decision_threshold.json`): P(class 1) ≥
/// ``value`` is predicted positive. Chosen on validation predictions, never on test data. The
/// file's name, keys and value rule are Fairness's ``StoredThreshold`` (the audit's reader):
/// this type writes what that one declares.
public struct DecisionThreshold: Codable, Equatable, Sendable {
  public var policy: ThresholdPolicy
  public var value: Double
  /// Validation rows it was chosen on (0 for argmax).
  public var validationRows: Int
  /// Youden's J at ``value`` on those rows (nil for argmax).
  public var youdenJ: Double?

  /// The threshold of models that carry none (argmax, 0.5).
  public static let argmax = DecisionThreshold(
    policy: .argmax, value: ThresholdRule.argmaxValue, validationRows: 0, youdenJ: nil)

  /// Chooses the threshold by `policy` on validation labels and P(class 1) scores.
  public static func choose(_ policy: ThresholdPolicy, labels: [Int], scores: [Double]) throws -> DecisionThreshold {
    switch policy {
    case .argmax: return .argmax
    case .youden:
      let ranked = RankedScores(
        scores: scores, labels: labels.map { $0 == 1 ? 1 : 0 },
        rowGroup: [Int32](repeating: 0, count: scores.count), groupCount: 1)
      guard ranked.label.contains(1), ranked.label.contains(0) else {
        throw TrainingError.data(
          "--threshold-policy youden: the validation data needs both classes; it has \(Set(labels).sorted())")
      }
      let (t, j) = try ThresholdSelector.youden(ranked)
      // A saved threshold is a probability strictly inside (0, 1) (what `StoredThreshold` accepts).
      guard t > 0 else {
        throw TrainingError.data(
          "--threshold-policy youden: Youden's J on the validation predictions is best at threshold \(t) (every row positive, J \(j)): the scores do not separate the classes"
        )
      }
      // Scores saturated at P = 1: the largest Double below 1 makes the same decisions (scores
      // are Float probabilities, none lies between it and 1).
      return DecisionThreshold(
        policy: .youden, value: min(t, Double(1).nextDown), validationRows: scores.count, youdenJ: j)
    }
  }

  /// A short name for tables and logs: "Youden 0.312" or "0.5".
  public var label: String {
    policy == .argmax ? "\(ThresholdRule.argmaxValue)" : String(format: "Youden %.3f", value)
  }

  /// Writes `dir/decision_threshold.json` (``StoredThreshold/fileName``) atomically; a value the
  /// reader would refuse is never written.
  public func write(toDirectory dir: String) throws {
    guard StoredThreshold.accepts(value) else {
      throw TrainingError.data("decision threshold \(value) is not \(StoredThreshold.valueRule): not saved to \(dir)")
    }
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicWrite.file(try enc.encode(self), to: dir + "/" + StoredThreshold.fileName)
  }

  /// The threshold saved in a model folder (or a run folder's `best/`); nil when it has none.
  /// Its `value` is read and checked by the audit's reader (``StoredThreshold``): a file whose
  /// value is not a probability strictly inside (0, 1) is an error naming the file and the value.
  public static func load(modelDirectory dir: String) throws -> DecisionThreshold? {
    let stored: StoredThreshold?
    do { stored = try StoredThreshold.load(modelDirectory: dir) } catch let e as FileReadError {
      throw TrainingError.file(e.path, e.reason)
    }
    guard let stored else { return nil }
    var t = try decodeJSONFile(DecisionThreshold.self, stored.path, "decision threshold")
    t.value = stored.value
    return t
  }
}

// The file's keys are StoredThreshold.Key's (`youdenJ` only when there is one), as the
// synthesised coding wrote them. (In an extension, so the memberwise initialiser stays.)
extension DecisionThreshold {
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: StoredThreshold.Key.self)
    policy = try c.decode(ThresholdPolicy.self, forKey: .policy)
    value = try c.decode(Double.self, forKey: .value)
    validationRows = try c.decode(Int.self, forKey: .validationRows)
    youdenJ = try c.decodeIfPresent(Double.self, forKey: .youdenJ)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: StoredThreshold.Key.self)
    try c.encode(policy, forKey: .policy)
    try c.encode(value, forKey: .value)
    try c.encode(validationRows, forKey: .validationRows)
    try c.encodeIfPresent(youdenJ, forKey: .youdenJ)
  }
}
