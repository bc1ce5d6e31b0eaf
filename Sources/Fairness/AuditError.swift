import Foundation

/// Where in an input file a problem was found (1-based line; column by name and/or position).
public struct InputLocation: Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var line: Int?
  public var column: String?
  public var columnIndex: Int?

  public init(file: String, line: Int? = nil, column: String? = nil, columnIndex: Int? = nil) {
    self.file = file; self.line = line; self.column = column; self.columnIndex = columnIndex
  }

  public var description: String {
    var s = file
    if let line { s += ":\(line)" }
    if let column { s += ", column '\(column)'" }
    if let columnIndex { s += " (field \(columnIndex))" }
    return s
  }
}

/// Every error the audit raises: each one says what is wrong and, for input data, exactly where.
public enum AuditError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A problem with the content of an input file, at a precise location.
  case badInput(InputLocation, String)
  /// A problem with an option or specification (group spec, threshold rule, ...).
  case badOption(String)
  /// A problem reading or writing files.
  case io(String)

  public var description: String {
    switch self {
    case .badInput(let location, let message): return "\(location): \(message)"
    case .badOption(let message): return "invalid option: \(message)"
    case .io(let message): return message
    }
  }
}

extension AuditError: LocalizedError {
  public var errorDescription: String? { description }
}
