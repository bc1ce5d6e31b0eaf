import Foundation
import Support

/// A JSON document built in code and serialised deterministically (keys in insertion order).
/// Non-finite numbers cannot be written: they become `null`.
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

  /// Serialises with two-space indentation.
  public func serialized(indent: Int = 0) -> String {
    var out = ""
    write(to: &out, indent: indent)
    return out
  }

  private func write(to out: inout String, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .integer(let i): out += String(i)
    case .number(let d):
      if !d.isFinite { out += "null" } else if d == d.rounded(), abs(d) < 1e15 { out += String(Int(d)) } else { out += "\(d)" }
    case .string(let s): JSONValue.escape(s, into: &out)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      if items.allSatisfy({ $0.isScalar }) {
        out += "["
        for (i, v) in items.enumerated() { if i > 0 { out += ", " }; v.write(to: &out, indent: indent) }
        out += "]"
        return
      }
      out += "[\n"
      for (i, v) in items.enumerated() {
        out += String(repeating: " ", count: indent + 2)
        v.write(to: &out, indent: indent + 2)
        out += i + 1 < items.count ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "]"
    case .object(let fields):
      if fields.isEmpty { out += "{}"; return }
      out += "{\n"
      for (i, (k, v)) in fields.enumerated() {
        out += String(repeating: " ", count: indent + 2)
        JSONValue.escape(k, into: &out)
        out += ": "
        v.write(to: &out, indent: indent + 2)
        out += i + 1 < fields.count ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "}"
    }
  }

  private var isScalar: Bool {
    switch self {
    case .array, .object: return false
    default: return true
    }
  }

  static func escape(_ s: String, into out: inout String) { out += jsonStringLiteral(s) }
}
