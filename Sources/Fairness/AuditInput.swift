import Foundation

/// Column names of a predictions file. The defaults are the names of FairMed's own predictions
/// CSV (``PredictionsCSV``), so `fairmed predict`'s output is read without column flags.
public struct AuditColumns: Sendable, Equatable {
  /// 0/1 ground truth.
  public var label: String
  /// Predicted probability (or any score) of the positive class.
  public var score: String
  /// Certainty margin column; `nil` = none, `"derive"` = derived from the score as p_y − p_{1−y}.
  public var margin: String?

  /// `margin` defaults to none: a file without a margin column is audited without the certainty
  /// analysis; FairMed's own files have one (``PredictionsCSV/margin``, see ``predictions``).
  public init(label: String = PredictionsCSV.label, score: String = PredictionsCSV.score, margin: String? = nil) {
    self.label = label; self.score = score; self.margin = margin
  }

  /// Every column of FairMed's predictions CSV, its margins included.
  public static let predictions = AuditColumns(margin: PredictionsCSV.margin)
}

/// Validated audit data: labels, scores, optional margins, and the group of every row.
public struct AuditInput: Sendable {
  public var labels: [UInt8]
  public var scores: [Double]
  public var margins: [Double]?
  public var grouping: Grouping
  /// Where the data came from (for reports).
  public var source: String

  public init(labels: [UInt8], scores: [Double], margins: [Double]?, grouping: Grouping, source: String = "memory") {
    self.labels = labels; self.scores = scores; self.margins = margins; self.grouping = grouping; self.source = source
  }

  /// Reads and validates a predictions CSV; errors name the file, line and column.
  public static func load(_ url: URL, columns: AuditColumns, groups: GroupingSpec) throws -> AuditInput {
    try columns.validate(groups: groups)
    var requests: [(name: String, kind: CSVColumnKind)] = [
      (columns.label, .binary),
      (columns.score, .number()),
    ]
    if let m = columns.margin, m != "derive" { requests.append((m, .number())) }
    for a in groups.attributes where !requests.contains(where: { $0.name == a.column }) {
      requests.append((a.column, .text))
    }
    let table = try CSVReader.read(url, columns: requests)
    let labels = table.binaries[columns.label]!
    let scores = table.numbers[columns.score]!
    var margins: [Double]?
    if let m = columns.margin {
      if m == "derive" {
        margins = scores.indices.map { (i: Int) -> Double in
          let p: Double = scores[i]
          return labels[i] == 1 ? 2 * p - 1 : 1 - 2 * p
        }
      } else {
        margins = table.numbers[m]!
      }
    }
    var attributeColumns: [CategoricalColumn] = []
    for a in groups.attributes {
      guard let column = table.texts[a.column] else {
        throw AuditError.badOption("attribute '\(a.column)' is also the label, score or margin column")
      }
      attributeColumns.append(column)
    }
    let grouping = try Grouping(spec: groups, columns: attributeColumns, file: url.path)
    // The path as given (relative stays relative): reports show it, never an absolutized one.
    return AuditInput(labels: labels, scores: scores, margins: margins, grouping: grouping, source: url.relativePath)
  }

  /// Reads (labels, scores) of a validation file for threshold selection.
  public static func loadLabelsAndScores(_ url: URL, columns: AuditColumns) throws -> (
    labels: [UInt8], scores: [Double]
  ) {
    let table = try CSVReader.read(url, columns: [(columns.label, .binary), (columns.score, .number())])
    return (table.binaries[columns.label]!, table.numbers[columns.score]!)
  }
}
