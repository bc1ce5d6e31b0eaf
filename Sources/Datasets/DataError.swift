import Foundation

/// Every failure the Datasets module reports: each names the file (and row, for tables) at fault.
public enum DataError: Error, CustomStringConvertible, Equatable {
  /// An image or array could not be decoded.
  case decode(file: String, reason: String)
  /// A file that a dataset refers to does not exist.
  case missingFile(String)
  /// A table lacks a column the layout requires.
  case missingColumn(file: String, column: String)
  /// A table row is invalid (unknown code, unparsable number, wrong field count...).
  case badRow(file: String, row: Int, reason: String)
  /// A dataset folder does not look like the layout asked for.
  case layout(String)
  /// An argument or configuration value is invalid.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .decode(let file, let reason): return "\(file): cannot decode: \(reason)"
    case .missingFile(let file): return "missing file: \(file)"
    case .missingColumn(let file, let column): return "\(file): missing required column '\(column)'"
    case .badRow(let file, let row, let reason): return "\(file), row \(row): \(reason)"
    case .layout(let message): return message
    case .invalidArgument(let message): return message
    }
  }
}
