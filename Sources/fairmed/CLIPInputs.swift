import CLIP
import Data
import Foundation
import Tensor

/// Image and text inputs of the CLIP commands: decoding and CLIP preprocessing come from the data
/// module (Pillow-compatible resize; the model folder's `preprocessor_config.json` when present).
struct CLIPInputs {
  let model: CLIPModel
  let transform: ImageTransform

  init(modelDirectory: String) throws {
    model = try CLIPModel(directory: modelDirectory)
    model.setTraining(false)
    let pre = URL(fileURLWithPath: modelDirectory).appendingPathComponent("preprocessor_config.json").path
    transform = FileManager.default.fileExists(atPath: pre)
      ? try ImageTransform(preprocessorConfig: pre) : ImageTransform(size: model.config.vision.imageSize)
    guard transform.size == model.config.vision.imageSize else {
      throw CLIPFileError(file: pre, "crop size \(transform.size) differs from the model's image_size \(model.config.vision.imageSize)")
    }
  }

  /// `[B, 3, S, S]` model input for the images.
  func pixels(_ sources: [ImageSource]) throws -> Tensor {
    let s = transform.size
    var values: [Float] = []
    values.reserveCapacity(sources.count * 3 * s * s)
    var rng = SeededRNG(seed: 0)  // unused without augmentation
    for src in sources { values += transform(try src.load(), rng: &rng) }
    return try Tensor(values, shape: [sources.count, 3, s, s])
  }

  /// Normalised image features, `batchSize` images per forward pass.
  func imageFeatures(_ sources: [ImageSource], batchSize: Int) throws -> Tensor {
    try inBatches(sources.count, batchSize) { try model.imageFeatures(pixels(Array(sources[$0]))) }
  }
}

/// Runs `body` on consecutive ranges without gradients and stacks the results along axis 0.
func inBatches(_ n: Int, _ batchSize: Int, _ body: (Range<Int>) throws -> Tensor) throws -> Tensor {
  guard n > 0 else { throw CLIPFileError(file: "input", "nothing to encode") }
  return try withNoGrad {
    try concat(stride(from: 0, to: n, by: batchSize).map { try body($0..<min($0 + batchSize, n)) }, axis: 0)
  }
}

/// One RFC 4180 CSV field.
func csvField(_ s: String) -> String {
  s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
    ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
