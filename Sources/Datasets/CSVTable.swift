import Foundation
import Support

/// A CSV table (RFC 4180: quoted fields, doubled quotes, newlines inside quotes; UTF-8, optional BOM).
public struct CSVTable: Sendable {
  /// Path it was read from (for error messages).
  public let file: String
  public let header: [String]
  /// Data rows; `rows[i]` is file row `i + 2` (row 1 is the header).
  public let rows: [[String]]
  private let index: [String: Int]

  public init(file: String, header: [String], rows: [[String]]) {
    self.file = file
    self.header = header
    self.rows = rows
    var index: [String: Int] = [:]
    for (i, h) in header.enumerated() where index[h] == nil { index[h] = i }
    self.index = index
  }

  /// Reads and parses a CSV file. Rows whose field count differs from the header's are an error
  /// naming the row; a column name that appears twice in the header is an error naming both
  /// positions.
  public init(contentsOf path: String) throws {
    guard let bytes = try? readFile(path) else { throw DataError.missingFile(path) }
    var text = String(decoding: bytes, as: UTF8.self)
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    var records = CSVTable.parse(text)
    guard !records.isEmpty else { throw DataError.layout("\(path): empty CSV file") }
    let header = records.removeFirst().map { $0.trimmingCharacters(in: .whitespaces) }
    if let d = duplicateCSVColumn(header) {
      throw DataError.badRow(file: path, row: 1, reason: duplicateCSVColumnMessage(d))
    }
    for (i, r) in records.enumerated() where r.count != header.count {
      throw DataError.badRow(
        file: path, row: i + 2,
        reason: "\(r.count) fields, header has \(header.count)")
    }
    self.init(file: path, header: header, rows: records)
  }

  /// Column position, or nil.
  public func column(_ name: String) -> Int? { index[name] }

  /// Column position; a `missingColumn` error naming the file when absent.
  public func require(_ name: String) throws -> Int {
    guard let i = index[name] else { throw DataError.missingColumn(file: file, column: name) }
    return i
  }

  static func parse(_ text: String) -> [[String]] {
    var records: [[String]] = []
    var field = ""
    var record: [String] = []
    var inQuotes = false
    var it = text.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = nil
    func endRecord() {
      record.append(field)
      field = ""
      if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
      record = []
    }
    while let ch = pending ?? it.next() {
      pending = nil
      if inQuotes {
        if ch == "\"" {
          if let n = it.next() {
            if n == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
          } else {
            inQuotes = false
          }
        } else {
          field.unicodeScalars.append(ch)
        }
        continue
      }
      switch ch {
      case "\"": inQuotes = true
      case ",": record.append(field); field = ""
      case "\r":
        if let n = it.next(), n != "\n" { pending = n }
        endRecord()
      case "\n": endRecord()
      default: field.unicodeScalars.append(ch)
      }
    }
    if !field.isEmpty || !record.isEmpty { endRecord() }
    return records
  }

  /// Serialises rows (header first) as CSV text.
  public static func render(header: [String], rows: [[String]]) -> String {
    var out = header.map(csvField).joined(separator: ",") + "\n"
    for r in rows { out += r.map(csvField).joined(separator: ",") + "\n" }
    return out
  }
}
