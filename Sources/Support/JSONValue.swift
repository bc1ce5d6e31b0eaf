import Foundation

/// FairMed's one JSON value and one JSON writer: a document built in code and serialised
/// deterministically, object members in insertion order (``init(sortingKeysOf:)`` sorts a
/// `[String: Any]` first). `audit.json`, the model folders' config files, safetensors headers
/// and `vocab.json` are all written by ``serialized(_:indent:floatsKeepDecimalPoint:)``; study
/// files' free-form options are decoded into it (`Codable`).
///
/// Non-finite numbers cannot be written: they become `null`. Two values are equal when they
/// serialise to the same text.
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case integer(Int)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

  /// An optional number: null when nil or not finite.
  public static func optional(_ v: Double?) -> JSONValue {
    guard let v, v.isFinite else { return .null }
    return .number(v)
  }

  /// Where the writer puts line breaks and spaces.
  public enum Layout: Sendable {
    /// Objects one member a line, indented two spaces a level; arrays of scalars on one line
    /// (`[1, 2]`), other arrays one item a line.
    case pretty
    /// One line, a space after each comma and colon: `{"a": 1, "b": [1, 2]}`.
    case oneLine
    /// No whitespace: `{"a":1,"b":[1,2]}`.
    case compact
  }

  /// The JSON text. `indent` is the column the value starts at (pretty layout);
  /// `floatsKeepDecimalPoint` writes a whole ``number(_:)`` as `2.0` instead of `2` (readers
  /// such as `transformers` refuse `1` for a float field); ``integer(_:)`` is always `2`.
  public func serialized(_ layout: Layout = .pretty, indent: Int = 0, floatsKeepDecimalPoint: Bool = false) -> String {
    var out = ""
    write(to: &out, layout: layout, indent: indent, floatsKeepDecimalPoint: floatsKeepDecimalPoint)
    return out
  }

  private func write(to out: inout String, layout: Layout, indent: Int, floatsKeepDecimalPoint: Bool) {
    let comma = layout == .compact ? "," : ", ", colon = layout == .compact ? ":" : ": "
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .integer(let i): out += String(i)
    case .number(let d): out += JSONValue.numberText(d, floatsKeepDecimalPoint: floatsKeepDecimalPoint)
    case .string(let s): out += jsonStringLiteral(s)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      if layout != .pretty || items.allSatisfy({ $0.isScalar }) {
        out += "["
        for (i, v) in items.enumerated() {
          if i > 0 { out += comma }
          v.write(to: &out, layout: layout, indent: indent, floatsKeepDecimalPoint: floatsKeepDecimalPoint)
        }
        out += "]"
        return
      }
      out += "[\n"
      for (i, v) in items.enumerated() {
        out += String(repeating: " ", count: indent + 2)
        v.write(to: &out, layout: layout, indent: indent + 2, floatsKeepDecimalPoint: floatsKeepDecimalPoint)
        out += i + 1 < items.count ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "]"
    case .object(let fields):
      if fields.isEmpty { out += "{}"; return }
      if layout != .pretty {
        out += "{"
        for (i, (k, v)) in fields.enumerated() {
          if i > 0 { out += comma }
          out += jsonStringLiteral(k) + colon
          v.write(to: &out, layout: layout, indent: indent, floatsKeepDecimalPoint: floatsKeepDecimalPoint)
        }
        out += "}"
        return
      }
      out += "{\n"
      for (i, (k, v)) in fields.enumerated() {
        out += String(repeating: " ", count: indent + 2)
        out += jsonStringLiteral(k) + colon
        v.write(to: &out, layout: layout, indent: indent + 2, floatsKeepDecimalPoint: floatsKeepDecimalPoint)
        out += i + 1 < fields.count ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "}"
    }
  }

  /// A finite number as Swift's shortest round-trip text; a whole number below 10¹⁵ in
  /// magnitude as an integer (`2`), or with `.0` when `floatsKeepDecimalPoint`.
  private static func numberText(_ d: Double, floatsKeepDecimalPoint: Bool) -> String {
    guard d.isFinite else { return "null" }
    if floatsKeepDecimalPoint {
      let t = "\(d)"
      return t.contains(".") || t.contains("e") ? t : t + ".0"
    }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
    return "\(d)"
  }

  private var isScalar: Bool {
    switch self {
    case .array, .object: return false
    default: return true
    }
  }
}

extension JSONValue {
  /// A `[String: Any]` tree (as built for a config file) with every object's keys sorted:
  /// dictionaries, arrays, `String`, `Bool`, `Int` (``integer(_:)``) and `Double`
  /// (``number(_:)``); anything else (`NSNull()` included) is `null`.
  public init(sortingKeysOf value: Any) {
    switch value {
    case let d as [String: Any]: self = .object(d.keys.sorted().map { ($0, JSONValue(sortingKeysOf: d[$0]!)) })
    case let a as [Any]: self = .array(a.map { JSONValue(sortingKeysOf: $0) })
    case let s as String: self = .string(s)
    case let b as Bool: self = .bool(b)
    case let i as Int: self = .integer(i)
    case let x as Double: self = .number(x)
    default: self = .null
    }
  }
}

extension JSONValue: Codable {
  /// Any JSON value. Numbers decode as ``number(_:)`` (never ``integer(_:)``), so they encode
  /// again as they were read; object members are sorted by key (JSON objects are unordered).
  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let d = try? c.decode(Double.self) {
      self = .number(d)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
  }

  public func encode(to encoder: Encoder) throws {
    switch self {
    case .object(let fields):
      var c = encoder.container(keyedBy: AnyCodingKey.self)
      for (k, v) in fields { try c.encode(v, forKey: AnyCodingKey(stringValue: k)) }
    case .array(let items):
      var c = encoder.unkeyedContainer()
      for v in items { try c.encode(v) }
    default:
      var c = encoder.singleValueContainer()
      switch self {
      case .bool(let b): try c.encode(b)
      case .number(let d): try c.encode(d)
      case .integer(let i): try c.encode(i)
      case .string(let s): try c.encode(s)
      default: try c.encodeNil()
      }
    }
  }
}
