import Foundation
import Support

/// Turns texts into fixed-length token rows for a text tower.
public protocol TextTokenizer: AnyObject, Sendable {
  /// Tokens per row (rows are truncated and padded to it).
  var contextLength: Int { get set }
  /// Token ids, one ``contextLength``-long row per text.
  func callAsFunction(_ texts: [String]) -> [[Int]]
  /// Writes the tokenizer files into `directory`.
  func save(directory: String) throws
}

extension CLIPTokenizer: TextTokenizer {}

/// BERT's WordPiece tokenizer, equal to `transformers.BertTokenizer`: clean the text (drop
/// control characters, whitespace → space), space out CJK ideographs, strip accents and
/// lowercase (uncased vocabularies), split on whitespace and punctuation, then greedy
/// longest-match WordPiece with `##` continuations (a word longer than 100 characters, or
/// with a piece not in the vocabulary, is `[UNK]`). Rows are `[CLS] … [SEP]` padded with
/// `[PAD]`, truncated as open_clip's `HFTokenizer` does (`[SEP]` kept).
public final class WordPieceTokenizer: TextTokenizer, @unchecked Sendable {
  /// Text cleaning before BERT's own normaliser.
  public enum Cleaning: String, Sendable {
    /// None: exactly `transformers.BertTokenizer`.
    case none
    /// open_clip's `HFTokenizer`: HTML-unescape twice and collapse whitespace (its `ftfy.fix_text`
    /// step, which rewrites mojibake and curly quotes, is not reproduced).
    case openCLIP = "open_clip"
  }

  public let vocabulary: [String]
  public let ids: [String: Int]
  public let lowercase: Bool
  public let stripAccents: Bool
  public var contextLength: Int
  public let cleaning: Cleaning
  public let clsID: Int, sepID: Int, padID: Int, unkID: Int
  /// Special tokens matched verbatim in raw text before any normalisation.
  let specials: [(String, Int)]
  /// The specials as UTF-8 bytes, for the byte scan in ``encode(_:)``.
  private let specialBytes: [([UInt8], Int)]
  /// The vocabulary as byte tries, for greedy longest-match-first.
  private let trie: WordPieceTrie
  static let maxCharactersPerWord = 100

  /// A tokenizer over `vocabulary` (token → its line number).
  public init(
    vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil, contextLength: Int,
    cleaning: Cleaning = .none,
    file: String = "vocab.txt"
  ) throws {
    var ids: [String: Int] = [:]
    for (i, t) in vocabulary.enumerated() where ids[t] == nil { ids[t] = i }
    func special(_ t: String) throws -> Int {
      guard let id = ids[t] else {
        throw CLIPFileError(file: file, "has no \(t) token (a BERT vocabulary needs [CLS], [SEP], [PAD] and [UNK])")
      }
      return id
    }
    guard contextLength >= 2 else {
      throw CLIPFileError(file: file, "context length \(contextLength) leaves no room for [CLS] and [SEP]")
    }
    self.vocabulary = vocabulary
    self.ids = ids
    self.lowercase = lowercase
    self.stripAccents = stripAccents ?? lowercase
    self.contextLength = contextLength
    self.cleaning = cleaning
    clsID = try special("[CLS]")
    sepID = try special("[SEP]")
    padID = try special("[PAD]")
    unkID = try special("[UNK]")
    specials = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"].compactMap { t in ids[t].map { (t, $0) } }
    specialBytes = specials.map { (Array($0.0.utf8), $0.1) }
    trie = WordPieceTrie(vocabulary)
  }

  /// Reads `vocab.txt` (one token per line) or, where a folder has none (transformers 5 writes
  /// only `tokenizer.json`), the WordPiece vocabulary of `tokenizer.json`; and, when present beside
  /// it, `tokenizer_config.json` (`do_lower_case`, `strip_accents`).
  public convenience init(directory: String, contextLength: Int, cleaning: Cleaning = .none) throws {
    let vocabPath = directory + "/vocab.txt", jsonPath = directory + "/tokenizer.json"
    let lines: [String], file: String
    if !FileManager.default.fileExists(atPath: vocabPath) && FileManager.default.fileExists(atPath: jsonPath) {
      lines = try Self.vocabulary(tokenizerJSON: jsonPath)
      file = jsonPath
    } else {
      let text: String
      do { text = String(decoding: try readFile(vocabPath), as: UTF8.self) } catch {
        throw CLIPFileError(file: vocabPath, "cannot read the WordPiece vocabulary")
      }
      var split = text.split(separator: "\n", omittingEmptySubsequences: false).map {
        String($0.hasSuffix("\r") ? $0.dropLast() : $0)
      }
      if split.last == "" { split.removeLast() }
      lines = split
      file = vocabPath
    }
    var lower = true
    var strip: Bool?
    let configPath = directory + "/tokenizer_config.json"
    if let data = try? readFile(configPath) {
      guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw CLIPFileError(file: configPath, "not a JSON object")
      }
      lower = (obj["do_lower_case"] as? Bool) ?? true
      strip = obj["strip_accents"] as? Bool
    }
    try self.init(
      vocabulary: lines, lowercase: lower, stripAccents: strip, contextLength: contextLength, cleaning: cleaning,
      file: file)
  }

  /// The tokens of a `tokenizers` WordPiece model (`model.vocab`, token → id), in id order; the
  /// ids must be 0 … n − 1, each once.
  static func vocabulary(tokenizerJSON path: String) throws -> [String] {
    let data: Data
    do { data = try readFile(path) } catch { throw CLIPFileError(file: path, "cannot read the file") }
    guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let model = root["model"] as? [String: Any]
    else {
      throw CLIPFileError(file: path, "is not a tokenizers JSON object with a model")
    }
    guard (model["type"] as? String) == "WordPiece", let vocab = model["vocab"] as? [String: Any] else {
      throw CLIPFileError(
        file: path,
        "model.type is \((model["type"] as? String).map { "'\($0)'" } ?? "missing"), expected 'WordPiece' with a vocab object"
      )
    }
    var tokens = [String?](repeating: nil, count: vocab.count)
    for (token, value) in vocab {
      guard let n = value as? NSNumber, type(of: value) != Bool.self, n.doubleValue == n.doubleValue.rounded(),
        let id = Int(exactly: n.doubleValue), tokens.indices.contains(id), tokens[id] == nil
      else {
        throw CLIPFileError(
          file: path,
          "model.vocab[\(token.debugDescription)] is \(value), expected an id in 0..<\(vocab.count) that no other token has"
        )
      }
      tokens[id] = token
    }
    return tokens.map { $0 ?? "" }
  }

  /// Ids of `text` without `[CLS]`/`[SEP]`, untruncated.
  ///
  /// One pass over the UTF-8 bytes: literal special tokens are cut out first, the rest is split at
  /// ASCII whitespace into chunks; an ASCII chunk is normalised, split at punctuation and matched
  /// byte by byte with no allocation per character, any other chunk goes through the full Unicode
  /// normaliser (``normalize(_:)``, ``preTokenize(_:)``). Both give what normalising the whole text
  /// first would: every normalisation step maps scalars one at a time, and NFD's reordering never
  /// crosses a space.
  public func encode(_ text: String) -> [Int] {
    var out: [Int] = []
    var cleaned = cleaning == .openCLIP ? collapseWhitespace(htmlUnescape(htmlUnescape(text)), strip: true) : text
    cleaned.withUTF8 { bytes in
      var segmentStart = 0, i = 0
      while i < bytes.count {
        if let (length, id) = special(at: i, in: bytes) {
          appendPieces(of: UnsafeBufferPointer(rebasing: bytes[segmentStart..<i]), to: &out)
          out.append(id)
          i += length
          segmentStart = i
        } else {
          i += 1
        }
      }
      appendPieces(of: UnsafeBufferPointer(rebasing: bytes[segmentStart...]), to: &out)
    }
    return out
  }

  /// The special token spelled at `i`, as (byte length, id).
  private func special(at i: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
    for (spelling, id) in specialBytes where bytes.count - i >= spelling.count && bytes[i] == spelling[0] {
      if (1..<spelling.count).allSatisfy({ bytes[i + $0] == spelling[$0] }) { return (spelling.count, id) }
    }
    return nil
  }

  /// Appends the pieces of raw text that holds no special token.
  private func appendPieces(of bytes: UnsafeBufferPointer<UInt8>, to out: inout [Int]) {
    var word: [UInt8] = []
    word.reserveCapacity(64)
    var i = 0
    while i < bytes.count {
      while i < bytes.count && Self.isASCIISpace(bytes[i]) { i += 1 }
      let start = i
      var ascii = true
      while i < bytes.count && !Self.isASCIISpace(bytes[i]) {
        if bytes[i] >= 0x80 { ascii = false }
        i += 1
      }
      guard i > start else { continue }
      let chunk = UnsafeBufferPointer(rebasing: bytes[start..<i])
      if ascii {
        appendASCIIChunk(chunk, word: &word, to: &out)
      } else {
        for w in preTokenize(normalize(String(decoding: chunk, as: UTF8.self))) {
          var w = w
          let scalars = w.unicodeScalars.count
          w.withUTF8 {
            trie.appendPieces(of: $0, scalars: scalars, maxScalars: Self.maxCharactersPerWord, unk: unkID, to: &out)
          }
        }
      }
    }
  }

  /// An all-ASCII chunk: control bytes dropped, punctuation a word of its own, letters lowercased
  /// for uncased vocabularies (stripping accents changes no ASCII byte).
  private func appendASCIIChunk(_ chunk: UnsafeBufferPointer<UInt8>, word: inout [UInt8], to out: inout [Int]) {
    func flush() {
      guard !word.isEmpty else { return }
      word.withUnsafeBufferPointer {
        trie.appendPieces(of: $0, scalars: $0.count, maxScalars: Self.maxCharactersPerWord, unk: unkID, to: &out)
      }
      word.removeAll(keepingCapacity: true)
    }
    for var b in chunk {
      if b < 0x20 || b == 0x7F { continue }  // controls (tab, LF and CR never reach here)
      if Self.isASCIIPunctuation(b) {
        flush()
        word.append(b)
        flush()
        continue
      }
      if lowercase && b >= 0x41 && b <= 0x5A { b += 0x20 }
      word.append(b)
    }
    flush()
  }

  /// The ASCII bytes that are both BERT whitespace and not control characters it drops (tab, LF,
  /// CR, space); U+000B and U+000C are controls, dropped rather than split on.
  static func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

  /// BERT's ASCII punctuation: every non-alphanumeric printable byte.
  static func isASCIIPunctuation(_ b: UInt8) -> Bool {
    (33...47).contains(b) || (58...64).contains(b) || (91...96).contains(b) || (123...126).contains(b)
  }

  /// `[CLS] + ids + [SEP]`, truncated to ``contextLength`` and padded with `[PAD]`.
  public func callAsFunction(_ text: String) -> [Int] {
    var body = encode(text)
    if body.count > contextLength - 2 { body.removeLast(body.count - (contextLength - 2)) }
    let row = [clsID] + body + [sepID]
    return row + Array(repeating: padID, count: contextLength - row.count)
  }

  public func callAsFunction(_ texts: [String]) -> [[Int]] { texts.map { self($0) } }

  /// Tokens of ids (for messages and tests).
  public func tokens(_ ids: [Int]) -> [String] {
    ids.map { vocabulary.indices.contains($0) ? vocabulary[$0] : "[UNK]" }
  }

  /// Writes `vocab.txt`, `tokenizer_config.json` and `special_tokens_map.json`, which
  /// `transformers.BertTokenizer.from_pretrained` reads.
  public func save(directory: String) throws {
    try AtomicWrite.file(vocabulary.joined(separator: "\n") + "\n", to: directory + "/vocab.txt")
    let config: [String: Any] = [
      "tokenizer_class": "BertTokenizer", "do_lower_case": lowercase,
      "strip_accents": stripAccents == lowercase ? NSNull() : stripAccents,
      "tokenize_chinese_chars": true, "model_max_length": contextLength,
      "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]",
    ]
    try AtomicWrite.file(jsonText(config) + "\n", to: directory + "/tokenizer_config.json")
    let map = [
      "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]",
    ]
    try AtomicWrite.file(jsonText(map) + "\n", to: directory + "/special_tokens_map.json")
  }

  /// Raw text cut at literal special tokens (segments, or a special's id).
  func splitSpecials(_ text: String) -> [(String, Int?)] { splitAtLiteralTokens(text, specials) }

  /// BERT's normaliser: drop NUL, U+FFFD and other control/format scalars, map whitespace to a
  /// space, space out CJK ideographs, then strip accents (NFD, drop nonspacing marks) and lowercase.
  func normalize(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    for u in text.unicodeScalars {
      if u.value == 0 || u.value == 0xFFFD || Self.isControl(u) { continue }
      if Self.isWhitespace(u) { out.append(" "); continue }
      if Self.isCJK(u) {
        out.append(" ")
        out.append(u)
        out.append(" ")
      } else {
        out.append(u)
      }
    }
    var s = String(out)
    if stripAccents {
      s = String(
        String.UnicodeScalarView(
          s.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
            $0.properties.generalCategory != .nonspacingMark
          }))
    }
    return lowercase ? CLIP.lowercase(s) : s
  }

  /// Words split on whitespace, with every punctuation scalar a word of its own.
  func preTokenize(_ text: String) -> [String] {
    var words: [String] = []
    var current = String.UnicodeScalarView()
    func flush() {
      if !current.isEmpty { words.append(String(current)) }
      current = String.UnicodeScalarView()
    }
    for u in text.unicodeScalars {
      if u.properties.isWhitespace || Self.isWhitespace(u) {
        flush()
      } else if Self.isPunctuation(u) {
        flush()
        words.append(String(u))
      } else {
        current.append(u)
      }
    }
    flush()
    return words
  }

  static func isWhitespace(_ u: Unicode.Scalar) -> Bool {
    u == "\t" || u == "\n" || u == "\r" || u.properties.isWhitespace
  }

  static func isControl(_ u: Unicode.Scalar) -> Bool {
    if u == "\t" || u == "\n" || u == "\r" { return false }
    switch u.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned: return true
    default: return false
    }
  }

  static func isPunctuation(_ u: Unicode.Scalar) -> Bool {
    let v = u.value
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
      return true
    }
    switch u.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  static func isCJK(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }
}
