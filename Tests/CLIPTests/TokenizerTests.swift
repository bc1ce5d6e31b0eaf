import Foundation
import Testing

@testable import CLIP

/// Fixture folder next to this file.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The OpenAI vocabulary shipped in the open_clip_torch wheel, loaded once.
let openAIVocabulary = CLIPTokenizer.bundledVocabularyPath

struct TokenizerCase: Decodable {
  let text: String
  let hf: [Int]
  let openai: [Int]?
}

func loadCases() throws -> [TokenizerCase] {
  struct File: Decodable { let cases: [TokenizerCase] }
  let data = try Data(contentsOf: fixtures.appendingPathComponent("tokenizer_cases.json"))
  return try JSONDecoder().decode(File.self, from: data).cases
}

@Suite struct TokenizerTests {
  // Expected ids: Scripts/fixtures/make_tokenizer_fixtures.py —
  //   CLIPTokenizer(vocab, merges)(texts, padding="max_length", max_length=77, truncation=True)
  @Test func matchesHuggingFaceOnCorpus() throws {
    let tok = try CLIPTokenizer(bpeGzip: openAIVocabulary, padID: nil, cleaning: .huggingFace)
    let cases = try loadCases()
    #expect(cases.count >= 200)
    var mismatches: [String] = []
    for c in cases where tok(c.text) != c.hf {
      mismatches.append("\(c.text.debugDescription): got \(tok(c.text).prefix(12)) expected \(c.hf.prefix(12))")
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
  }

  // Expected ids: open_clip SimpleTokenizer (ftfy-invariant strings only), padded with 0.
  @Test func matchesOpenCLIPWithOpenAICleaning() throws {
    let tok = try CLIPTokenizer(bpeGzip: openAIVocabulary, padID: 0, cleaning: .openAI)
    let cases = try loadCases().filter { $0.openai != nil }
    #expect(cases.count >= 150)
    var mismatches: [String] = []
    for c in cases where tok(c.text) != c.openai! {
      mismatches.append("\(c.text.debugDescription): got \(tok(c.text).prefix(12)) expected \(c.openai!.prefix(12))")
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
  }

  @Test func knownIdsAndStructure() throws {
    let tok = try CLIPTokenizer(bpeGzip: openAIVocabulary, padID: nil)
    #expect(tok.encoder.count == 49408)
    #expect(tok.startID == 49406 && tok.endID == 49407)
    // From the OpenAI vocabulary: "a</w>" = 320, "photo</w>" = 1125, "of</w>" = 539.
    #expect(tok.encode("a photo of") == [320, 1125, 539])
    let ids = tok(String(repeating: "word ", count: 200))
    #expect(ids.count == 77 && ids.first == 49406 && ids.last == 49407)
    #expect(tok("hi").suffix(70).allSatisfy { $0 == 49407 })
    tok.padID = 0
    #expect(tok("hi")[3...].allSatisfy { $0 == 0 })
  }

  @Test func decodeRoundTrip() throws {
    let tok = try CLIPTokenizer(bpeGzip: openAIVocabulary)
    let text = "a dermoscopy image of a malignant lesion, age 45!"
    #expect(tok.decode(tok(text)) == "a dermoscopy image of a malignant lesion , age 4 5 !")
  }

  @Test func preSplitFollowsThePattern() {
    #expect(CLIPPreSplit.split("don't 'sound' ab12") == ["don", "'t", "'s", "ound", "'", "ab", "1", "2"])
    #expect(CLIPPreSplit.split("a<|endoftext|>b") == ["a", "<|endoftext|>", "b"])
    #expect(CLIPPreSplit.split("a<end_of_text>", specials: CLIPPreSplit.openAISpecials) == ["a", "<end_of_text>"])
    #expect(CLIPPreSplit.split("!?<|x  é") == ["!?<|", "x", "é"])
  }

  @Test func vocabAndMergesFilesRoundTrip() throws {
    let gz = try CLIPTokenizer(bpeGzip: openAIVocabulary, padID: nil)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let vocab = try JSONSerialization.data(withJSONObject: gz.encoder)
    try vocab.write(to: dir.appendingPathComponent("vocab.json"))
    let merges = gz.ranks.sorted { $0.value < $1.value }.map(\.key)
    try ("#version: 0.2\n" + merges.joined(separator: "\n") + "\n").write(
      to: dir.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
    let files = try CLIPTokenizer(
      vocabJSON: dir.appendingPathComponent("vocab.json").path, merges: dir.appendingPathComponent("merges.txt").path)
    for c in try loadCases().prefix(60) { #expect(files(c.text) == c.hf) }
  }

  @Test func badFilesAreClearErrors() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-bad-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let v = dir.appendingPathComponent("vocab.json"), m = dir.appendingPathComponent("merges.txt")
    try "[1, 2".write(to: v, atomically: true, encoding: .utf8)
    try "#version: 0.2\na b\n".write(to: m, atomically: true, encoding: .utf8)
    #expect(throws: CLIPFileError.self) { try CLIPTokenizer(vocabJSON: v.path, merges: m.path) }
    try "{\"a\": 0}".write(to: v, atomically: true, encoding: .utf8)
    #expect(throws: CLIPFileError.self) { try CLIPTokenizer(vocabJSON: v.path, merges: m.path) }
    let gz = dir.appendingPathComponent("v.txt.gz")
    try "not gzip".write(to: gz, atomically: true, encoding: .utf8)
    #expect(throws: CLIPFileError.self) { try CLIPTokenizer(bpeGzip: gz.path) }
  }

  /// A merges file without merges (empty, or only the `#version` line) would split every text
  /// into single characters: it is refused, naming the file (issue 24).
  @Test func aMergesFileWithoutMergesIsRefused() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-merges-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let vocab = fixtures.appendingPathComponent("tiny_clip/vocab.json").path
    let m = dir.appendingPathComponent("merges.txt")
    for text in ["", "#version: 0.2\n", "#version: 0.2\n\n\n"] {
      try text.write(to: m, atomically: true, encoding: .utf8)
      do {
        _ = try CLIPTokenizer(vocabJSON: vocab, merges: m.path)
        Issue.record("a merges file holding \(text.debugDescription) was accepted")
      } catch let e as CLIPFileError {
        #expect(e.file == m.path && e.description.contains("holds no merges"), "\(e)")
      }
    }
    // The fixture's own merges still load.
    #expect(throws: Never.self) {
      try CLIPTokenizer(vocabJSON: vocab, merges: fixtures.appendingPathComponent("tiny_clip/merges.txt").path)
    }
  }
}
