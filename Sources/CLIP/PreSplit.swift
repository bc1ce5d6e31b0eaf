/// CLIP's pre-split pattern as a hand-written scanner over Unicode scalars:
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// Alternatives are tried in order at each position (leftmost-first, like the regex engines
/// used by OpenAI and `tokenizers`); whitespace between matches is dropped.
public enum CLIPPreSplit {
  /// Special-token spellings recognised at a piece start (OpenAI's pattern has its own names).
  public static let huggingFaceSpecials = ["<|startoftext|>", "<|endoftext|>"]
  public static let openAISpecials = ["<start_of_text>", "<end_of_text>"]
  static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
    Array($0.unicodeScalars)
  }

  /// Whether the scalar is a letter (general category L*).
  @inline(__always)
  static func isLetter(_ u: Unicode.Scalar) -> Bool {
    switch u.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
  }

  /// Whether the scalar is a number (general category N*).
  @inline(__always)
  static func isNumber(_ u: Unicode.Scalar) -> Bool {
    switch u.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
  }

  /// The pieces of `text` in order.
  public static func split(_ text: String, specials: [String] = huggingFaceSpecials) -> [String] {
    let specials = specials.map { Array($0.unicodeScalars) }
    let s = Array(text.unicodeScalars)
    var pieces: [String] = []
    var i = 0
    func starts(with p: [Unicode.Scalar], at i: Int) -> Bool {
      i + p.count <= s.count && s[i..<(i + p.count)].elementsEqual(p)
    }
    func emit(_ a: Int, _ b: Int) { pieces.append(String(String.UnicodeScalarView(s[a..<b]))) }
    while i < s.count {
      let u = s[i]
      if u.properties.isWhitespace {
        i += 1
        continue
      }
      if u == "<", let p = specials.first(where: { starts(with: $0, at: i) }) {
        emit(i, i + p.count)
        i += p.count
        continue
      }
      if u == "'", let p = contractions.first(where: { starts(with: $0, at: i) }) {
        emit(i, i + p.count)
        i += p.count
        continue
      }
      var j = i + 1
      if isLetter(u) {
        while j < s.count && isLetter(s[j]) { j += 1 }
      } else if isNumber(u) {
        // One digit per piece.
      } else {
        while j < s.count && !s[j].properties.isWhitespace && !isLetter(s[j]) && !isNumber(s[j]) { j += 1 }
      }
      emit(i, j)
      i = j
    }
    return pieces
  }
}
