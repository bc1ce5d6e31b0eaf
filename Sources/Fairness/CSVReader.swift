import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to extract from one named CSV column.
public enum CSVColumnKind: Sendable {
  /// A finite number; `check` may reject a parsed value with a message (e.g. a label not in {0, 1}).
  case number(check: (@Sendable (Double) -> String?)? = nil)
  /// Free text, interned into level codes.
  case text
}

/// A text column as integer codes into its distinct `levels` (in order of first appearance).
public struct CategoricalColumn: Sendable {
  public var codes: [UInt32]
  public var levels: [String]
}

/// The typed columns read from a CSV file.
public struct CSVColumns: Sendable {
  public var rowCount: Int
  public var numbers: [String: [Double]]
  public var texts: [String: CategoricalColumn]
}

/// An RFC 4180 reader: header row, quoted fields (commas, quotes and newlines inside), CRLF or LF,
/// optional UTF-8 BOM. Only the requested columns are materialised, in one pass over the bytes.
/// Errors name the file, the 1-based line and the column.
public enum CSVReader {
  /// Reads `columns` from the file at `url`.
  public static func read(_ url: URL, columns: [(name: String, kind: CSVColumnKind)]) throws -> CSVColumns {
    let bytes = try loadBytes(url)
    var parser = Parser(bytes: bytes, file: url.path, length: bytes.count - 1)
    return try parser.run(columns)
  }

  /// The header names of a CSV file (for listing columns in errors and help).
  public static func header(_ url: URL) throws -> [String] {
    let bytes = try loadBytes(url)
    var parser = Parser(bytes: bytes, file: url.path, length: bytes.count - 1)
    return try parser.header()
  }

  /// Parses CSV `bytes` (used by `read` and by tests on in-memory text).
  public static func parse(_ bytes: [UInt8], file: String, columns: [(name: String, kind: CSVColumnKind)]) throws -> CSVColumns {
    var buffer = bytes
    buffer.append(0)  // strtod needs a terminator
    var parser = Parser(bytes: buffer, file: file, length: bytes.count)
    return try parser.run(columns)
  }

  /// The file's bytes followed by one terminating zero byte.
  static func loadBytes(_ url: URL) throws -> [UInt8] {
    guard let handle = fopen(url.path, "rb") else {
      throw AuditError.io("\(url.path): cannot open file (\(String(cString: strerror(errno))))")
    }
    defer { fclose(handle) }
    fseek(handle, 0, SEEK_END)
    let size = ftell(handle)
    fseek(handle, 0, SEEK_SET)
    guard size >= 0 else { throw AuditError.io("\(url.path): cannot determine the file size") }
    let bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buf, count in
      count = size > 0 ? fread(buf.baseAddress, 1, size, handle) : 0
      buf[count] = 0
      count += 1
    }
    guard bytes.count == size + 1 else { throw AuditError.io("\(url.path): short read") }
    return bytes
  }
}

private enum Slot {
  case skip
  case number(Int, (@Sendable (Double) -> String?)?)
  case text(Int)
}

private struct Parser {
  let bytes: [UInt8]
  let file: String
  let length: Int
  var pos = 0
  var line = 1
  var scratch: [UInt8] = []

  init(bytes: [UInt8], file: String, length: Int? = nil) {
    self.bytes = bytes; self.file = file; self.length = length ?? bytes.count
    if self.length >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
  }

  func fail(_ message: String, column: String? = nil, index: Int? = nil, line: Int? = nil) -> AuditError {
    .badInput(InputLocation(file: file, line: line ?? self.line, column: column, columnIndex: index), message)
  }

  /// Reads one field starting at `pos`; returns its byte range and whether it needs unescaping.
  /// Leaves `pos` on the delimiter (',' / line end) or at the end.
  mutating func field(_ fieldIndex: Int) throws -> (start: Int, end: Int, escaped: Bool) {
    if pos < length && bytes[pos] == UInt8(ascii: "\"") {
      let openLine = line
      pos += 1
      let start = pos
      var escaped = false
      while true {
        guard pos < length else {
          throw fail("unterminated quoted field (opened on line \(openLine))", index: fieldIndex + 1, line: openLine)
        }
        let b = bytes[pos]
        if b == UInt8(ascii: "\"") {
          if pos + 1 < length && bytes[pos + 1] == UInt8(ascii: "\"") { escaped = true; pos += 2; continue }
          let end = pos
          pos += 1
          if pos < length {
            let next = bytes[pos]
            if next != UInt8(ascii: ",") && next != 10 && next != 13 {
              throw fail("unexpected character after a closing quote", index: fieldIndex + 1)
            }
          }
          return (start, end, escaped)
        }
        if b == 10 { line += 1 }
        pos += 1
      }
    }
    let start = pos
    while pos < length {
      let b = bytes[pos]
      if b == UInt8(ascii: ",") || b == 10 || b == 13 { break }
      pos += 1
    }
    return (start, pos, false)
  }

  /// After a field: consumes ',' (returns false) or a line end / EOF (returns true = record ended).
  mutating func endOfField() -> Bool {
    guard pos < length else { return true }
    let b = bytes[pos]
    if b == UInt8(ascii: ",") { pos += 1; return false }
    if b == 13 { pos += 1; if pos < length && bytes[pos] == 10 { pos += 1 } }
    else { pos += 1 }
    line += 1
    return true
  }

  mutating func text(_ f: (start: Int, end: Int, escaped: Bool)) -> String {
    if !f.escaped { return String(decoding: bytes[f.start..<f.end], as: UTF8.self) }
    return String(decoding: unescape(f), as: UTF8.self)
  }

  mutating func unescape(_ f: (start: Int, end: Int, escaped: Bool)) -> [UInt8] {
    scratch.removeAll(keepingCapacity: true)
    var i = f.start
    while i < f.end {
      scratch.append(bytes[i])
      i += bytes[i] == UInt8(ascii: "\"") ? 2 : 1
    }
    return scratch
  }

  mutating func header() throws -> [String] {
    guard pos < length else { throw fail("the file is empty (no header row)") }
    var names: [String] = []
    while true {
      let f = try field(names.count)
      names.append(text(f).trimmingCharacters(in: .whitespaces))
      if endOfField() { break }
    }
    if names.count == 1 && names[0].isEmpty { throw fail("the header row is empty") }
    return names
  }

  mutating func run(_ requests: [(name: String, kind: CSVColumnKind)]) throws -> CSVColumns {
    let names = try header()
    let headerLine = 1
    var slots = [Slot](repeating: .skip, count: names.count)
    var numberNames: [String] = [], textNames: [String] = []
    for request in requests {
      guard let index = names.firstIndex(of: request.name) else {
        throw fail("missing column '\(request.name)' (the header has: \(names.joined(separator: ", ")))",
                    column: request.name, line: headerLine)
      }
      switch request.kind {
      case .number(let check): slots[index] = .number(numberNames.count, check); numberNames.append(request.name)
      case .text: slots[index] = .text(textNames.count); textNames.append(request.name)
      }
    }
    let estimate = max(16, length / max(1, 8 * names.count))
    var numbers = [[Double]](repeating: [], count: numberNames.count)
    var interners = [Interner](repeating: Interner(), count: textNames.count)
    var codes = [[UInt32]](repeating: [], count: textNames.count)
    for i in numbers.indices { numbers[i].reserveCapacity(estimate) }
    for i in codes.indices { codes[i].reserveCapacity(estimate) }
    var rows = 0
    while pos < length {
      if bytes[pos] == 10 || bytes[pos] == 13 { _ = endOfField(); continue }  // blank line
      let recordLine = line
      var index = 0
      while true {
        let f = try field(index)
        if index < slots.count {
          switch slots[index] {
          case .skip: break
          case .number(let k, let check):
            let v = try number(f, column: names[index], index: index, line: recordLine)
            if let check, let message = check(v) {
              throw fail(message, column: names[index], index: index + 1, line: recordLine)
            }
            numbers[k].append(v)
          case .text(let k):
            if f.escaped {
              let raw = unescape(f)
              codes[k].append(raw.withUnsafeBufferPointer { interners[k].code(of: $0) })
            } else {
              codes[k].append(bytes.withUnsafeBufferPointer {
                interners[k].code(of: UnsafeBufferPointer(rebasing: $0[f.start..<f.end]))
              })
            }
          }
        }
        index += 1
        if endOfField() { break }
      }
      if index != names.count {
        throw fail("ragged row: expected \(names.count) fields, found \(index)", line: recordLine)
      }
      rows += 1
    }
    if rows == 0 { throw fail("no data rows after the header", line: 2) }
    var numberColumns: [String: [Double]] = [:]
    for (i, name) in numberNames.enumerated() { numberColumns[name] = numbers[i] }
    var textColumns: [String: CategoricalColumn] = [:]
    for (i, name) in textNames.enumerated() {
      textColumns[name] = CategoricalColumn(codes: codes[i], levels: interners[i].levels)
    }
    return CSVColumns(rowCount: rows, numbers: numberColumns, texts: textColumns)
  }

  func number(_ f: (start: Int, end: Int, escaped: Bool), column: String, index: Int, line: Int) throws -> Double {
    var s = f.start, e = f.end
    while s < e && (bytes[s] == 32 || bytes[s] == 9) { s += 1 }
    while e > s && (bytes[e - 1] == 32 || bytes[e - 1] == 9) { e -= 1 }
    var shown: String { String(decoding: bytes[f.start..<f.end], as: UTF8.self) }
    if s == e { throw fail("empty value where a number is required", column: column, index: index + 1, line: line) }
    let value = NumberParser.parse(bytes, s, e)
    guard let value else {
      throw fail("'\(shown)' is not a number", column: column, index: index + 1, line: line)
    }
    guard value.isFinite else {
      throw fail("'\(shown)' is not a finite number", column: column, index: index + 1, line: line)
    }
    return value
  }
}

/// Interns byte strings into dense codes with an open-addressing table (no per-row allocation).
private struct Interner {
  var levels: [String] = []
  var keys: [[UInt8]] = []
  var table = [Int32](repeating: -1, count: 64)

  mutating func code(of field: UnsafeBufferPointer<UInt8>) -> UInt32 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in field { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    var slot = Int(truncatingIfNeeded: h) & (table.count - 1)
    while true {
      let k = table[slot]
      if k < 0 { break }
      if keys[Int(k)].elementsEqual(field) { return UInt32(k) }
      slot = (slot + 1) & (table.count - 1)
    }
    let code = keys.count
    keys.append(Array(field))
    levels.append(String(decoding: field, as: UTF8.self))
    table[slot] = Int32(code)
    if keys.count * 2 > table.count { rehash() }
    return UInt32(code)
  }

  mutating func rehash() {
    table = [Int32](repeating: -1, count: table.count * 2)
    for (code, key) in keys.enumerated() {
      var h: UInt64 = 0xCBF2_9CE4_8422_2325
      for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
      var slot = Int(truncatingIfNeeded: h) & (table.count - 1)
      while table[slot] >= 0 { slot = (slot + 1) & (table.count - 1) }
      table[slot] = Int32(code)
    }
  }
}
