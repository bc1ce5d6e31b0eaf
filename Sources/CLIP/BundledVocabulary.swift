import Foundation
import Support

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
    // Sorted here, not by JSONSerialization: its .sortedKeys sorts 49k keys with locale-aware
    // comparisons (seconds per save); code-point order is what Python's sort_keys gives.
    let vocab =
      JSONValue.object(
        encoder.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
          .map { ($0, JSONValue.integer(encoder[$0] ?? 0)) }
      ).serialized(.oneLine) + "\n"
    try AtomicWrite.file(vocab, to: dir.appendingPathComponent("vocab.json").path)
    let merges = ranks.sorted { $0.value < $1.value }.map(\.key)
    try AtomicWrite.file(
      (["#version: 0.2"] + merges).joined(separator: "\n") + "\n", to: dir.appendingPathComponent("merges.txt").path)
    let pad = decoder[padID] ?? "<|endoftext|>"
    let special: [String: Any] = [
      "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": pad, "unk_token": "<|endoftext|>",
    ]
    func json(_ d: [String: Any]) throws -> Data {
      try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys, .prettyPrinted])
    }
    try AtomicWrite.file(try json(special), to: dir.appendingPathComponent("special_tokens_map.json").path)
    let config: [String: Any] = special.merging([
      "tokenizer_class": "CLIPTokenizer", "model_max_length": contextLength, "do_lower_case": true, "errors": "replace",
      "add_prefix_space": false, "clean_up_tokenization_spaces": true,
    ]) { a, _ in a }
    try AtomicWrite.file(try json(config), to: dir.appendingPathComponent("tokenizer_config.json").path)
  }
}
