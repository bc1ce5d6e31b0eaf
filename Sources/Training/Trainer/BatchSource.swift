import Fairness
import Datasets
import Foundation
import NN
import Support
import Tensor

/// One training batch as the model consumes it.
struct ModelBatch {
  /// Pixels `[N, 3, S, S]`, or cached pooled image-tower outputs `[N, width]`.
  let images: Tensor
  let labels: [Int]
  let groups: [String]
  let texts: [String]
}

/// Training batches in sampler order: decoded and augmented by the parallel ``BatchLoader``,
/// or gathered from the feature cache.
final class BatchSource {
  private let data: TrainingData
  private let batches: [[Int]]
  private let cache: Tensor?
  private let loader: BatchLoader?
  private var position = 0

  init(
    data: TrainingData, batches: [[Int]], cache: Tensor?, transform: ImageTransform, seed: UInt64, epoch: Int,
    threads: Int?
  ) {
    self.data = data
    self.batches = batches
    self.cache = cache
    loader =
      cache == nil
      ? BatchLoader(
        dataset: data.train, batches: batches, transform: transform, groups: data.groupSpec, seed: seed, epoch: epoch,
        threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
      : nil
  }

  func next() throws -> ModelBatch? {
    if let loader {
      guard let b = try loader.next() else { return nil }
      let images = try Tensor(b.pixels, shape: [b.count, 3, b.size, b.size])
      return ModelBatch(images: images, labels: b.labels, groups: b.groups, texts: b.texts.map { $0 ?? "" })
    }
    guard position < batches.count, let cache else { return nil }
    let idx = batches[position]
    position += 1
    let samples = idx.map { data.train.samples[$0] }
    return ModelBatch(
      images: try cache.indexSelect(axis: 0, indices: idx), labels: samples.map(\.label),
      groups: samples.map(data.groupSpec.key), texts: samples.map { $0.text ?? "" })
  }
}

/// Calls `body` with each of `batches` (rows of `dataset`, in order) as model input: pixels
/// decoded in parallel without augmentation, or the rows of `cached` pooled image-tower outputs.
func forEachEvaluationBatch(
  dataset: Dataset, batches: [[Int]], transform: ImageTransform, groups: GroupingSpec? = nil, cached: Tensor?,
  threads: Int?, _ body: (_ rows: [Int], _ images: Tensor) throws -> Void
) throws {
  let loader =
    cached == nil
    ? BatchLoader(
      dataset: dataset, batches: batches, transform: transform, groups: groups,
      threads: threads ?? ProcessInfo.processInfo.activeProcessorCount) : nil
  for rows in batches {
    if let loader {
      guard let b = try loader.next() else { return }
      try body(rows, try Tensor(b.pixels, shape: [b.count, 3, b.size, b.size]))
    } else if let cached {
      try body(rows, try cached.indexSelect(axis: 0, indices: rows))
    }
  }
}

/// Pooled image-tower outputs of whole datasets, computed once (no augmentation) and stored in
/// `feature_cache/<i>.safetensors` for reuse by resumed runs and a λ path's members. Training
/// with a frozen image tower then needs no image decoding at all. Each file carries the
/// ``key(classifier:dataset:transform:precision:)`` it was built for; a file with another key
/// (other weights, images, preprocessing or precision) is built again, never read.
enum FeatureCache {
  static func build(
    classifier: CLIPClassifier, datasets: [Dataset], transform: ImageTransform, precision: Precision,
    directory: String, threads: Int?, log: TrainingLog
  ) throws -> [Tensor] {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return try datasets.enumerated().map { i, ds in
      let path = "\(directory)/\(i).safetensors"
      let key = Self.key(classifier: classifier, dataset: ds, transform: transform, precision: precision)
      if let file = try? SafetensorsFile(path: path), file.metadata[Self.keyName] == key,
        let features = try? file.tensor("features"), features.shape.first == ds.count
      {
        return features
      }
      log.line("feature cache: encoding \(ds.count) images of \(ds.name)")
      let batches = stride(from: 0, to: ds.count, by: 64).map { Array($0..<min(ds.count, $0 + 64)) }
      let loader = BatchLoader(
        dataset: ds, batches: batches, transform: transform,
        threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
      var parts: [Tensor] = []
      while let b = try loader.next() {
        parts.append(try classifier.pooledImageOutputs(Tensor(b.pixels, shape: [b.count, 3, b.size, b.size])))
      }
      let all = try concat(parts, axis: 0)
      try Safetensors.write([("features", all)], metadata: [Self.keyName: key], to: path)
      return all
    }
  }

  /// The metadata entry holding a file's key.
  static let keyName = "fairmed_feature_key"

  /// What the features of `dataset` depend on, as a SHA-256: the frozen image tower's weights,
  /// the preprocessing, the precision and the images (ids and sources, in order; by path, not
  /// content — regenerating images in place under the same names needs a new folder).
  static func key(classifier: CLIPClassifier, dataset ds: Dataset, transform: ImageTransform, precision: Precision)
    -> String
  {
    var h = SHA256Hasher()
    func add(_ s: String) { h.update(Array(s.utf8) + [0]) }
    add("fairmed feature cache 1")
    add(transform.preprocessorConfigJSON())
    add(transform.cropRounding.rawValue)
    add(precision.rawValue)
    for s in ds.samples { add(s.id + "\t\(s.source)") }
    let prefixes = classifier.model.imageEncoderPrefixes
    for (path, t) in classifier.model.namedParameters().sorted(by: { $0.path < $1.path })
    where prefixes.contains(where: { path.hasPrefix($0) }) {
      add(path + "\(t.shape)")
      h.update(UnsafeRawBufferPointer(start: t.pointer, count: t.count * MemoryLayout<Float>.size))
    }
    return h.finalize().map { String(format: "%02x", $0) }.joined()
  }
}
