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
  /// The longest vocabulary entry in scalars (a `##` prefix not counted): no longer piece can match.
  let longestPiece: Int
  static let maxCharactersPerWord = 100

  /// A tokenizer over `vocabulary` (token → its line number).
  public init(vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil, contextLength: Int, cleaning: Cleaning = .none,
              file: String = "vocab.txt") throws {
    var ids: [String: Int] = [:]
    for (i, t) in vocabulary.enumerated() where ids[t] == nil { ids[t] = i }
    func special(_ t: String) throws -> Int {
      guard let id = ids[t] else { throw CLIPFileError(file: file, "has no \(t) token (a BERT vocabulary needs [CLS], [SEP], [PAD] and [UNK])") }
      return id
    }
    guard contextLength >= 2 else { throw CLIPFileError(file: file, "context length \(contextLength) leaves no room for [CLS] and [SEP]") }
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
    longestPiece = vocabulary.map { ($0.hasPrefix("##") ? $0.dropFirst(2) : Substring($0)).unicodeScalars.count }.max() ?? 0
  }

  /// Reads `vocab.txt` (one token per line) and, when present beside it, `tokenizer_config.json`
  /// (`do_lower_case`, `strip_accents`).
  public convenience init(directory: String, contextLength: Int, cleaning: Cleaning = .none) throws {
    let vocabPath = directory + "/vocab.txt"
    let text: String
    do { text = String(decoding: try readFile(vocabPath), as: UTF8.self) } catch {
      throw CLIPFileError(file: vocabPath, "cannot read the WordPiece vocabulary")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
    if lines.last == "" { lines.removeLast() }
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
    try self.init(vocabulary: lines, lowercase: lower, stripAccents: strip, contextLength: contextLength, cleaning: cleaning, file: vocabPath)
  }

  /// Ids of `text` without `[CLS]`/`[SEP]`, untruncated.
  public func encode(_ text: String) -> [Int] {
    var out: [Int] = []
    let cleaned = cleaning == .openCLIP ? collapseWhitespace(htmlUnescape(htmlUnescape(text)), strip: true) : text
    for (segment, special) in splitSpecials(cleaned) {
      if let special { out.append(special); continue }
      for word in preTokenize(normalize(segment)) { out += wordPiece(word) }
    }
    return out
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
  public func tokens(_ ids: [Int]) -> [String] { ids.map { vocabulary.indices.contains($0) ? vocabulary[$0] : "[UNK]" } }

  /// Writes `vocab.txt`, `tokenizer_config.json` and `special_tokens_map.json`, which
  /// `transformers.BertTokenizer.from_pretrained` reads.
  public func save(directory: String) throws {
    try AtomicWrite.file(vocabulary.joined(separator: "\n") + "\n", to: directory + "/vocab.txt")
    let config: [String: Any] = [
      "tokenizer_class": "BertTokenizer", "do_lower_case": lowercase, "strip_accents": stripAccents == lowercase ? NSNull() : stripAccents,
      "tokenize_chinese_chars": true, "model_max_length": contextLength,
      "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]",
    ]
    try AtomicWrite.file(jsonText(config) + "\n", to: directory + "/tokenizer_config.json")
    let map = ["cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"]
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
      s = String(String.UnicodeScalarView(s.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
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

  /// Greedy longest-match-first pieces of one word; `[UNK]` when any part cannot be matched.
  func wordPiece(_ word: String) -> [Int] {
    let scalars = Array(word.unicodeScalars)
    guard scalars.count <= Self.maxCharactersPerWord else { return [unkID] }
    var out: [Int] = []
    var start = 0
    while start < scalars.count {
      var end = min(scalars.count, start + longestPiece)
      var found: Int?
      while start < end {
        var piece = String(String.UnicodeScalarView(scalars[start..<end]))
        if start > 0 { piece = "##" + piece }
        if let id = ids[piece] { found = id; break }
        end -= 1
      }
      guard let id = found else { return [unkID] }
      out.append(id)
      start = end
    }
    return out
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
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
    switch u.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
         .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
    default: return false
    }
  }

  static func isCJK(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
         0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
    default: return false
    }
  }
}
