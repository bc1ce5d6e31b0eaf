import Foundation

/// How raw text is normalised before the CLIP pre-split.
///
/// The two reference implementations differ, so the choice is explicit:
/// - ``huggingFace``: what `transformers.CLIPTokenizer` (v5, `tokenizers` backend) does — Unicode
///   NFC, every run of whitespace → one space, lowercase. No HTML unescaping, no ftfy.
/// - ``openAI``: OpenAI's / open_clip's `basic_clean` + `whitespace_clean` without ftfy — HTML
///   unescape twice (numeric references and the common named entities), strip, whitespace
///   collapse, lowercase. (ftfy's mojibake and quote fixes are not reproduced.)
public enum CLIPTextCleaning: String, Sendable, Codable {
  case huggingFace = "hf"
  case openAI = "openai"

  /// Applies the cleaning.
  public func callAsFunction(_ text: String) -> String {
    switch self {
    case .huggingFace:
      return lowercase(collapseWhitespace(text.precomposedStringWithCanonicalMapping, strip: false))
    case .openAI:
      let unescaped = htmlUnescape(htmlUnescape(text))
      return lowercase(collapseWhitespace(unescaped, strip: true), finalSigma: true)
    }
  }
}

/// Lowercases scalar by scalar with the full Unicode mapping (as the `tokenizers` Lowercase
/// normaliser, Rust's `char::to_lowercase`). With `finalSigma` a capital sigma ending a word
/// becomes `ς`, the one context rule Python's `str.lower` applies.
func lowercase(_ s: String, finalSigma: Bool = false) -> String {
  var out = String.UnicodeScalarView()
  let scalars = Array(s.unicodeScalars)
  for (i, u) in scalars.enumerated() {
    if finalSigma && u == "\u{3A3}" && isFinalSigma(scalars, i) {
      out.append("\u{3C2}")
      continue
    }
    let lower = u.properties.lowercaseMapping
    if lower.unicodeScalars.count == 1, lower.unicodeScalars.first == u {
      out.append(u)
    } else {
      out.append(contentsOf: lower.unicodeScalars)
    }
  }
  return String(out)
}

/// Unicode's Final_Sigma condition: a cased letter before (skipping case-ignorable scalars) and
/// none after.
func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
  var j = i - 1
  while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
  guard j >= 0 && s[j].properties.isCased else { return false }
  var k = i + 1
  while k < s.count && s[k].properties.isCaseIgnorable { k += 1 }
  return !(k < s.count && s[k].properties.isCased)
}

/// Replaces each run of Unicode whitespace with one space (and optionally trims the ends).
func collapseWhitespace(_ s: String, strip: Bool) -> String {
  if s.utf8.allSatisfy({ $0 < 0x80 }) { return collapseASCIIWhitespace(s, strip: strip) }
  var out = String.UnicodeScalarView()
  var inSpace = false
  for u in s.unicodeScalars {
    if u.properties.isWhitespace {
      if !inSpace { out.append(" ") }
      inSpace = true
    } else {
      out.append(u)
      inSpace = false
    }
  }
  var r = String(out)
  if strip { r = r.trimmingCharacters(in: .init(charactersIn: " ")) }
  return r
}

/// ``collapseWhitespace(_:strip:)`` for ASCII text, byte by byte (ASCII's White_Space scalars
/// are U+0009 to U+000D and the space).
private func collapseASCIIWhitespace(_ s: String, strip: Bool) -> String {
  var out: [UInt8] = []
  out.reserveCapacity(s.utf8.count)
  var inSpace = false
  for b in s.utf8 {
    if b == 0x20 || (0x09...0x0D).contains(b) {
      if !inSpace { out.append(0x20) }
      inSpace = true
    } else {
      out.append(b)
      inSpace = false
    }
  }
  if strip {
    while out.last == 0x20 { out.removeLast() }
    let lead = out.prefix { $0 == 0x20 }.count
    return String(decoding: out[lead...], as: UTF8.self)
  }
  return String(decoding: out, as: UTF8.self)
}

/// Named entities recognised by ``htmlUnescape(_:)`` (the common subset of HTML5's table).
let htmlEntities: [String: String] = [
  "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}",
  "copy": "©", "reg": "®", "trade": "™", "deg": "°", "plusmn": "±", "micro": "µ", "middot": "·",
  "times": "×", "divide": "÷", "ndash": "–", "mdash": "—", "lsquo": "‘", "rsquo": "’",
  "ldquo": "“", "rdquo": "”", "hellip": "…", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢",
  "sect": "§", "para": "¶", "laquo": "«", "raquo": "»", "frac12": "½", "frac14": "¼",
  "frac34": "¾", "sup2": "²", "sup3": "³", "alpha": "α", "beta": "β", "gamma": "γ", "mu": "μ",
  "le": "≤", "ge": "≥", "ne": "≠", "larr": "←", "rarr": "→", "bull": "•",
]

/// Decodes `&name;`, `&#123;` and `&#x1F;` references (unknown names are left as they are).
func htmlUnescape(_ s: String) -> String {
  guard s.utf8.contains(0x26) else { return s }  // no "&"
  let scalars = Array(s.unicodeScalars)
  var out = String.UnicodeScalarView()
  var i = 0
  while i < scalars.count {
    if scalars[i] == "&", let semi = scalars[(i + 1)...].prefix(32).firstIndex(of: ";"), semi > i + 1 {
      let body = String(String.UnicodeScalarView(scalars[(i + 1)..<semi]))
      var replacement: String?
      if body.hasPrefix("#") {
        let digits = body.dropFirst()
        let value =
          digits.first == "x" || digits.first == "X"
          ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
        if let v = value {
          // As Python's html.unescape: invalid code points become U+FFFD.
          replacement = String(Unicode.Scalar(v).map(Character.init) ?? "\u{FFFD}")
          if v == 0 { replacement = "\u{FFFD}" }
        }
      } else {
        replacement = htmlEntities[body]
      }
      if let r = replacement {
        out.append(contentsOf: r.unicodeScalars)
        i = semi + 1
        continue
      }
    }
    out.append(scalars[i])
    i += 1
  }
  return String(out)
}
