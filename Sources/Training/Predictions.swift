import Data
import Foundation
import Tensor

/// Per-sample predictions of a classifier on a dataset: P(class 1), the certainty margin on the
/// true label, and the pass-through columns the audit needs. No demographic attribute is used to
/// compute them.
public struct Predictions {
  public var ids: [String] = []
  public var labels: [Int] = []
  /// P(class 1) for binary tasks; for more classes, P(true positive class = 1) is still column 1.
  public var scores: [Double] = []
  public var margins: [Double] = []
  /// Subgroup key of each sample (for metrics; not an input of the model).
  public var groups: [String] = []
  public var attributes: [[String: String]] = []

  /// Runs the classifier over `dataset` in batches (decoding in parallel), or over `cached`
  /// pooled image-tower outputs.
  public static func compute(
    classifier: CLIPClassifier, dataset: Dataset, groupSpec: GroupSpec, transform: ImageTransform, batchSize: Int = 64,
    cached: Tensor? = nil, threads: Int? = nil
  ) throws -> Predictions {
    var out = Predictions()
    let batches = stride(from: 0, to: dataset.count, by: batchSize).map { Array($0..<min(dataset.count, $0 + batchSize)) }
    let loader = cached == nil ? BatchLoader(dataset: dataset, batches: batches, transform: transform, groups: groupSpec,
      threads: threads ?? ProcessInfo.processInfo.activeProcessorCount) : nil
    for idx in batches {
      let images: Tensor
      if let loader {
        guard let b = try loader.next() else { break }
        images = try Tensor(b.pixels, shape: [b.count, 3, b.size, b.size])
      } else {
        images = try cached!.indexSelect(axis: 0, indices: idx)
      }
      let samples = idx.map { dataset.samples[$0] }
      let labels = samples.map(\.label)
      let (probs, margins) = try classifier.predict(images, pooled: cached != nil, labels: labels)
      out.ids += samples.map(\.id)
      out.labels += labels
      out.scores += probs.map { Double($0.count > 1 ? $0[1] : $0[0]) }
      out.margins += margins.map(Double.init)
      out.groups += samples.map(groupSpec.key)
      out.attributes += samples.map(\.attributes)
    }
    return out
  }

  /// `id,label,prob,margin,group,<attributes…>` (RFC 4180 quoting), written atomically.
  public func writeCSV(to path: String) throws {
    let attrNames = Set(attributes.flatMap(\.keys)).sorted()
    var lines = [(["id", "label", "prob", "margin", "group"] + attrNames).map(Self.quote).joined(separator: ",")]
    for i in ids.indices {
      let fields = [ids[i], String(labels[i]), String(format: "%.6f", scores[i]), String(format: "%.6f", margins[i]), groups[i]]
        + attrNames.map { attributes[i][$0] ?? "" }
      lines.append(fields.map(Self.quote).joined(separator: ","))
    }
    try AtomicFile.write(Foundation.Data((lines.joined(separator: "\n") + "\n").utf8), to: path)
  }

  /// RFC 4180 quoting of one field.
  public static func quote(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
}
