import Foundation

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

/// A decoded JSON value (`JSONSerialization`) as an error message shows it, its JSON type
/// first: `the string "96"`, `the number 7.5`, `the boolean true`, `null`, `an array of 2
/// values`, `an object` — so "must be an integer, got the string "96"" is not mistaken for a number.
public func jsonValueDescription(_ value: Any) -> String {
  if value is NSNull { return "null" }
  if isJSONBoolean(value) { return "the boolean \((value as? Bool) ?? (value as? NSNumber)?.boolValue ?? false)" }
  if let s = value as? String { return "the string \(jsonStringLiteral(s))" }
  if let n = value as? NSNumber { return "the number \(n)" }
  if let a = value as? [Any] { return "an array of \(a.count) value\(a.count == 1 ? "" : "s")" }
  if value is [String: Any] { return "an object" }
  return "\(value)"
}

/// Whether a decoded JSON value is `true` or `false`: a Swift `Bool`, or a boolean `NSNumber`
/// (Objective-C type "c"), as `JSONSerialization` gives on some platforms — never a number.
public func isJSONBoolean(_ value: Any) -> Bool {
  if type(of: value) == Bool.self { return true }
  if value is String { return false }
  if let n = value as? NSNumber { return String(cString: n.objCType) == "c" }
  return false
}

/// A decoded JSON number (`JSONSerialization`) as the `Double` its text spells, or nil for a
/// boolean or any non-number. Linux Foundation may hold a 17-digit number as a decimal whose
/// `doubleValue` rounds (0.9999999999999999 became 1.0), so the number's own text is parsed.
public func jsonDouble(_ value: Any) -> Double? {
  guard !isJSONBoolean(value), let n = value as? NSNumber else { return nil }
  return Double(n.description) ?? n.doubleValue
}

/// The rule every CSV reader applies to its header: no column name twice (a reader looking a
/// column up by name would silently use the first). Returns the first repeated name and both
/// 1-based column positions, or nil; empty names (which no lookup asks for) are not compared.
public func duplicateCSVColumn(_ header: [String]) -> (name: String, first: Int, second: Int)? {
  var seen: [String: Int] = [:]
  for (i, name) in header.enumerated() where !name.isEmpty {
    if let first = seen[name] { return (name, first + 1, i + 1) }
    seen[name] = i
  }
  return nil
}

/// The error message of ``duplicateCSVColumn(_:)``'s finding.
public func duplicateCSVColumnMessage(_ d: (name: String, first: Int, second: Int)) -> String {
  "column '\(d.name)' appears twice in the header (columns \(d.first) and \(d.second)): rename or remove one"
}
