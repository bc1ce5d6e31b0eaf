import Foundation

extension CLIPTokenizer {
  /// Path of OpenAI's `bpe_simple_vocab_16e6.txt.gz`, shipped with FairMed (MIT-licensed, from
  /// OpenAI's CLIP as redistributed by open_clip), for models trained from scratch.
  public static var bundledVocabularyPath: String {
    Bundle.module.path(forResource: "bpe_simple_vocab_16e6.txt", ofType: "gz")!
  }

  /// The OpenAI CLIP tokenizer from the bundled vocabulary, padding with the end token as
  /// Hugging Face does (so saved models tokenize identically in `transformers`).
  public static func bundledOpenAI(contextLength: Int = 77) throws -> CLIPTokenizer {
    let t = try CLIPTokenizer(bpeGzip: bundledVocabularyPath, padID: nil)
    t.contextLength = contextLength
    return t
  }
}

extension CLIPTokenizer {
  /// Writes Hugging Face tokenizer files (`vocab.json`, `merges.txt`) into `directory`, so a
  /// saved model folder is complete for `transformers.CLIPTokenizer.from_pretrained`.
  public func save(directory: String) throws {
    let dir = URL(fileURLWithPath: directory)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let vocab = try JSONSerialization.data(withJSONObject: encoder, options: [.sortedKeys])
    try vocab.write(to: dir.appendingPathComponent("vocab.json"), options: .atomic)
    let merges = ranks.sorted { $0.value < $1.value }.map(\.key)
    let text = (["#version: 0.2"] + merges).joined(separator: "\n") + "\n"
    try text.write(to: dir.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
  }
}
