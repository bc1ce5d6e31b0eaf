import Fairness
import Datasets
import Foundation
import Tensor
import Support

/// Per-sample predictions of a classifier on a dataset: P(class 1), the certainty margin on the
/// true label, and the pass-through columns the audit needs. No demographic attribute is used to
/// compute them. Written as the predictions CSV whose columns ``PredictionsCSV`` declares.
public struct Predictions {
  public var ids: [String] = []
  public var labels: [Int] = []
  /// P(class 1) (the ``PredictionsCSV/score`` column, `prob`).
  public var scores: [Double] = []
  /// Every class's probability; written as ``PredictionsCSV/classColumns(classes:)`` (`prob_0…prob_{C-1}`) when there are more than two.
  public var classProbabilities: [[Double]] = []
  public var margins: [Double] = []
  /// Subgroup key of each sample (for metrics; not an input of the model).
  public var groups: [String] = []
  public var attributes: [[String: String]] = []
  /// The model's decision threshold: the ``PredictionsCSV/decision`` column is P(class 1) ≥ its value.
  public var threshold = DecisionThreshold.argmax

  /// Runs the classifier over `dataset` (or its `rows`) in batches (decoding in parallel), or
  /// over `cached` pooled image-tower outputs.
  public static func compute(
    classifier: CLIPClassifier, dataset: Dataset, groupSpec: GroupingSpec, transform: ImageTransform,
    batchSize: Int = 64,
    cached: Tensor? = nil, threads: Int? = nil, rows: Range<Int>? = nil
  ) throws -> Predictions {
    guard batchSize >= 1 else { throw TrainingError.invalidConfig(["--batch-size must be ≥ 1, got \(batchSize)"]) }
    var out = Predictions()
    let rows = (rows ?? 0..<dataset.count).clamped(to: 0..<dataset.count)
    let batches = stride(from: rows.lowerBound, to: rows.upperBound, by: batchSize).map {
      Array($0..<min(rows.upperBound, $0 + batchSize))
    }
    try forEachEvaluationBatch(
      dataset: dataset, batches: batches, transform: transform, groups: groupSpec, cached: cached, threads: threads
    ) { idx, images in
      let samples = idx.map { dataset.samples[$0] }
      let (probs, margins) = try classifier.predict(images, pooled: cached != nil, labels: samples.map(\.label))
      out.append(
        samples: samples, probabilities: probs.map { $0.map(Double.init) }, margins: margins.map(Double.init),
        groups: groupSpec)
    }
    return out
  }

  /// Adds one batch of predictions.
  public mutating func append(samples: [Sample], probabilities: [[Double]], margins: [Double], groups: GroupingSpec) {
    ids += samples.map(\.id)
    labels += samples.map(\.label)
    classProbabilities += probabilities
    scores += probabilities.map { $0.count > 1 ? $0[1] : $0[0] }
    self.margins += margins
    self.groups += samples.map(groups.key)
    attributes += samples.map(\.attributes)
  }

  /// The predictions CSV, ``PredictionsCSV/layout`` (RFC 4180 quoting; `pred` is the decision at
  /// ``threshold`` with two classes, the most probable class with more), written atomically.
  /// Every non-finite probability or margin is refused with its row named.
  public func writeCSV(to path: String) throws {
    if let i = ids.indices.first(where: { !scores[$0].isFinite || !margins[$0].isFinite }) {
      throw TrainingError.nonFinite(
        "\(path): prediction for '\(ids[i])' (row \(i + 1)) is not finite (\(PredictionsCSV.score) \(scores[i]), \(PredictionsCSV.margin) \(margins[i])): the model's weights or the input hold NaN or infinity"
      )
    }
    let attrNames = PredictionsCSV.attributeColumns(attributes.flatMap(\.keys))
    let classes = classProbabilities.map(\.count).max() ?? 2
    let classColumns = PredictionsCSV.classColumns(classes: classes)
    let header = PredictionsCSV.header(attributes: attrNames, classes: classes)
    // Readers refuse a header naming a column twice: a data attribute must not take a predictions column's name.
    if let d = duplicateCSVColumn(header) {
      throw TrainingError.data(
        "\(path): the data's attribute '\(d.name)' has the name of a predictions column (\(duplicateCSVColumnMessage(d))): rename it in the data"
      )
    }
    var lines = [header.map(csvField).joined(separator: ",")]
    for i in ids.indices {
      let perClass =
        classColumns.isEmpty
        ? []
        : (0..<classes).map { c in
          classProbabilities[i].indices.contains(c) ? PredictionsCSV.number(classProbabilities[i][c]) : ""
        }
      let pred = Self.decision(
        classProbabilities.indices.contains(i) ? classProbabilities[i] : [], score: scores[i],
        threshold: threshold.value)
      let fields =
        PredictionsCSV.leadingFields(
          id: ids[i], label: labels[i], score: scores[i], decision: pred, margin: margins[i], group: groups[i])
        + attrNames.map { attributes[i][$0] ?? "" } + perClass
      lines.append(fields.map(csvField).joined(separator: ","))
    }
    try AtomicWrite.file(lines.joined(separator: "\n") + "\n", to: path)
  }

  /// The ``PredictionsCSV/decision`` column: with more than two classes the argmax over every class scored (the first
  /// on a tie), else P(class 1) ≥ `threshold`.
  static func decision(_ probabilities: [Double], score: Double, threshold: Double) -> String {
    guard probabilities.count > 2 else { return score >= threshold ? "1" : "0" }
    var best = 0
    for c in probabilities.indices where probabilities[c] > probabilities[best] { best = c }
    return String(best)
  }
}
