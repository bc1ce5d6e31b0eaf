import Foundation
import Support
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What to extract from one named CSV column.
public enum CSVColumnKind: Sendable {
  /// A finite number; `check` may reject a parsed value with a message (e.g. a label not in {0, 1}).
  case number(check: (@Sendable (Double) -> String?)? = nil)
  /// A 0/1 value stored as a byte (labels); anything else is an error.
  case binary
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
  public var binaries: [String: [UInt8]]
  public var texts: [String: CategoricalColumn]
}

/// An RFC 4180 reader: header row, quoted fields (commas, quotes and newlines inside), CRLF or LF,
/// optional UTF-8 BOM. Only the requested columns are materialised. Files are streamed in chunks
/// cut at record boundaries (a newline after an even number of quotes), so memory holds the
/// typed columns, not the text. Errors name the file, the 1-based line and the column.
public enum CSVReader {
  /// Bytes read per chunk.
  public static let chunkSize = 1 << 22

  /// Reads `columns` from the file at `url`.
  public static func read(
    _ url: URL, columns: [(name: String, kind: CSVColumnKind)], chunkSize: Int = CSVReader.chunkSize
  ) throws -> CSVColumns {
    guard let handle = fopen(url.path, "rb") else {
      throw AuditError.io("\(url.path): cannot open file (\(String(cString: strerror(errno))))")
    }
    defer { fclose(handle) }
    var parser = Parser(file: url.path, requests: columns)
    var carry: [UInt8] = []
    var want = chunkSize
    var first = true
    while true {
      var buffer = carry
      let old = buffer.count
      buffer.reserveCapacity(old + want + 1)
      buffer.append(contentsOf: repeatElement(0, count: want))
      let got = buffer.withUnsafeMutableBufferPointer { fread($0.baseAddress! + old, 1, want, handle) }
      buffer.removeLast(want - got)
      let eof = got < want
      let cut = eof ? buffer.count : lastRecordEnd(buffer)
      if cut == 0 && !eof { carry = buffer; want *= 2; continue }  // one record longer than the chunk
      carry = Array(buffer[cut...])
      buffer.removeLast(buffer.count - cut)
      buffer.append(0)  // terminator for strtod
      try parser.feed(buffer, length: cut, first: first)
      first = false
      want = chunkSize
      if eof { break }
    }
    return try parser.finish()
  }

  /// Index just past the last newline that ends a record (an even number of quotes before it).
  static func lastRecordEnd(_ bytes: [UInt8]) -> Int {
    var inQuotes = false
    var cut = 0
    bytes.withUnsafeBufferPointer { b in
      for i in 0..<b.count {
        let c = b[i]
        if c == UInt8(ascii: "\"") { inQuotes.toggle() } else if c == 10 && !inQuotes { cut = i + 1 }
      }
    }
    return cut
  }

  /// The header names of a CSV file.
  public static func header(_ url: URL) throws -> [String] {
    var parser = Parser(file: url.path, requests: [])
    var bytes = Array((try? readFile(url.path).prefix(1 << 20)) ?? Data())
    let n = bytes.count
    bytes.append(0)
    try parser.feed(bytes, length: n, first: true, headerOnly: true)
    return parser.names
  }

  /// Parses CSV `bytes` held in memory (tests, small inputs).
  public static func parse(_ bytes: [UInt8], file: String, columns: [(name: String, kind: CSVColumnKind)]) throws
    -> CSVColumns
  {
    var parser = Parser(file: file, requests: columns)
    try parser.feed(bytes + [0], length: bytes.count, first: true)
    return try parser.finish()
  }
}

private enum Slot {
  case skip
  case number(Int)
  case binary(Int)
  case text(Int)
}

private struct Parser {
  var bytes: [UInt8] = []
  let file: String
  let requests: [(name: String, kind: CSVColumnKind)]
  var length = 0
  var pos = 0
  var line = 1
  var scratch: [UInt8] = []
  var names: [String] = []
  var slots: [Slot] = []
  var numberNames: [String] = [], textNames: [String] = [], binaryNames: [String] = []
  var numbers: [[Double]] = []
  var checks: [(@Sendable (Double) -> String?)?] = []
  var binaries: [[UInt8]] = []
  var codes: [[UInt32]] = []
  var interners: [Interner] = []
  var rows = 0

  init(file: String, requests: [(name: String, kind: CSVColumnKind)]) {
    self.file = file; self.requests = requests
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
    if b == 13 { pos += 1; if pos < length && bytes[pos] == 10 { pos += 1 } } else { pos += 1 }
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
    if let d = duplicateCSVColumn(names) {
      throw fail(duplicateCSVColumnMessage(d), column: d.name, index: d.second, line: 1)
    }
    return names
  }

  mutating func setUp() throws {
    let headerLine = 1
    slots = [Slot](repeating: .skip, count: names.count)
    for request in requests {
      guard let index = names.firstIndex(of: request.name) else {
        throw fail(
          "missing column '\(request.name)' (the header has: \(names.joined(separator: ", ")))",
          column: request.name, line: headerLine)
      }
      switch request.kind {
      case .number(let check):
        slots[index] = .number(numberNames.count); numberNames.append(request.name); checks.append(check)
      case .binary: slots[index] = .binary(binaryNames.count); binaryNames.append(request.name)
      case .text: slots[index] = .text(textNames.count); textNames.append(request.name)
      }
    }
    numbers = [[Double]](repeating: [], count: numberNames.count)
    binaries = [[UInt8]](repeating: [], count: binaryNames.count)
    interners = [Interner](repeating: Interner(), count: textNames.count)
    codes = [[UInt32]](repeating: [], count: textNames.count)
  }

  /// Parses the complete records in `chunk[0..<length]` (`chunk[length]` must exist and end numbers).
  mutating func feed(_ chunk: [UInt8], length: Int, first: Bool, headerOnly: Bool = false) throws {
    bytes = chunk
    self.length = length
    pos = 0
    if first {
      if length >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { pos = 3 }
      names = try header()
      if headerOnly { return }
      try setUp()
    }
    while pos < length {
      if bytes[pos] == 10 || bytes[pos] == 13 { _ = endOfField(); continue }  // blank line
      let recordLine = line
      var index = 0
      while true {
        let f = try field(index)
        if index < slots.count {
          switch slots[index] {
          case .skip: break
          case .number(let k):
            let v = try number(f, column: names[index], index: index, line: recordLine)
            if let check = checks[k], let message = check(v) {
              throw fail(message, column: names[index], index: index + 1, line: recordLine)
            }
            numbers[k].append(v)
          case .binary(let k):
            let v = try number(f, column: names[index], index: index, line: recordLine)
            guard v == 0 || v == 1 else {
              throw fail("label \(v) is not 0 or 1", column: names[index], index: index + 1, line: recordLine)
            }
            binaries[k].append(UInt8(v))
          case .text(let k):
            if f.escaped {
              let raw = unescape(f)
              codes[k].append(interners[k].code(of: raw, raw.startIndex, raw.endIndex))
            } else {
              codes[k].append(interners[k].code(of: bytes, f.start, f.end))
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
    bytes = []
  }

  mutating func finish() throws -> CSVColumns {
    if names.isEmpty { throw fail("the file is empty (no header row)", line: 1) }
    if rows == 0 { throw fail("no data rows after the header", line: 2) }
    var numberColumns: [String: [Double]] = [:]
    for (i, name) in numberNames.enumerated() { numberColumns[name] = numbers[i] }
    var binaryColumns: [String: [UInt8]] = [:]
    for (i, name) in binaryNames.enumerated() { binaryColumns[name] = binaries[i] }
    var textColumns: [String: CategoricalColumn] = [:]
    for (i, name) in textNames.enumerated() {
      textColumns[name] = CategoricalColumn(codes: codes[i], levels: interners[i].levels)
    }
    return CSVColumns(rowCount: rows, numbers: numberColumns, binaries: binaryColumns, texts: textColumns)
  }

  // mutating: a non-mutating call from `feed` would copy the whole parser (all its arrays) per field.
  mutating func number(_ f: (start: Int, end: Int, escaped: Bool), column: String, index: Int, line: Int) throws
    -> Double
  {
    var s = f.start, e = f.end
    while s < e && (bytes[s] == 32 || bytes[s] == 9) { s += 1 }
    while e > s && (bytes[e - 1] == 32 || bytes[e - 1] == 9) { e -= 1 }
    if s < e, let value = NumberParser.parse(bytes, s, e), value.isFinite { return value }
    // Error path only: name the value.
    let shown = String(decoding: bytes[f.start..<f.end], as: UTF8.self)
    if s == e { throw fail("empty value where a number is required", column: column, index: index + 1, line: line) }
    if NumberParser.parse(bytes, s, e) == nil {
      throw fail("'\(shown)' is not a number", column: column, index: index + 1, line: line)
    }
    throw fail("'\(shown)' is not a finite number", column: column, index: index + 1, line: line)
  }
}

/// Interns byte strings into dense codes with an open-addressing table (no per-row allocation).
private struct Interner {
  var levels: [String] = []
  var keys: [[UInt8]] = []
  var table = [Int32](repeating: -1, count: 64)

  /// The code of bytes[start..<end], adding it as a new level when unseen.
  mutating func code(of bytes: [UInt8], _ start: Int, _ end: Int) -> UInt32 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for i in start..<end { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01B3 }
    let count = end - start
    var slot = Int(truncatingIfNeeded: h) & (table.count - 1)
    while true {
      let k = table[slot]
      if k < 0 { break }
      let key = keys[Int(k)]
      if key.count == count {
        var same = true
        var i = 0
        while i < count { if key[i] != bytes[start + i] { same = false; break }; i += 1 }
        if same { return UInt32(k) }
      }
      slot = (slot + 1) & (table.count - 1)
    }
    let code = keys.count
    keys.append(Array(bytes[start..<end]))
    levels.append(String(decoding: bytes[start..<end], as: UTF8.self))
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
