import Foundation
import NN
import Tensor
import TestSupport
import Testing

@testable import CLIP

let openCLIPFixtures = fixtures.appendingPathComponent("openclip").path
let biomedTiny = openCLIPFixtures + "/biomedclip_tiny"

/// Rows of a `[N, T]` id tensor stored as F32.
func idRows(_ t: Tensor) -> [[Int]] {
  (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Int(t.pointer[r * t.shape[1] + $0]) } }
}

/// Tiny random models built with open_clip_torch / timm / transformers by
/// Scripts/fixtures/make_openclip_fixtures.py: FairMed's features must equal open_clip's.
@Suite struct OpenCLIPTests {
  let biomedExpected = try! SafetensorsFile(path: biomedTiny + "/expected.safetensors")

  @Test func biomedCLIPShapedFolderEncodesAsOpenCLIP() throws {
    let loaded = try CLIPFolder.load(biomedTiny)
    let model = try #require(loaded.model as? OpenCLIPModel)
    #expect(
      model.vision
        == {
          var v = TimmViTConfig(
            width: 128, depth: 2, heads: 2, mlpWidth: 256, patchSize: 8, imageSize: 32, projectionDim: 64)
          v.projectionBias = false
          return v
        }())
    #expect(model.text.layers == 2 && model.text.heads == 2 && model.text.vocabSize == 600 && !model.text.hasPooler)
    let pixels = try biomedExpected.tensor("pixels")
    try withNoGrad {
      expectClose(
        try model.imageFeatures(pixels, normalized: false), try biomedExpected.tensor("image_features"),
        "image features")
      let ids = idRows(try biomedExpected.tensor("token_ids"))
      expectClose(
        try model.textFeatures(ids, normalized: false), try biomedExpected.tensor("text_features"), "text features")
      expectClose(
        try model.textFeatures(ids), try biomedExpected.tensor("text_features_normalized"), "normalised text features")
    }
    #expect(abs(model.logitScale.item() - (try biomedExpected.tensor("logit_scale")).item()) < 1e-6)
    #expect(loaded.preprocess?.mean == [0.48145466, 0.4578275, 0.40821073])
  }

  /// open_clip's tokenizer (BertTokenizer after its whitespace clean) gives the fixture's ids,
  /// truncation keeping [SEP] and padding with [PAD].
  @Test func biomedCLIPTokenizerMatchesOpenCLIP() throws {
    let loaded = try CLIPFolder.load(biomedTiny)
    let json =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: biomedTiny + "/expected.json")))
      as! [String: Any]
    let texts = json["texts"] as! [String], cleaned = json["cleaned_texts"] as! [String]
    let want = idRows(try biomedExpected.tensor("token_ids"))
    #expect(loaded.tokenizer.contextLength == 32)
    for (i, text) in texts.enumerated() {
      // ftfy (curly quotes → straight) is open_clip's own step; FairMed starts from its output there.
      let input = text.contains("“") ? cleaned[i] : text
      #expect(loaded.tokenizer([input])[0] == want[i], "text \(i): \(text)")
    }
  }

  @Test func binAndSafetensorsHoldTheSameWeights() throws {
    let bin = try TorchCheckpoint(path: biomedTiny + "/open_clip_pytorch_model.bin")
    let st = try SafetensorsFile(path: biomedTiny + "/open_clip_model.safetensors")
    #expect(bin.shapes == st.shapes)
    for (name, shape) in st.shapes {
      let a = Tensor.zeros(shape), b = Tensor.zeros(shape)
      try bin.read(name, into: a.pointer)
      try st.read(name, into: b.pointer)
      #expect(a.scalars == b.scalars, "\(name)")
    }
  }

  /// Saving writes open_clip's names and config back; the saved folder reloads to the same features.
  @Test func savedFolderIsOpenCLIPFormatAndRoundTrips() throws {
    let model = try CLIPFolder.load(biomedTiny).model
    // FAIRMED_OPENCLIP_CHECK_DIR keeps the folder and FairMed's features for
    // `make_openclip_fixtures.py --check-saved DIR` (open_clip opening what FairMed wrote).
    let keep = ProcessInfo.processInfo.environment["FAIRMED_OPENCLIP_CHECK_DIR"]
    let dir = keep ?? NSTemporaryDirectory() + "fairmed-openclip-\(UUID().uuidString)"
    defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
    try model.save(directory: dir)
    let (imageOut, textOut) = try withNoGrad {
      (
        try model.imageFeatures(biomedExpected.tensor("pixels"), normalized: false),
        try model.textFeatures(idRows(biomedExpected.tensor("token_ids")), normalized: false)
      )
    }
    try Safetensors.write(
      [("image_features", imageOut), ("text_features", textOut)], to: dir + "/fairmed_outputs.safetensors")
    let original = try SafetensorsFile(path: biomedTiny + "/open_clip_model.safetensors")
    let saved = try SafetensorsFile(path: dir + "/open_clip_model.safetensors")
    #expect(Set(saved.names) == Set(original.names))
    #expect(
      try Data(contentsOf: URL(fileURLWithPath: dir + "/open_clip_config.json"))
        == Data(contentsOf: URL(fileURLWithPath: biomedTiny + "/open_clip_config.json")))
    if !FileManager.default.fileExists(atPath: dir + "/vocab.txt") {
      try FileManager.default.copyItem(atPath: biomedTiny + "/vocab.txt", toPath: dir + "/vocab.txt")
    }
    let again = try CLIPFolder.load(dir).model
    let pixels = try biomedExpected.tensor("pixels")
    let (a, b) = try withNoGrad { (try again.imageFeatures(pixels).scalars, try model.imageFeatures(pixels).scalars) }
    #expect(a == b)
  }

  @Test func nativeOpenCLIPFolderLoadsAndSavesInOpenCLIPNames() throws {
    let dir = openCLIPFixtures + "/openclip_vit_tiny"
    let expected = try SafetensorsFile(path: dir + "/expected.safetensors")
    // Its 700-token vocabulary is no tokenizer's: without one the folder is refused, with one it loads.
    #expect { try CLIPFolder.load(dir) } throws: { "\($0)".contains("700-token vocabulary") }
    let withVocab = NSTemporaryDirectory() + "fairmed-native-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: withVocab, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: withVocab) }
    for (from, file) in [
      (dir, "open_clip_config.json"), (dir, "open_clip_model.safetensors"), (tinyCLIP, "vocab.json"),
      (tinyCLIP, "merges.txt"),
    ] {
      try FileManager.default.copyItem(atPath: from + "/" + file, toPath: withVocab + "/" + file)
    }
    let model = try #require(try CLIPFolder.load(withVocab).model as? CLIPModel)
    #expect(model.config.vision.numAttentionHeads == 2 && model.config.vision.hiddenAct == .quickGELU)
    try withNoGrad {
      expectClose(
        try model.imageFeatures(expected.tensor("pixels"), normalized: false), try expected.tensor("image_features"),
        "image")
      expectClose(
        try model.textFeatures(idRows(expected.tensor("token_ids")), normalized: false),
        try expected.tensor("text_features"), "text")
    }
    let exported = try model.openAIStateDict()
    let original = try SafetensorsFile(path: dir + "/open_clip_model.safetensors")
    #expect(Set(exported.map(\.0)) == Set(original.names))
    for (name, t) in exported { #expect(t.scalars == (try original.tensor(name)).scalars, "\(name)") }
  }

  /// A hub folder with both layouts' configs but only the Hugging Face weights opens as HF.
  @Test func folderWithOnlyHFWeightsOpensAsHF() throws {
    let dir = NSTemporaryDirectory() + "fairmed-both-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt"] {
      try FileManager.default.copyItem(atPath: tinyCLIP + "/" + file, toPath: dir + "/" + file)
    }
    try FileManager.default.copyItem(
      atPath: biomedTiny + "/open_clip_config.json", toPath: dir + "/open_clip_config.json")
    let model = try #require(try CLIPFolder.load(dir).model as? CLIPModel)
    #expect(model.format == .huggingFace)
  }

  @Test func unsupportedOpenCLIPSettingsAreRefusedByName() throws {
    let dir = NSTemporaryDirectory() + "fairmed-openclip-bad-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bad =
      #"{"model_cfg": {"embed_dim": 64, "vision_cfg": {"timm_model_name": "convnext_base", "timm_pool": "avg", "image_size": 32}, "text_cfg": {"hf_model_name": "x", "hf_pooler_type": "max_pooler"}}}"#
    try bad.write(toFile: dir + "/open_clip_config.json", atomically: true, encoding: .utf8)
    #expect {
      try OpenCLIPConfig(contentsOf: dir + "/open_clip_config.json")
    } throws: { e in
      let text = "\(e)"
      return text.contains("timm_pool 'avg'") && text.contains("convnext_base") && text.contains("max_pooler")
    }
    try FileManager.default.copyItem(atPath: biomedTiny + "/open_clip_config.json", toPath: dir + "/config-only.json")
    try FileManager.default.moveItem(atPath: dir + "/config-only.json", toPath: dir + "/open_clip_config.json.bak")
    try FileManager.default.removeItem(atPath: dir + "/open_clip_config.json")
    try FileManager.default.moveItem(atPath: dir + "/open_clip_config.json.bak", toPath: dir + "/open_clip_config.json")
    #expect { try CLIPFolder.load(dir) } throws: {
      "\($0)".contains("open_clip_model.safetensors or open_clip_pytorch_model.bin")
    }
  }
}

/// PyTorch checkpoints read by the restricted unpickler: the legitimate ones exactly, the
/// hostile ones refused with the reason named (fixtures from make_openclip_fixtures.py).
@Suite struct TorchCheckpointTests {
  let hostile = openCLIPFixtures + "/hostile"

  @Test(arguments: ["tensors.bin", "wrapped.pt"])
  func legitimateCheckpointsDecodeEveryLayout(file: String) throws {
    let ckpt = try TorchCheckpoint(path: hostile + "/legit/" + file)
    let json =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: hostile + "/legit/legit.json")))
      as! [String: Any]
    let cases = json["tensors"] as! [[String: Any]]
    #expect(ckpt.shapes.count == cases.count)
    for c in cases {
      let name = c["name"] as! String, shape = c["shape"] as! [Int],
        values = (c["values"] as! [NSNumber]).map(\.floatValue)
      #expect(ckpt.shapes[name] == shape, "\(name)")
      let t = Tensor.zeros(shape)
      try ckpt.read(name, into: t.pointer)
      #expect(t.scalars == values, "\(name)")
    }
  }

  @Test(arguments: [
    ("os_system.bin", "refused global posix.system"),
    ("reduce_payload.bin", "refused global __builtin__.eval"),
    ("missing_storage.bin", "data/7 is not in the archive"),
    ("short_storage.bin", "needs"),
    ("not_a_state_dict.bin", "no state dict"),
  ])
  func hostileCheckpointsAreRefusedWithTheReason(file: String, reason: String) {
    #expect {
      try TorchCheckpoint(path: hostile + "/" + file)
    } throws: { e in
      (e as? PickleError)?.problem.contains(reason) == true
    }
  }

  @Test func truncatedAndGarbageInputIsRefusedNotTrapped() throws {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: hostile + "/legit/tensors.bin")))
    let dir = NSTemporaryDirectory() + "fairmed-pickle-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for cut in stride(from: 0, to: bytes.count, by: 97) {
      let path = dir + "/cut.bin"
      try Data(bytes.prefix(cut)).write(to: URL(fileURLWithPath: path))
      #expect(throws: (any Error).self) { try TorchCheckpoint(path: path) }
    }
    // Raw pickles of every opcode byte followed by junk end in an error, never a trap.
    for op in 0...255 {
      var u = RestrictedUnpickler(data: [0x80, 2, UInt8(op), 0xFF, 0xFF, 0xFF, 0xFF, 0x2E], file: "junk")
      _ = try? u.load()
    }
    var deep = RestrictedUnpickler(
      data: [0x80, 2] + Array(repeating: 0x5D, count: 1000) + Array(repeating: 0x61, count: 999) + [0x2E], file: "deep")
    #expect { try deep.load() } throws: { "\($0)".contains("nest deeper") }
  }
}

/// WordPiece ids equal `transformers.BertTokenizer` (uncased and cased) on accents, CJK,
/// punctuation, controls, long words and literal special tokens.
@Suite struct WordPieceTests {
  @Test(arguments: ["uncased", "cased"])
  func idsMatchBertTokenizer(section: String) throws {
    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: openCLIPFixtures + "/wordpiece_cases.json"))) as! [String: Any]
    let base = try WordPieceTokenizer(directory: biomedTiny, contextLength: 512)
    let tok = try WordPieceTokenizer(vocabulary: base.vocabulary, lowercase: section == "uncased", contextLength: 512)
    let cases = json[section] as! [[String: Any]]
    #expect(cases.count >= 50)
    for c in cases {
      let text = c["text"] as! String, want = c["ids"] as! [Int]
      let got = [tok.clsID] + tok.encode(text) + [tok.sepID]
      #expect(
        got == want,
        "\(section) \(c["category"] ?? ""): \(text.debugDescription) → \(tok.tokens(got)) vs \(c["tokens"] ?? "")")
    }
  }

  @Test func savedTokenizerReloadsIdentically() throws {
    let tok = try WordPieceTokenizer(directory: biomedTiny, contextLength: 16)
    let dir = NSTemporaryDirectory() + "fairmed-wordpiece-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try tok.save(directory: dir)
    let again = try WordPieceTokenizer(directory: dir, contextLength: 16)
    #expect(
      again.vocabulary == tok.vocabulary && again.lowercase && again(["Naïve café, 中文!"]) == tok(["Naïve café, 中文!"]))
    #expect(throws: CLIPFileError.self) { try WordPieceTokenizer(vocabulary: ["a", "b"], contextLength: 8) }
  }
}

/// Tiny random transformers.CLIPModel folders with the exact non-size settings of MONET
/// (ViT-L/14, quick-GELU) and PubMedCLIP (ViT-B/32): FairMed loads them and matches transformers
/// (Scripts/fixtures/make_arch_fixtures.py).
@Suite struct ArchitectureShapeTests {
  @Test(arguments: ["monet_like", "pubmedclip_like"])
  func loadsAndMatchesTransformers(name: String) throws {
    let dir = fixtures.appendingPathComponent("arch/" + name).path
    let expected = try SafetensorsFile(path: dir + "/expected.safetensors")
    let model = try CLIPModel(directory: dir)
    #expect(model.config.vision.patchSize == (name == "monet_like" ? 14 : 32))
    try withNoGrad {
      expectClose(
        try model.imageFeatures(expected.tensor("pixels"), normalized: false), try expected.tensor("image_embeds"),
        "\(name) image")
      expectClose(
        try model.textFeatures(idRows(expected.tensor("input_ids")), normalized: false),
        try expected.tensor("text_embeds"), "\(name) text")
    }
  }
}

/// transformers 5 writes only tokenizer.json: its WordPiece vocabulary is read where a folder has
/// no vocab.txt, and a malformed one is refused naming the file.
@Suite struct TokenizerJSONVocabularyTests {
  @Test func tokenizerJSONGivesTheSameVocabularyAsVocabTxt() throws {
    let dir = NSTemporaryDirectory() + "fairmed-tokenizer-json-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for name in ["tokenizer.json", "tokenizer_config.json"] {
      try FileManager.default.copyItem(atPath: biomedTiny + "/" + name, toPath: dir + "/" + name)
    }
    let fromText = try WordPieceTokenizer(directory: biomedTiny, contextLength: 32)
    let fromJSON = try WordPieceTokenizer(directory: dir, contextLength: 32)
    #expect(fromJSON.vocabulary == fromText.vocabulary)
    #expect(fromJSON(["a dermoscopy image of a nevus"]) == fromText(["a dermoscopy image of a nevus"]))
    try #"{"model": {"type": "BPE", "vocab": {}}}"#.write(
      toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
    let error = try #require(throws: CLIPFileError.self) { try WordPieceTokenizer(directory: dir, contextLength: 32) }
    #expect(error.description.contains("tokenizer.json") && error.description.contains("'BPE'"))
    try #"{"model": {"type": "WordPiece", "vocab": {"[PAD]": 0, "[UNK]": 0}}}"#.write(
      toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
    let twice = try #require(throws: CLIPFileError.self) { try WordPieceTokenizer(directory: dir, contextLength: 32) }
    #expect(twice.description.contains("that no other token has"))
  }
}
