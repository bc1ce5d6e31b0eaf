import Foundation

/// The predictions CSV: the one declaration of its columns. `fairmed predict` and `fairmed
/// zero-shot` write it (Training's `Predictions.writeCSV`); `fairmed audit` reads it with these
/// names as its defaults (``AuditColumns``), and studies and the demo read it by them.
///
///     id,label,prob,pred,margin,group,<attributes…>[,prob_0,…,prob_{C-1}]
///
/// It lives in Fairness because the audit is what the file is for and Fairness is the lowest
/// module that both the writer (Training) and every reader (Fairness, Experiments) depend on;
/// Fairness depends on Support alone, so the audit stays usable without the engine.
public enum PredictionsCSV {
  /// The sample's id (the dataset's image id).
  public static let id = "id"
  /// The true class (0/1 with two classes): the audit's default `--label`.
  public static let label = "label"
  /// P(class 1): the audit's default `--score`.
  public static let score = "prob"
  /// The decision: P(class 1) ≥ the model's threshold with two classes, the most probable class with more.
  public static let decision = "pred"
  /// The certainty margin s on the true label (`fairmed audit --margin margin`).
  public static let margin = "margin"
  /// The subgroup key (the attribute values joined by `|`), for metrics only; never a model input.
  public static let group = "group"

  /// The fixed columns, in file order; the attribute columns follow, then the per-class probabilities.
  public static let leadingColumns = [id, label, score, decision, margin, group]

  /// The per-class probability column of class `k` (`prob_0`…), written only with more than two classes.
  public static func classProbability(_ k: Int) -> String { "\(score)_\(k)" }

  /// The attribute columns of `names` in file order: each once, sorted by name.
  public static func attributeColumns<S: Sequence>(_ names: S) -> [String] where S.Element == String {
    Set(names).sorted()
  }

  /// The per-class probability columns for `classes` classes: none for two (or fewer), else `prob_0…prob_{C-1}`.
  public static func classColumns(classes: Int) -> [String] {
    classes > 2 ? (0..<classes).map(classProbability) : []
  }

  /// The header: ``leadingColumns``, `attributes` (already in ``attributeColumns(_:)`` order),
  /// then ``classColumns(classes:)``.
  public static func header(attributes: [String], classes: Int) -> [String] {
    leadingColumns + attributes + classColumns(classes: classes)
  }

  /// A probability or margin as the file holds it: six decimals.
  public static func number(_ x: Double) -> String { String(format: "%.6f", x) }

  /// One row's fields under ``leadingColumns``, in their order.
  public static func leadingFields(
    id: String, label: Int, score: Double, decision: String, margin: Double, group: String
  ) -> [String] {
    [id, String(label), number(score), decision, number(margin), group]
  }

  /// The layout in words, for help texts: `id,label,prob,pred,margin,group,<attributes…>[,prob_0…prob_{C-1}]`.
  public static var layout: String {
    leadingColumns.joined(separator: ",") + ",<attributes…>[,\(classProbability(0))…\(score)_{C-1}]"
  }
}
