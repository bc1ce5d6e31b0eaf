import Fairness
import Foundation

/// A generic manifest CSV: `path,label,<attribute columns...>[,text]`, paths relative to the CSV.
///
/// Optional special columns: `id` (default: the path), `text`, `split`, and `patient_id` /
/// `lesion_id` / `group_id` (images sharing it never cross splits). Labels are integers (class
/// names "0", "1", ...) or names (sorted alphabetically into indices). Every other column is an
/// attribute; empty cells are "unknown".
public enum Manifest {
  static let special: Set<String> = ["path", "label", "id", "text", "split", "patient_id", "lesion_id", "group_id"]
  /// Integer labels name classes 0…max: a label above this is refused (one class prompt each).
  public static let maxNumericLabel = 9_999

  public static func load(file: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
    let table = try CSVTable(contentsOf: file)
    let pathCol = try table.require("path")
    let labelCol = options.requireLabels ? try table.require("label") : table.column("label")
    let idCol = table.column("id"), textCol = table.column("text"), splitCol = table.column("split")
    let groupCol = table.column("patient_id") ?? table.column("lesion_id") ?? table.column("group_id")
    let attributeCols = table.header.enumerated().filter { !special.contains($0.element) }
    let base = (file as NSString).deletingLastPathComponent
    let rawLabels = table.rows.map { row in labelCol.map { row[$0].trimmingCharacters(in: .whitespaces) } ?? "0" }
    let numeric = rawLabels.allSatisfy { Int($0) != nil && Int($0)! >= 0 }
    let classNames: [String]
    if labelCol == nil {
      classNames = []
    } else if numeric {
      if let row = rawLabels.firstIndex(where: { Int($0)! > maxNumericLabel }) {
        throw DataError.badRow(
          file: file, row: row + 2,
          reason:
            "column label: \(rawLabels[row]) is above \(maxNumericLabel); integer labels name classes 0, 1, …, one prompt each"
        )
      }
      let maxLabel = rawLabels.compactMap { Int($0) }.max() ?? 1
      classNames = (0...max(1, maxLabel)).map(String.init)
    } else {
      classNames = Set(rawLabels.filter { !$0.isEmpty }).sorted()
    }
    var summary = LoadSummary()
    var samples: [Sample] = []
    let fm = FileManager.default
    var seen = Set<String>()
    for (i, row) in table.rows.enumerated() {
      summary.rowsRead += 1
      let raw = rawLabels[i]
      let id = idCol.map { row[$0] } ?? row[pathCol]
      guard seen.insert(id).inserted else {
        try summary.reject(
          .badRow(file: file, row: i + 2, reason: "duplicate id \(id)"), reason: "duplicate id",
          policy: options.onBadRow)
        continue
      }
      guard let label = numeric ? Int(raw) : classNames.firstIndex(of: raw) else {
        try summary.reject(
          .badRow(file: file, row: i + 2, reason: "empty label"), reason: "bad label",
          policy: options.onBadRow)
        continue
      }
      let rel = row[pathCol]
      let path = rel.hasPrefix("/") ? rel : (base as NSString).appendingPathComponent(rel)
      guard fm.fileExists(atPath: path) else {
        try summary.reject(
          .badRow(file: file, row: i + 2, reason: "image \(rel) not found"),
          reason: "missing image", policy: options.onMissingImage)
        continue
      }
      var attributes: [String: String] = [:]
      for (c, name) in attributeCols { attributes[name] = HAM10000.nonEmpty(row[c]) }
      guard summary.admit(attributes, options: options) else { continue }
      let text = textCol.map { row[$0] }.flatMap { $0.isEmpty ? nil : $0 }
      let split = splitCol.map { row[$0] }.flatMap { $0.isEmpty ? nil : $0 }
      let group = groupCol.map { row[$0] }.flatMap { $0.isEmpty ? nil : $0 }
      samples.append(
        Sample(
          id: id, source: .file(path), label: label,
          attributes: attributes, text: text, groupID: group, split: split))
    }
    let fields = attributeCols.map {
      AttributeSpec(column: $0.element, bins: $0.element == "age" ? GroupingSpec.sexAge.attributes[1].bins : nil)
    }
    return Dataset(
      name: (file as NSString).lastPathComponent, classNames: classNames, samples: samples,
      defaultGroups: GroupingSpec(attributes: fields), summary: summary)
  }
}

/// Which layout a `--data kind:PATH` argument names.
public enum DatasetKind: String, Sendable, CaseIterable {
  case ham10000, bcn20000, fairvlmed, manifest

  /// What the kind's PATH is: `ham10000:DIR`, `manifest:FILE.csv`.
  public var argumentForm: String { self == .manifest ? "\(rawValue):FILE.csv" : "\(rawValue):DIR" }

  /// Every accepted `--data` form, for help texts: "ham10000:DIR, bcn20000:DIR, fairvlmed:DIR or manifest:FILE.csv".
  public static var argumentForms: String {
    let forms = allCases.map(\.argumentForm)
    return forms.dropLast().joined(separator: ", ") + " or " + forms.last!
  }

  /// Splits `kind:PATH`; an unknown or missing kind is an error naming the kinds.
  public static func parse(_ spec: String) throws -> (kind: DatasetKind, path: String) {
    guard let colon = spec.firstIndex(of: ":"),
      let kind = DatasetKind(rawValue: spec[..<colon].lowercased())
    else {
      throw DataError.invalidArgument(
        "--data must be KIND:PATH with KIND one of \(allCases.map(\.rawValue).joined(separator: ", ")); got '\(spec)'")
    }
    return (kind, String(spec[spec.index(after: colon)...]))
  }

  /// Parses `kind:PATH` and loads it.
  public static func load(
    _ spec: String, labels: DermLabelMap = .malignant,
    options: LoadOptions = LoadOptions()
  ) throws -> Dataset {
    let (kind, path) = try parse(spec)
    switch kind {
    case .ham10000: return try HAM10000.load(directory: path, labels: labels, options: options)
    case .bcn20000: return try BCN20000.load(directory: path, labels: labels, options: options)
    case .fairvlmed: return try FairVLMed.load(directory: path, options: options)
    case .manifest: return try Manifest.load(file: path, options: options)
    }
  }
}
