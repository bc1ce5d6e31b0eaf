import CLIP
import Datasets
import Fairness
import Foundation
import Testing
@testable import Training

/// A tiny CLIP with non-default preprocessing, saved by transformers with its processor
/// (Scripts/fixtures/make_hf_folder_fixtures.py): FairMed reads the processor file, predicts
/// what transformers predicts, and saves a folder that keeps that preprocessing.
@Suite struct HFFolderTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Fixtures/hf_processor")

  struct Expected: Decodable {
    struct Image: Decodable { let id: String; let prob: Double; let pixel_first8: [Double] }
    let prompts: [String]
    let images: [Image]
  }

  static func expected() throws -> Expected {
    try JSONDecoder().decode(Expected.self, from: Data(contentsOf: root.appendingPathComponent("expected.json")))
  }

  static func predict(_ classifier: CLIPClassifier) throws -> Predictions {
    let data = try DatasetKind.load("manifest:" + root.appendingPathComponent("manifest.csv").path)
    return try Predictions.compute(
      classifier: classifier, dataset: data, groupSpec: .sexAge, transform: classifier.preprocessing)
  }

  @Test func probabilitiesMatchTransformersWithTheFoldersPreprocessing() throws {
    let e = try Self.expected()
    let classifier = try CLIPClassifier.load(
      directory: Self.root.appendingPathComponent("model").path, prompts: e.prompts)
    #expect(classifier.preprocessing.size == 32 && classifier.preprocessing.resizeShortestSide == 40)
    #expect(classifier.preprocessing.mean == [0.5, 0.5, 0.5] && classifier.preprocessing.std == [0.25, 0.25, 0.25])
    let preds = try Self.predict(classifier)
    for (i, image) in e.images.enumerated() {
      #expect(preds.ids[i] == image.id)
      #expect(abs(preds.scores[i] - image.prob) < 2e-3, "\(image.id): \(preds.scores[i]) vs transformers \(image.prob)")
    }
    // The first pixels of the first image pin resize, crop offset (rounded down) and normalisation.
    let img = try ImageCodec.decode(file: Self.root.appendingPathComponent(e.images[0].id).path)
    var rng = SeededRNG(seed: 0)
    let pixels = classifier.preprocessing(img, rng: &rng)
    for (a, b) in zip(pixels.prefix(8), e.images[0].pixel_first8) { #expect(abs(Double(a) - b) < 2e-2) }
  }

  @Test func savedFolderIsCompleteAndKeepsThePreprocessing() throws {
    let e = try Self.expected()
    let original = try CLIPClassifier.load(
      directory: Self.root.appendingPathComponent("model").path, prompts: e.prompts)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hf-save-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try original.save(directory: dir)
    for file in [
      "config.json", "model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json",
      "tokenizer_config.json", "special_tokens_map.json",
    ] {
      #expect(FileManager.default.fileExists(atPath: dir + "/" + file), "saved folder lacks \(file)")
    }
    let reloaded = try CLIPClassifier.load(directory: dir, prompts: e.prompts)
    #expect(reloaded.preprocessing.size == original.preprocessing.size)
    #expect(reloaded.preprocessing.resizeShortestSide == original.preprocessing.resizeShortestSide)
    #expect(
      reloaded.preprocessing.mean == original.preprocessing.mean
        && reloaded.preprocessing.std == original.preprocessing.std)
    #expect(reloaded.preprocessing.filter == original.preprocessing.filter)
    #expect(try Self.predict(reloaded).scores == Self.predict(original).scores)
    let processor =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/preprocessor_config.json")))
      as? [String: Any]
    #expect(processor?["image_processor_type"] as? String == "CLIPImageProcessor")
    let special =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/special_tokens_map.json")))
      as? [String: String]
    #expect(special?["bos_token"] == "<|startoftext|>" && special?["eos_token"] == "<|endoftext|>")
  }
}
