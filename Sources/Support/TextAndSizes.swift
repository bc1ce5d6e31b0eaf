/// One RFC 4180 CSV field: quoted (with doubled quotes) when it holds a comma, quote or line break.
public func csvField(_ s: String) -> String {
  guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
  return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// One CSV line of RFC 4180 fields, without the line break.
public func csvLine(_ fields: [String]) -> String { fields.map(csvField).joined(separator: ",") }

/// A JSON string literal, quotes included (RFC 8259 escaping; control characters as \u00XX).
public func jsonStringLiteral(_ s: String) -> String {
  var out = "\""
  appendJSONEscaped(s, to: &out)
  out += "\""
  return out
}

/// Appends `s` to `out` with JSON string escaping (no surrounding quotes).
public func appendJSONEscaped(_ s: String, to out: inout String) {
  for u in s.unicodeScalars {
    switch u {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case "\u{08}": out += "\\b"
    case "\u{0C}": out += "\\f"
    default:
      if u.value < 0x20 {
        let hex = String(u.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      } else {
        out.unicodeScalars.append(u)
      }
    }
  }
}

/// The product of `factors` (a shape's element count, a size times an item size), or nil when
/// a factor is negative or the product overflows `Int`: sizes read from files go through this.
public func checkedProduct(_ factors: [Int]) -> Int? {
  var p = 1
  for f in factors {
    guard f >= 0 else { return nil }
    let (r, overflow) = p.multipliedReportingOverflow(by: f)
    if overflow { return nil }
    p = r
  }
  return p
}
