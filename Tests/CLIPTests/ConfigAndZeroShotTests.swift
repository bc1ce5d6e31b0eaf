import Foundation
import NN
import Tensor
import TestSupport
import Testing

@testable import CLIP

@Suite struct ConfigTests {
  func parse(_ json: String) throws -> CLIPConfig {
    let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    return try CLIPConfig(json: obj)
  }

  @Test func readsTheFixtureAndDefaults() throws {
    let c = try CLIPConfig(contentsOf: tinyCLIP + "/config.json")
    #expect(c.vision.hiddenSize == 32 && c.vision.patchSize == 4 && c.vision.gridSize == 4)
    #expect(c.vision.hiddenAct == .quickGELU && c.text.hiddenAct == .gelu)
    #expect(c.text.eosTokenID == 663 && c.projectionDim == 16 && abs(c.logitScaleInitValue - 2.6592) < 1e-6)
    let minimal = try parse(
      #"""
      {"vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12, "patch_size": 16},
       "text_config": {"hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8, "num_hidden_layers": 12, "hidden_act": "gelu_pytorch_tanh"}}
      """#)
    #expect(minimal.vision.imageSize == 224 && minimal.vision.gridSize == 14 && minimal.text.vocabSize == 49408)
    #expect(minimal.text.eosTokenID == 49407 && minimal.text.hiddenAct == .geluNew && minimal.projectionDim == 512)
  }

  @Test func reportsEveryProblemAtOnce() throws {
    do {
      _ = try parse(
        #"""
        {"vision_config": {"hidden_size": 30, "intermediate_size": "big", "num_attention_heads": 4, "hidden_act": "swish", "image_size": 30, "patch_size": 4},
         "projection_dim": 0}
        """#)
      Issue.record("expected an error")
    } catch let e as CLIPConfigError {
      let all = e.problems.joined(separator: "\n")
      #expect(all.contains("missing text_config"))
      #expect(all.contains("missing vision_config.num_hidden_layers"))
      #expect(all.contains("vision_config.intermediate_size must be an integer"))
      #expect(all.contains("hidden_act swish is not supported"))
      #expect(all.contains("image_size 30 is not a multiple of patch_size 4"))
      #expect(all.contains("hidden_size 30 is not divisible by num_attention_heads 4"))
      #expect(all.contains("projection_dim must be positive"))
    }
    let notObject = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).json")
    try "[1]".write(to: notObject, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: notObject) }
    #expect(throws: CLIPConfigError.self) { try CLIPConfig(contentsOf: notObject.path) }
    #expect(throws: CLIPConfigError.self) { try CLIPConfig(contentsOf: "/nonexistent/config.json") }
  }

  /// A value of the wrong JSON type is named by its type: "got 96" for the string "96" read as
  /// if it were a number (issue 24).
  @Test func wrongJSONTypesAreNamedByType() throws {
    let tower = #""intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2"#
    do {
      _ = try parse(
        """
        {"vision_config": {"hidden_size": "96", \(tower), "image_size": true, "patch_size": [4]},
         "text_config": {"hidden_size": null, \(tower), "layer_norm_eps": "1e-5", "vocab_size": {"n": 3}},
         "projection_dim": 16.5}
        """)
      Issue.record("expected an error")
    } catch let e as CLIPConfigError {
      let all = e.problems.joined(separator: "\n")
      #expect(
        all.contains(#"vision_config.hidden_size must be an integer of at most 16777216, got the string "96""#),
        "\(all)")
      #expect(
        all.contains("vision_config.image_size must be an integer of at most 16777216, got the boolean true"), "\(all)")
      #expect(
        all.contains("vision_config.patch_size must be an integer of at most 16777216, got an array of 1 value"),
        "\(all)")
      #expect(all.contains("text_config.hidden_size must be an integer of at most 16777216, got null"), "\(all)")
      #expect(all.contains(#"text_config.layer_norm_eps must be a finite number, got the string "1e-5""#), "\(all)")
      #expect(all.contains("text_config.vocab_size must be an integer of at most 16777216, got an object"), "\(all)")
      #expect(all.contains("projection_dim must be an integer of at most 16777216, got the number 16.5"), "\(all)")
    }
    do {
      _ = try parse(#"{"vision_config": "big", "text_config": {}}"#)
      Issue.record("expected an error")
    } catch let e as CLIPConfigError {
      #expect(e.problems.contains(#"vision_config must be an object, got the string "big""#), "\(e.problems)")
    }
  }

  @Test func writtenConfigReadsBack() throws {
    let c = try CLIPConfig(contentsOf: tinyCLIP + "/config.json")
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try c.write(to: path)
    #expect(try CLIPConfig(contentsOf: path) == c)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("\"initializer_factor\": 1.0") && text.contains("\"layer_norm_eps\": 1e-05"))
  }
}

@Suite struct ZeroShotTests {
  @Test func classEmbeddingsAverageNormalisedPrompts() throws {
    let model = try CLIPModel(directory: tinyCLIP)
    let tok = try CLIPTokenizer(vocabJSON: tinyCLIP + "/vocab.json", merges: tinyCLIP + "/merges.txt")
    tok.contextLength = 12
    let prompts = [["a photo of a cat", "a cat"], ["a malignant lesion", "a photo of a malignant lesion", "cancer"]]
    let zs = try ZeroShotClassifier(model: model, tokenizer: tok, prompts: prompts)
    #expect(zs.classEmbeddings.shape == [2, 16])
    for (c, p) in prompts.enumerated() {
      let e = try withNoGrad { try model.textFeatures(tok(p)) }
      var mean = [Float](repeating: 0, count: 16)
      for r in 0..<p.count { for j in 0..<16 { mean[j] += e.pointer[r * 16 + j] / Float(p.count) } }
      let norm = mean.map { $0 * $0 }.reduce(0, +).squareRoot()
      expectClose(
        try zs.classEmbeddings.narrow(axis: 0, start: c, length: 1).reshaped([16]),
        Tensor(mean.map { $0 / norm }), atol: 1e-6, rtol: 0, "class \(c)")
    }
    let img = try withNoGrad { try model.imageFeatures(reference.tensor("pixel_values")) }
    let probs = try zs.probabilities(img)
    #expect(probs.shape == [3, 2])
    for r in 0..<3 { #expect(abs(probs.pointer[2 * r] + probs.pointer[2 * r + 1] - 1) < 1e-5) }
    let sims = try zs.similarities(img)
    let margins = try zs.margins(img, labels: [0, 1, 1])
    #expect(abs(margins[0] - (sims.pointer[0] - sims.pointer[1])) < 1e-6)
    #expect(abs(margins[1] - (sims.pointer[3] - sims.pointer[2])) < 1e-6)
    #expect(throws: (any Error).self) { try ZeroShotClassifier(model: model, tokenizer: tok, prompts: [[], ["x"]]) }
  }
}

/// A tokenizer id past the model's embedding table is refused when the folder loads, naming the
/// tokenizer file and the token (it used to surface only at encode time as "Embedding: id … is
/// outside the table", naming neither).
@Suite struct TokenizerTableTests {
  @Test func aVocabularyIdPastTheEmbeddingTableIsRefusedAtLoad() throws {
    let dir = NSTemporaryDirectory() + "fairmed-sparse-vocab-\(UUID().uuidString)"
    try FileManager.default.copyItem(atPath: tinyCLIP, toPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var vocab =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/vocab.json")))
      as! [String: Int]
    let (token, _) = vocab.first { $0.value == 5 }!
    vocab[token] = 70_000  // as many tokens as before, one id past the 664-row table
    try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
    let error = try #require(throws: CLIPFileError.self) { try CLIPFolder.load(dir) }
    #expect(
      error.description.contains(dir + "/vocab.json") && error.description.contains(token.debugDescription)
        && error.description.contains("70000") && error.description.contains("664 rows"), "\(error)")
  }
}
