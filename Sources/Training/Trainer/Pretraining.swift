import CLIP
import Datasets
import Foundation
import Support
import Tensor

/// A pretraining run's validation of one epoch: CLIP's symmetric InfoNCE (``CLIPLoss``, the
/// training loss) and top-1 retrieval in both directions, over the validation pairs in fixed
/// chunks of the batch size.
public struct PretrainingMetrics: Codable, Equatable, Sendable {
  /// Mean symmetric InfoNCE over the chunks (lower is better; the selection criterion).
  public var loss: Double
  /// Share of images whose own caption is the most similar text of their chunk.
  public var imageToText: Double
  /// Share of captions whose own image is the most similar image of their chunk.
  public var textToImage: Double
  /// Image–caption pairs scored (whole chunks of ``chunk``).
  public var pairs: Int
  /// Candidates per chunk: the run's batch size, or the whole set when it is smaller.
  public var chunk: Int
}

/// Validation of a pretraining run.
enum PretrainingValidation {
  /// The validation set in order, in chunks of `batchSize` pairs; a remainder shorter than a
  /// chunk is left out (InfoNCE and retrieval depend on the number of candidates, so every chunk
  /// has the same). The same pairs and chunks every epoch, with no augmentation and no graph.
  static func compute(
    classifier: CLIPClassifier, dataset: Dataset, transform: ImageTransform, batchSize: Int, cached: Tensor?,
    threads: Int?
  ) throws -> PretrainingMetrics {
    let size = min(batchSize, dataset.count)
    guard size >= 2 else {
      throw TrainingError.data(
        "\(dataset.name): pretraining validation needs at least 2 image–caption pairs, got \(dataset.count)")
    }
    let batches = (0..<(dataset.count / size)).map { Array(($0 * size)..<(($0 + 1) * size)) }
    var loss = 0.0, imageHits = 0, textHits = 0
    try withNoGrad {
      try forEachEvaluationBatch(
        dataset: dataset, batches: batches, transform: transform, cached: cached, threads: threads
      ) { idx, images in
        let v = try classifier.imageFeatures(images, pooled: cached != nil)
        let w = try classifier.model.textFeatures(classifier.tokenizer(idx.map { dataset.samples[$0].text ?? "" }))
        loss += Double(try CLIPLoss.contrastive(images: v, texts: w, logitScale: classifier.model.logitScale).item())
        let z = try matmul(v, w, transposeB: true).scalars
        let n = idx.count
        for i in 0..<n {
          if (0..<n).max(by: { z[i * n + $0] < z[i * n + $1] }) == i { imageHits += 1 }
          if (0..<n).max(by: { z[$0 * n + i] < z[$1 * n + i] }) == i { textHits += 1 }
        }
      }
    }
    let pairs = batches.count * size
    return PretrainingMetrics(
      loss: loss / Double(batches.count), imageToText: Double(imageHits) / Double(pairs),
      textToImage: Double(textHits) / Double(pairs), pairs: pairs, chunk: size)
  }
}

extension Trainer {
  /// The file in `best/` that records the selected epoch's validation.
  static let pretrainingValidationFile = "pretraining_validation.json"

  /// One batch's pretraining loss: CLIP's symmetric InfoNCE between the images and their own
  /// captions over the global batch (every rank's shard gathered), with the learnable
  /// temperature.
  func pretrainingLoss(_ s: Session, _ batch: ModelBatch) throws -> MethodLoss {
    let loss = try Self.pretrainingLoss(
      classifier: s.classifier, images: batch.images, texts: batch.texts, pooled: s.cache != nil, parallel: parallel)
    let tau = Double(try CLIPLoss.temperature(s.classifier.model.logitScale).item())
    return MethodLoss(total: loss, logs: ["l_clip": Double(loss.item()), "temperature": tau])
  }

  /// The pretraining loss of this rank's shard (`images`, pixels or pooled cached outputs, and
  /// their `texts`) against the whole global batch that `parallel` gathers.
  public static func pretrainingLoss(
    classifier: CLIPClassifier, images: Tensor, texts: [String], pooled: Bool, parallel: DataParallel
  ) throws -> Tensor {
    let e = try classifier.encode(images: images, pooled: pooled, texts: texts)
    guard let w = e.texts else { throw TrainingError.data("pretraining: the batch's captions were not encoded") }
    return try CLIPLoss.contrastive(
      images: parallel.gather(e.images), texts: parallel.gather(w),
      logitScale: parallel.replicated(classifier.model.logitScale))
  }

  /// Validation by InfoNCE and retrieval, selection of the lowest validation InfoNCE (`best/`,
  /// a complete model folder), the checkpoint and the epoch's log line.
  func endPretrainingEpoch(_ s: Session) throws {
    let m = try PretrainingValidation.compute(
      classifier: s.classifier, dataset: s.data.val, transform: s.evalTransform, batchSize: config.batchSize,
      cached: s.cache?[1], threads: config.loaderThreads)
    guard m.loss.isFinite else { throw nonFinite(s, "validation InfoNCE is \(m.loss)") }
    s.state.pretrainingHistory.append(m)
    s.state.epoch += 1
    if s.state.bestEpoch.map({ m.loss < s.state.pretrainingHistory[$0 - 1].loss }) ?? true {
      s.state.bestEpoch = s.state.epoch
      if parallel.world.isLeader {
        try AtomicWrite.directory(bestDirectory) { dir in
          try s.classifier.save(directory: dir)
          let enc = JSONEncoder()
          enc.outputFormatting = [.prettyPrinted, .sortedKeys]
          try AtomicWrite.file(
            try enc.encode(["epoch": Double(s.state.epoch)].merging(Self.pretrainingFields(m)) { a, _ in a }),
            to: dir + "/" + Self.pretrainingValidationFile)
        }
      }
    }
    if parallel.world.isLeader {
      try Checkpoint.save(
        to: checkpointDirectory, classifier: s.classifier, optimizers: s.optimizers, method: s.method, state: s.state,
        config: config)
    }
    var record: [String: Any] = ["kind": "epoch", "epoch": s.state.epoch, "step": s.state.step]
    record["selected_epoch"] = s.state.bestEpoch ?? 0
    for (k, v) in Self.pretrainingFields(m) { record["val_" + k] = v }
    log.record(record)
    log.line(
      String(
        format: "epoch %d/%d  val InfoNCE %.4f  top-1 image→text %.3f  text→image %.3f (%d pairs, chunks of %d)%@",
        s.state.epoch, config.epochs, m.loss, m.imageToText, m.textToImage, m.pairs, m.chunk,
        s.state.bestEpoch == s.state.epoch ? "  ← selected" : ""))
  }

  static func pretrainingFields(_ m: PretrainingMetrics) -> [String: Double] {
    [
      "infonce": m.loss, "image_to_text_top1": m.imageToText, "text_to_image_top1": m.textToImage,
      "pairs": Double(m.pairs), "chunk": Double(m.chunk),
    ]
  }
}
