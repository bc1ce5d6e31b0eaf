import Foundation
import NN
import Tensor
import TestSupport
import Testing

@testable import CLIP

let tinyCLIP = fixtures.appendingPathComponent("tiny_clip").path

/// Reference tensors from Scripts/fixtures/make_tiny_clip.py (transformers.CLIPModel, eager).
let reference = try! SafetensorsFile(path: fixtures.appendingPathComponent("reference.safetensors").path)

/// The fixture's token rows, as the model consumes them.
func referenceIDs() throws -> [[Int]] {
  let t = try reference.tensor("input_ids")
  return (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Int(t.pointer[r * t.shape[1] + $0]) } }
}

let referenceTexts = ["a photo of a cat", "a dermoscopy image of a malignant lesion on the left arm", "benign"]

@Suite struct CLIPModelTests {
  @Test func tokenizerFromVocabJSONMatchesHF() throws {
    let tok = try CLIPTokenizer(vocabJSON: tinyCLIP + "/vocab.json", merges: tinyCLIP + "/merges.txt")
    tok.contextLength = 12
    #expect(tok(referenceTexts) == (try referenceIDs()))
    let config = try CLIPConfig(contentsOf: tinyCLIP + "/config.json")
    let folder = try CLIPTokenizer(modelDirectory: tinyCLIP, config: config)
    let expected = try referenceIDs()
    #expect(folder.contextLength == 12 && folder(referenceTexts) == expected)
    // A folder without tokenizer files and a non-OpenAI vocabulary size is a clear error.
    #expect(throws: CLIPFileError.self) { try CLIPTokenizer(modelDirectory: "/nonexistent", config: config) }
  }

  @Test func forwardMatchesTransformers() throws {
    let model = try CLIPModel(directory: tinyCLIP)
    let pixels = try reference.tensor("pixel_values"), ids = try referenceIDs()
    try withNoGrad {
      expectClose(try model.visionModel(pixels), try reference.tensor("vision_pooled"), "vision pooled")
      expectClose(try model.textModel(ids), try reference.tensor("text_pooled"), "text pooled")
      let img = try model.imageFeatures(pixels), txt = try model.textFeatures(ids)
      expectClose(img, try reference.tensor("image_embeds"), "image features")
      expectClose(txt, try reference.tensor("text_embeds"), "text features")
      expectClose(
        try model.logits(imageFeatures: img, textFeatures: txt), try reference.tensor("logits_per_image"), "logits")
      let loss = try model.contrastiveLoss(imageFeatures: img, textFeatures: txt)
      expectClose(try loss.reshaped([1]), try reference.tensor("loss"), "loss")
    }
  }

  @Test func gradientsMatchTransformers() throws {
    let model = try CLIPModel(directory: tinyCLIP)
    let loss = try model.contrastiveLoss(
      imageFeatures: model.imageFeatures(reference.tensor("pixel_values")),
      textFeatures: model.textFeatures(referenceIDs()))
    try loss.backward()
    let names = reference.names.filter { $0.hasPrefix("grad.") }
    #expect(names.count >= 10)
    for name in names {
      let path = String(name.dropFirst(5))
      guard let p = model.parameter(path) else {
        Issue.record("no parameter \(path)")
        continue
      }
      guard let g = p.grad else {
        Issue.record("no gradient for \(path)")
        continue
      }
      expectClose(try g.reshaped(p.shape), try reference.tensor(name).reshaped(p.shape), "grad \(path)")
    }
  }

  @Test func fineTuningStepsLowerTheLossAndRespectFreezing() throws {
    let model = try CLIPModel(directory: tinyCLIP)
    #expect(
      model.freeze(prefix: "text_model") == model.namedParameters().filter { $0.path.hasPrefix("text_model.") }.count)
    let frozen = model.textModel.namedParameters().map { $0.tensor.scalars }
    let params = model.trainableParameters()
    let opt = AdamW(parameters: params, weightDecay: 0.1)
    let schedule = LRSchedule.warmupCosine(peak: 3e-3, warmup: 2, total: 12)
    let pixels = try reference.tensor("pixel_values"), ids = try referenceIDs()
    var losses: [Float] = []
    for step in 0..<12 {
      opt.zeroGrad()
      let loss = try model.contrastiveLoss(
        imageFeatures: model.imageFeatures(pixels), textFeatures: model.textFeatures(ids))
      losses.append(loss.item())
      try loss.backward()
      let (_, scale) = GradientClipping.scale(params, maxNorm: 1)
      opt.step(lr: schedule(step), gradScale: scale)
    }
    #expect(losses.last! < losses.first! * 0.5, "losses \(losses)")
    #expect(model.textModel.namedParameters().map { $0.tensor.scalars } == frozen)
    #expect(model.textModel.namedParameters().allSatisfy { $0.tensor.grad == nil })
  }

  @Test func shardsAndLegacyInt64PositionIDsLoad() throws {
    // A second shard holding what older transformers saved: `position_ids` buffers as I64.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-shard-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var header = #"{"text_model.embeddings.position_ids":{"dtype":"I64","shape":[1,12],"data_offsets":[0,96]},"#
    header += #""vision_model.embeddings.position_ids":{"dtype":"I64","shape":[1,17],"data_offsets":[96,232]}}"#
    var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
    for i in Array(0..<12) + Array(0..<17) { bytes += withUnsafeBytes(of: Int64(i).littleEndian) { Array($0) } }
    let shard = dir.appendingPathComponent("model-00002-of-00002.safetensors").path
    try Data(bytes).write(to: URL(fileURLWithPath: shard))
    try FileManager.default.copyItem(
      atPath: tinyCLIP + "/model.safetensors",
      toPath: dir.appendingPathComponent("model-00001-of-00002.safetensors").path)
    try FileManager.default.copyItem(
      atPath: tinyCLIP + "/config.json", toPath: dir.appendingPathComponent("config.json").path)
    let index =
      #"{"weight_map": {"logit_scale": "model-00001-of-00002.safetensors", "text_model.embeddings.position_ids": "model-00002-of-00002.safetensors"}}"#
    try index.write(to: dir.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
    let sharded = try CLIPModel(directory: dir.path)
    let single = try CLIPModel(directory: tinyCLIP)
    #expect(sharded.namedParameters().map { $0.tensor.scalars } == single.namedParameters().map { $0.tensor.scalars })
    #expect(
      try SafetensorsFile(path: shard).tensor("vision_model.embeddings.position_ids").scalars
        == (0..<17).map(Float.init))
  }

  @Test func poolingFollowsTransformers() throws {
    var config = try CLIPConfig(contentsOf: tinyCLIP + "/config.json")
    let model = CLIPModel(config: config, seed: nil)
    #expect(model.textModel.poolPositions([[662, 5, 663, 663], [662, 663, 0, 0], [662, 5, 6, 7]]) == [2, 1, 0])
    config.text.eosTokenID = 2  // legacy configs: argmax of the ids (first occurrence)
    let legacy = CLIPModel(config: config, seed: nil)
    #expect(legacy.textModel.poolPositions([[49406, 320, 49407, 49407], [49406, 49407, 0, 0]]) == [2, 1])
  }

  @Test func openAINamingLoadsTheSameWeights() throws {
    let hf = try CLIPModel(directory: tinyCLIP)
    let oa = CLIPModel(config: hf.config, seed: nil)
    try oa.loadWeights(safetensors: fixtures.appendingPathComponent("openai_naming.safetensors").path)
    for (a, b) in zip(hf.namedParameters(), oa.namedParameters()) {
      #expect(a.path == b.path && a.tensor.scalars == b.tensor.scalars, "\(a.path)")
    }
    // Without config.json the architecture is inferred from the shapes (heads = width / 64 → 1).
    let shapes = try SafetensorsFile(path: fixtures.appendingPathComponent("openai_naming.safetensors").path).shapes
    let inferred = try CLIPConfig.inferred(fromOpenAI: shapes)
    #expect(inferred.vision.hiddenSize == 32 && inferred.vision.patchSize == 4 && inferred.vision.imageSize == 16)
    #expect(inferred.vision.numHiddenLayers == 2 && inferred.text.numHiddenLayers == 2)
    #expect(inferred.text.maxPositionEmbeddings == 12 && inferred.text.vocabSize == 664 && inferred.projectionDim == 16)
  }

  @Test func saveLoadRoundTripIsBitExactWithHFNames() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-clip-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = try CLIPModel(directory: tinyCLIP)
    try model.save(directory: dir.path)
    // For the cross-check with transformers: FAIRMED_KEEP_SAVED=DIR swift test ..., then
    // python3 Scripts/fixtures/make_tiny_clip.py --check DIR
    if let keep = ProcessInfo.processInfo.environment["FAIRMED_KEEP_SAVED"] { try model.save(directory: keep) }
    let again = try CLIPModel(directory: dir.path)
    #expect(again.config == model.config)
    for (a, b) in zip(model.namedParameters(), again.namedParameters()) {
      #expect(a.path == b.path && a.tensor.scalars.map(\.bitPattern) == b.tensor.scalars.map(\.bitPattern))
    }
    let ours = try SafetensorsFile(path: dir.appendingPathComponent("model.safetensors").path).shapes
    let theirs = try SafetensorsFile(path: tinyCLIP + "/model.safetensors").shapes
    #expect(ours == theirs)
  }

  @Test func mismatchedCheckpointListsEverything() throws {
    var config = try CLIPConfig(contentsOf: tinyCLIP + "/config.json")
    config.vision.numHiddenLayers = 3
    config.text.intermediateSize = 50
    let model = CLIPModel(config: config, seed: nil)
    do {
      try model.loadWeights(safetensors: tinyCLIP + "/model.safetensors")
      Issue.record("expected a StateDictError")
    } catch let e as StateDictError {
      #expect(e.missing.count == 16)  // every tensor of vision layer 2
      #expect(e.missing.allSatisfy { $0.name.hasPrefix("vision_model.encoder.layers.2.") })
      #expect(e.wrongShape.count == 6)  // fc1.weight, fc1.bias, fc2.weight in 2 text layers
      #expect(
        e.wrongShape.contains {
          $0.name == "text_model.encoder.layers.0.mlp.fc1.weight" && $0.expected == [50, 24] && $0.found == [48, 24]
        })
      #expect(e.unexpected.isEmpty)
    }
  }

  @Test func randomInitFollowsCLIPScheme() {
    let config = try! CLIPConfig(contentsOf: tinyCLIP + "/config.json")
    let a = CLIPModel(config: config, seed: 3), b = CLIPModel(config: config, seed: 3)
    #expect(a.namedParameters().map { $0.tensor.scalars } == b.namedParameters().map { $0.tensor.scalars })
    func std(_ t: Tensor) -> Float {
      let v = t.scalars, m = v.reduce(0, +) / Float(v.count)
      return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count)).squareRoot()
    }
    // HF: q/k/v std = width^-0.5 · (2·layers)^-0.5; fc1 std = (2·width)^-0.5; token std 0.02.
    let q = a.parameter("vision_model.encoder.layers.0.self_attn.q_proj.weight")!
    #expect(abs(std(q) - 1 / Float(32).squareRoot() / 2) < 0.02)
    #expect(abs(std(a.parameter("text_model.encoder.layers.1.mlp.fc1.weight")!) - 1 / Float(48).squareRoot()) < 0.02)
    #expect(abs(std(a.parameter("text_model.embeddings.token_embedding.weight")!) - 0.02) < 0.003)
    #expect(a.parameter("vision_model.pre_layrnorm.weight")!.scalars.allSatisfy { $0 == 1 })
    #expect(a.parameter("text_model.encoder.layers.0.self_attn.q_proj.bias")!.scalars.allSatisfy { $0 == 0 })
    #expect(abs(a.logitScale.item() - 2.6592) < 1e-6)
    #expect(
      a.parameterCount
        == (try! SafetensorsFile(path: tinyCLIP + "/model.safetensors")).entries.reduce(0) {
          $0 + $1.shape.reduce(1, *)
        })
  }
}
