import CLIP
import Foundation
import NN
import Tensor
import TestSupport
import Testing
@testable import Training

/// LoRA against PEFT (Scripts/fixtures/make_lora_fixtures.py: a tiny transformers.CLIPModel and
/// adapters `peft.get_peft_model` trained nothing into but initialised randomly).
@Suite struct LoRATests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/lora")
    .path
  let expected = try! SafetensorsFile(path: LoRATests.root + "/expected.safetensors")

  func ids() throws -> [[Int]] {
    let t = try expected.tensor("input_ids")
    return (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Int(t.pointer[r * t.shape[1] + $0]) } }
  }

  func features(_ model: CLIPModel) throws -> (Tensor, Tensor) {
    try withNoGrad {
      (
        try model.imageFeatures(expected.tensor("pixels"), normalized: false),
        try model.textFeatures(ids(), normalized: false)
      )
    }
  }

  @Test(arguments: [("adapter", "lora"), ("adapter_all", "lora_all")])
  func peftAdaptersLoadWithPEFTsOutputs(folder: String, name: String) throws {
    let model = try CLIPModel(directory: Self.root + "/base")
    let (baseImage, baseText) = try features(model)
    expectClose(baseImage, try expected.tensor("base_image"), atol: 1e-4, rtol: 0, "base image")
    expectClose(baseText, try expected.tensor("base_text"), atol: 1e-4, rtol: 0, "base text")
    try PEFTAdapter.load(into: model, from: Self.root + "/" + folder)
    let (image, text) = try features(model)
    expectClose(image, try expected.tensor(name + "_image"), atol: 1e-4, rtol: 0, "\(folder) image")
    expectClose(text, try expected.tensor(name + "_text"), atol: 1e-4, rtol: 0, "\(folder) text")
  }

  /// Merging folds scaling·B·A into the weights as PEFT's merge_and_unload does, and restores
  /// the base weights bit for bit afterwards.
  @Test func mergedWeightsEqualPEFTsMergeAndTheBaseIsRestored() throws {
    let model = try CLIPModel(directory: Self.root + "/base")
    try PEFTAdapter.load(into: model, from: Self.root + "/adapter")
    let before = model.namedParameters().map(\.tensor.scalars)
    let dir = NSTemporaryDirectory() + "fairmed-merged-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try model.withLoRAMerged { try model.save(directory: dir) }
    #expect(model.namedParameters().map(\.tensor.scalars) == before)
    let merged = try SafetensorsFile(path: dir + "/model.safetensors"),
      peft = try SafetensorsFile(path: Self.root + "/merged/model.safetensors")
    #expect(Set(merged.names) == Set(peft.names.filter { !$0.hasSuffix("position_ids") }))
    for name in merged.names { expectClose(try merged.tensor(name), try peft.tensor(name), atol: 1e-6, rtol: 0, name) }
    let (image, text) = try features(try CLIPModel(directory: dir))
    expectClose(image, try expected.tensor("lora_image"), atol: 1e-4, rtol: 0, "merged image")
    expectClose(text, try expected.tensor("lora_text"), atol: 1e-4, rtol: 0, "merged text")
  }

  /// FairMed's adapter folder has PEFT's tensor names and config fields, and reloads identically.
  @Test func savedAdapterHasPEFTsLayoutAndRoundTrips() throws {
    let model = try CLIPModel(directory: Self.root + "/base")
    let (baseImage, _) = try features(model)
    let config = LoRAConfig(rank: 4, alpha: 8, targets: ["q_proj", "v_proj", "fc1"])
    let adapted = try model.attachLoRA(config, seed: 1)
    #expect(adapted.count == 12)
    #expect(model.trainableParameters().allSatisfy { $0.path.contains(".lora_") })
    let (fresh, _) = try features(model)
    expectClose(fresh, baseImage, atol: 0, rtol: 0, "a new adapter (lora_B = 0) starts at the base model")
    for (_, t) in model.loraStateDict() where t.shape[1] == 4 {
      for i in 0..<t.count { t.pointer[i] = Float(i % 7) * 0.01 }
    }
    // FAIRMED_LORA_CHECK_DIR keeps the adapter and FairMed's outputs for
    // `make_lora_fixtures.py --check-adapter DIR` (PEFT loading what FairMed wrote).
    let keep = ProcessInfo.processInfo.environment["FAIRMED_LORA_CHECK_DIR"]
    let dir = keep ?? NSTemporaryDirectory() + "fairmed-adapter-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
    try PEFTAdapter.save(model, config: config, base: Self.root + "/base", to: dir)
    let (image, text) = try features(model)
    try Safetensors.write([("image", image), ("text", text)], to: dir + "/fairmed_outputs.safetensors")
    let ours = try SafetensorsFile(path: dir + "/adapter_model.safetensors"),
      theirs = try SafetensorsFile(path: Self.root + "/adapter/adapter_model.safetensors")
    #expect(ours.shapes == theirs.shapes)
    let (read, base) = try PEFTAdapter.readConfig(dir)
    #expect(read.rank == 4 && read.alpha == 8 && read.scaling == 2 && base == Self.root + "/base")
    let again = try CLIPModel(directory: Self.root + "/base")
    try PEFTAdapter.load(into: again, from: dir)
    let (a, b) = (try features(model), try features(again))
    #expect(a.0.scalars == b.0.scalars && a.1.scalars == b.1.scalars)
  }

  @Test func unsupportedAndMismatchedAdaptersAreRefused() throws {
    let model = try CLIPModel(directory: Self.root + "/base")
    #expect { try model.attachLoRA(LoRAConfig(rank: 2, targets: ["nonexistent"]), seed: 0) } throws: {
      "\($0)".contains("q_proj")
    }
    let dir = NSTemporaryDirectory() + "fairmed-bad-adapter-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ".*q_proj", "use_dora": true}"#
      .write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
    #expect { try PEFTAdapter.readConfig(dir) } throws: { "\($0)".contains("regex") && "\($0)".contains("use_dora") }
    // Right config, wrong rank in the tensors: every mismatch is named.
    try FileManager.default.removeItem(atPath: dir + "/adapter_config.json")
    let config = try String(contentsOfFile: Self.root + "/adapter/adapter_config.json", encoding: .utf8)
      .replacingOccurrences(of: "\"r\": 4", with: "\"r\": 3")
    try config.write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
    try FileManager.default.copyItem(
      atPath: Self.root + "/adapter/adapter_model.safetensors", toPath: dir + "/adapter_model.safetensors")
    #expect { try PEFTAdapter.load(into: try CLIPModel(directory: Self.root + "/base"), from: dir) } throws: {
      "\($0)".contains("wrong shape")
    }
  }

  @Test func loraOptionsAreCheckedByFlag() {
    var c = RunConfig(data: "ham10000:/nowhere")
    c.fromScratch = .tiny
    c.loraRank = 0
    c.loraDropout = 1
    c.mode = .lastK
    #expect { try c.validate() } throws: { e in
      let t = "\(e)"
      return t.contains("--lora must be a rank") && t.contains("--from-scratch") && t.contains("--lora-dropout")
        && t.contains("last-k")
    }
    var d = RunConfig(data: "ham10000:/nowhere")
    d.fromScratch = .tiny
    d.merge = true
    #expect { try d.validate() } throws: { "\($0)".contains("--merge needs --lora RANK") }
  }
}

/// LoRA training runs (slow: `Scripts/test --fast` skips them).
@Suite(.tags(.slow)) struct LoRATrainingTests {
  /// `fairmed train --lora` on an HF folder and on a BiomedCLIP-shaped open_clip folder: only the
  /// adapters change, best/ is a PEFT adapter that loads and predicts, `--merge` adds the full model.
  @Test(arguments: [false, true])
  func trainingWithLoRAChangesOnlyTheAdapters(openCLIP: Bool) throws {
    var config = TinyDerm.config(method: .cmacMMD, epochs: 1)
    config.fromScratch = nil
    config.model =
      openCLIP
      ? fixturePath("openclip/biomedclip_tiny", of: "CLIPTests")
      : fixturePath("hf_processor/model")
    config.loraRank = 4
    config.merge = openCLIP
    let run = TinyDerm.runDirectory("lora-\(openCLIP)")
    defer { try? FileManager.default.removeItem(atPath: run) }
    _ = try Trainer(config: config, runDirectory: run, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let adapterDir = run + "/best" + (openCLIP ? "/adapter" : "")
    #expect(PEFTAdapter.isAdapter(adapterDir))
    let adapter = try SafetensorsFile(path: adapterDir + "/adapter_model.safetensors")
    #expect(adapter.names.allSatisfy { $0.hasPrefix("base_model.model.") && $0.contains(".lora_") })
    #expect(adapter.names.contains { $0.hasSuffix((openCLIP ? "attn.qkv" : "q_proj") + ".lora_B.weight") })
    let bTrained = try adapter.names.filter { $0.contains("lora_B") }.contains {
      try adapter.tensor($0).scalars.contains { $0 != 0 }
    }
    #expect(bTrained, "lora_B left at zero: the adapters did not train")
    let prompts = try TrainingData.defaultPrompts(dataSpec: config.data, classNames: ["benign", "malignant"])
    let loaded = try CLIPClassifier.load(directory: adapterDir, prompts: prompts)
    #expect(!loaded.model.loraLayers().isEmpty)
    if openCLIP {
      let merged = try CLIPClassifier.load(directory: run + "/best", prompts: prompts)
      var g = SeededGenerator(seed: 9)
      let pixels = Tensor.randn([2, 3, 32, 32], std: 1, using: &g)
      let (a, b) = try withNoGrad {
        (try merged.model.imageFeatures(pixels).scalars, try loaded.model.imageFeatures(pixels).scalars)
      }
      #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 }, "merged and adapter models disagree")
    }
    let preds = try Predictor.run(model: run, data: config.data, prompts: nil, groups: nil, split: nil)
    #expect(!preds.ids.isEmpty && preds.scores.allSatisfy(\.isFinite))
  }

  /// A LoRA run stopped after one epoch and resumed ends with the adapter an uninterrupted run has.
  @Test func loraRunsResumeBitExactly() throws {
    var config = TinyDerm.config(method: .cmacMMD, epochs: 2)
    config.fromScratch = nil
    config.model = fixturePath("hf_processor/model")
    config.loraRank = 2
    config.loraDropout = 0.1
    let straight = TinyDerm.runDirectory("lora-straight"), resumed = TinyDerm.runDirectory("lora-resumed")
    defer { for d in [straight, resumed] { try? FileManager.default.removeItem(atPath: d) } }
    _ = try Trainer(config: config, runDirectory: straight, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let first = Trainer(config: config, runDirectory: resumed, log: try TrainingLog(metricsPath: nil, quiet: true))
    first.stopAfterEpochs = 1
    _ = try first.run()
    _ = try Trainer(config: config, runDirectory: resumed, log: TrainingLog(metricsPath: nil, quiet: true)).run(
      resume: true)
    func adapter(_ run: String) throws -> Data {
      try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint/adapter_model.safetensors"))
    }
    #expect(try adapter(straight) == adapter(resumed))
  }
}
