import Foundation
import Support

/// CLIP's byte-level BPE tokenizer (OpenAI `SimpleTokenizer` / HF `CLIPTokenizer`).
///
/// Text is cleaned (``CLIPTextCleaning``), pre-split (``CLIPPreSplit``), each piece's UTF-8 bytes
/// are mapped to printable characters, the last one gets the `</w>` word-end suffix, and merges
/// are applied lowest rank first. ``callAsFunction(_:)`` adds the start and end tokens, truncates
/// to ``contextLength`` keeping the end token, and pads with ``padID``.
public final class CLIPTokenizer: @unchecked Sendable {
  /// Token string → id.
  public let encoder: [String: Int]
  /// Id → token string.
  public let decoder: [Int: String]
  /// Merge pair ("a b") → rank (lower merges first).
  let ranks: [String: Int]
  public let startID: Int
  public let endID: Int
  /// Padding id: HF checkpoints pad with the end token, OpenAI/open_clip with 0.
  public var padID: Int
  /// Tokens per sequence, start and end included.
  public var contextLength: Int
  public var cleaning: CLIPTextCleaning
  private var cache: [String: [Int]] = [:]
  private let lock = NSLock()

  /// Builds a tokenizer from a vocabulary and a merge list.
  public init(
    vocab: [String: Int], merges: [(String, String)], startToken: String = "<|startoftext|>",
    endToken: String = "<|endoftext|>", padID: Int? = nil, contextLength: Int = 77,
    cleaning: CLIPTextCleaning = .huggingFace, source: String = "vocabulary"
  ) throws {
    guard let s = vocab[startToken], let e = vocab[endToken] else {
      throw CLIPFileError(file: source, "vocabulary lacks \(startToken) or \(endToken)")
    }
    for b in byteEncoder where vocab[String(b)] == nil || vocab[String(b) + "</w>"] == nil {
      throw CLIPFileError(file: source, "vocabulary lacks the byte symbol '\(b)' (with and without </w>)")
    }
    guard contextLength >= 2 else { throw CLIPFileError(file: source, "context length must be ≥ 2") }
    encoder = vocab
    var dec: [Int: String] = [:]
    for (k, v) in vocab { dec[v] = k }
    decoder = dec
    var r: [String: Int] = [:]
    for (i, (a, b)) in merges.enumerated() where r[a + " " + b] == nil { r[a + " " + b] = i }
    ranks = r
    startID = s
    endID = e
    self.padID = padID ?? e
    self.contextLength = contextLength
    self.cleaning = cleaning
  }

  /// Loads HF files: `vocab.json` (token → id) and `merges.txt` (`#version` line, then "a b").
  public convenience init(
    vocabJSON: String, merges: String, padID: Int? = nil, cleaning: CLIPTextCleaning = .huggingFace
  ) throws {
    let data: Data
    do { data = try readFile(vocabJSON) } catch {
      throw CLIPFileError(file: vocabJSON, "cannot read (\(error.localizedDescription))")
    }
    guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
      throw CLIPFileError(file: vocabJSON, "not a JSON object of token → id")
    }
    var vocab: [String: Int] = [:]
    for (k, v) in dict {
      guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() else {
        throw CLIPFileError(file: vocabJSON, "id of token '\(k)' is not an integer")
      }
      vocab[k] = n.intValue
    }
    guard let text = (try? readFile(merges)).flatMap({ String(data: $0, encoding: .utf8) }) else {
      throw CLIPFileError(file: merges, "cannot read as UTF-8 text")
    }
    let pairs = try Self.parseMerges(text.split(separator: "\n", omittingEmptySubsequences: false), file: merges)
    // Without merges every text would be split into single characters: no CLIP vocabulary is that.
    guard !pairs.isEmpty else {
      throw CLIPFileError(
        file: merges,
        "holds no merges (after the optional #version line): a BPE merges file lists one merge pair \"a b\" per line")
    }
    try self.init(vocab: vocab, merges: pairs, padID: padID, cleaning: cleaning, source: vocabJSON)
  }

  /// Loads OpenAI's `bpe_simple_vocab_16e6.txt.gz` and builds the 49,408-token vocabulary as
  /// OpenAI does: byte symbols, byte symbols + `</w>`, one token per merge, start, end.
  /// OpenAI/open_clip pad with 0 (pass `padID: nil` to pad with the end token as HF does).
  public convenience init(
    bpeGzip path: String, padID: Int? = 0, cleaning: CLIPTextCleaning = .huggingFace, mergeCount: Int = 49152 - 256 - 2
  ) throws {
    let raw: Data
    do { raw = try readFile(path) } catch {
      throw CLIPFileError(file: path, "cannot read (\(error.localizedDescription))")
    }
    guard let text = String(data: try Gzip.decompress(raw, file: path), encoding: .utf8) else {
      throw CLIPFileError(file: path, "decompressed vocabulary is not UTF-8")
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count > mergeCount else {
      throw CLIPFileError(file: path, "has \(lines.count - 1) merges, expected at least \(mergeCount)")
    }
    // Line 0 is a header ("bpe_simple_vocab_16e6.txt#version: 0.2"), skipped as open_clip does.
    let merges = try Self.parseMerges(Array(lines[1...mergeCount]), file: path, firstLine: 2)
    var tokens = byteSymbolPairs.map { String($0.1) }
    tokens += tokens.map { $0 + "</w>" }
    tokens += merges.map { $0.0 + $0.1 }
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    var vocab: [String: Int] = [:]
    for (i, t) in tokens.enumerated() where vocab[t] == nil { vocab[t] = i }
    try self.init(vocab: vocab, merges: merges, padID: padID, cleaning: cleaning, source: path)
  }

  static func parseMerges(_ lines: [Substring], file: String, firstLine: Int = 1) throws -> [(String, String)] {
    var out: [(String, String)] = []
    for (n, line) in lines.enumerated() {
      if n == 0 && firstLine == 1 && line.hasPrefix("#version") { continue }
      if line.isEmpty { continue }
      let parts = line.split(separator: " ")
      guard parts.count == 2 else {
        throw CLIPFileError(file: file, "line \(n + firstLine) is not a merge pair \"a b\": \(line.prefix(40))")
      }
      out.append((String(parts[0]), String(parts[1])))
    }
    return out
  }

  // MARK: Encoding

  /// Ids of `text` without start/end tokens, truncation or padding.
  ///
  /// Literal special tokens follow the chosen reference: with ``CLIPTextCleaning/huggingFace``
  /// `<|startoftext|>` / `<|endoftext|>` are split out of the raw text before cleaning (HF's added
  /// tokens, case-sensitive); with ``CLIPTextCleaning/openAI`` open_clip's `<start_of_text>` /
  /// `<end_of_text>` are recognised where its pattern would match them.
  public func encode(_ text: String) -> [Int] {
    switch cleaning {
    case .huggingFace:
      var ids: [Int] = []
      for (segment, special) in splitSpecials(text) {
        if let special { ids.append(special) } else { ids += encodeSegment(segment, specials: []) }
      }
      return ids
    case .openAI:
      return encodeSegment(text, specials: CLIPPreSplit.openAISpecials)
    }
  }

  private func encodeSegment(_ text: String, specials: [String]) -> [Int] {
    var ids: [Int] = []
    for piece in CLIPPreSplit.split(cleaning(text), specials: specials) {
      if piece == "<start_of_text>" {
        ids.append(startID)
      } else if piece == "<end_of_text>" {
        ids.append(endID)
      } else {
        ids += bpeIDs(piece)
      }
    }
    return ids
  }

  /// Raw text cut at literal `<|startoftext|>` / `<|endoftext|>` (segments, or a special's id).
  private func splitSpecials(_ text: String) -> [(String, Int?)] {
    splitAtLiteralTokens(text, [("<|startoftext|>", startID), ("<|endoftext|>", endID)])
  }

  /// `[start] + ids + [end]`, truncated to ``contextLength`` (the end token is kept) and padded.
  public func callAsFunction(_ text: String) -> [Int] {
    var ids = encode(text)
    if ids.count > contextLength - 2 { ids.removeLast(ids.count - (contextLength - 2)) }
    var out = [startID] + ids + [endID]
    out += Array(repeating: padID, count: contextLength - out.count)
    return out
  }

  /// Token ids for a batch, each ``contextLength`` long.
  public func callAsFunction(_ texts: [String]) -> [[Int]] { texts.map { self($0) } }

  /// Text of `ids` (start, end and padding after the end token dropped; `</w>` becomes a space).
  public func decode(_ ids: [Int]) -> String {
    var bytes: [UInt8] = []
    for id in ids {
      if id == endID { break }
      guard id != startID, let tok = decoder[id] else { continue }
      let word = tok.hasSuffix("</w>") ? String(tok.dropLast(4)) : tok
      for ch in word { if let b = byteDecoder[ch] { bytes.append(b) } }
      if tok.hasSuffix("</w>") { bytes.append(0x20) }
    }
    return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
  }

  /// BPE ids of one pre-split piece (cached).
  func bpeIDs(_ piece: String) -> [Int] {
    lock.lock()
    if let hit = cache[piece] {
      lock.unlock()
      return hit
    }
    lock.unlock()
    let ids = bpe(piece).map { encoder[$0] ?? endID }
    lock.lock()
    if cache.count < 100_000 { cache[piece] = ids }
    lock.unlock()
    return ids
  }

  /// BPE symbols of one piece: byte symbols with `</w>` on the last, merged lowest rank first.
  public func bpe(_ piece: String) -> [String] {
    var word = piece.utf8.map { String(byteEncoder[Int($0)]) }
    guard !word.isEmpty else { return [] }
    word[word.count - 1] += "</w>"
    while word.count > 1 {
      var best = Int.max
      var bestPair = ("", "")
      for k in 0..<(word.count - 1) {
        if let r = ranks[word[k] + " " + word[k + 1]], r < best {
          best = r
          bestPair = (word[k], word[k + 1])
        }
      }
      if best == Int.max { break }
      var merged: [String] = []
      merged.reserveCapacity(word.count)
      var k = 0
      while k < word.count {
        if k + 1 < word.count && word[k] == bestPair.0 && word[k + 1] == bestPair.1 {
          merged.append(bestPair.0 + bestPair.1)
          k += 2
        } else {
          merged.append(word[k])
          k += 1
        }
      }
      word = merged
    }
    return word
  }
}

/// OpenAI's `bytes_to_unicode` pairs (byte, character) in its order: printable Latin-1 bytes map
/// to themselves, the remaining bytes to U+0100 onwards.
let byteSymbolPairs: [(UInt8, Character)] = {
  var bs = Array(33...126) + Array(161...172) + Array(174...255)
  var cs = bs
  var n = 0
  for b in 0..<256 where !bs.contains(b) {
    bs.append(b)
    cs.append(256 + n)
    n += 1
  }
  return zip(bs, cs).map { (UInt8($0), Character(Unicode.Scalar(UInt32($1))!)) }
}()

/// Byte → printable character (indexed by byte).
let byteEncoder: [Character] = {
  var table = [Character](repeating: " ", count: 256)
  for (b, c) in byteSymbolPairs { table[Int(b)] = c }
  return table
}()

/// Inverse of ``byteEncoder``.
let byteDecoder: [Character: UInt8] = {
  var d: [Character: UInt8] = [:]
  for (b, c) in byteEncoder.enumerated() { d[c] = UInt8(b) }
  return d
}()

/// `text` cut at every literal occurrence of `tokens` (case-sensitive, leftmost first): text
/// segments with nil, and each token found as an empty segment with its id (a tokenizer's added
/// special tokens, matched before any normalisation).
func splitAtLiteralTokens(_ text: String, _ tokens: [(String, Int)]) -> [(String, Int?)] {
  var out: [(String, Int?)] = []
  var rest = Substring(text)
  while !rest.isEmpty {
    let hits = tokens.compactMap { tok, id in rest.range(of: tok, options: .literal).map { ($0, id) } }
    guard let (range, id) = hits.min(by: { $0.0.lowerBound < $1.0.lowerBound }) else {
      out.append((String(rest), nil))
      break
    }
    out.append((String(rest[..<range.lowerBound]), nil))
    out.append(("", id))
    rest = rest[range.upperBound...]
  }
  return out
}
