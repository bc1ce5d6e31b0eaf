import Fairness
import Foundation

/// Binary or multi-class targets for the dermatology datasets.
public enum DermLabelMap: String, Sendable, CaseIterable {
  /// malignant = {mel, bcc, akiec} (default).
  case malignant
  /// MEDFAIR's reading: malignant = {mel, akiec}; bcc counts as benign.
  case malignantMedfair = "malignant-medfair"
  /// The seven HAM10000 diagnoses.
  case dx

  /// HAM10000's diagnosis codes, in the 7-class label order.
  public static let dxCodes = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]

  public var classNames: [String] {
    self == .dx ? DermLabelMap.dxCodes : ["benign", "malignant"]
  }

  /// The label of a (valid) dx code.
  public func label(dx: String) -> Int {
    switch self {
    case .malignant: return ["mel", "bcc", "akiec"].contains(dx) ? 1 : 0
    case .malignantMedfair: return ["mel", "akiec"].contains(dx) ? 1 : 0
    case .dx: return DermLabelMap.dxCodes.firstIndex(of: dx)!
    }
  }
}

/// HAM10000 as distributed: `HAM10000_metadata.csv` (`lesion_id, image_id, dx, dx_type, age, sex,
/// localization[, dataset]`) and `<image_id>.jpg` in the folder itself, in `HAM10000_images_part_1`
/// / `HAM10000_images_part_2`, or in `HAM10000_images` / `images`.
public enum HAM10000 {
  public static let metadataNames = ["HAM10000_metadata.csv", "HAM10000_metadata"]
  public static let imageFolders = [
    "", "HAM10000_images_part_1", "HAM10000_images_part_2", "HAM10000_images", "images",
  ]

  /// Loads the dataset. Attributes: sex, age (numeric text; bin with ``GroupingSpec``), localization,
  /// dx_type, dx, and dataset when present. Missing age / "unknown" sex become "unknown".
  public static func load(
    directory: String, labels: DermLabelMap = .malignant,
    options: LoadOptions = LoadOptions()
  ) throws -> Dataset {
    let fm = FileManager.default
    guard
      let meta = metadataNames.map({ (directory as NSString).appendingPathComponent($0) })
        .first(where: { fm.fileExists(atPath: $0) })
    else {
      throw DataError.layout("\(directory): no HAM10000_metadata.csv (is this a HAM10000 folder?)")
    }
    let table = try CSVTable(contentsOf: meta)
    let cols = try ["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"].map(table.require)
    let datasetColumn = table.column("dataset")
    let images = indexImages(in: imageFolders.map { (directory as NSString).appendingPathComponent($0) })
    var summary = LoadSummary()
    var samples: [Sample] = []
    samples.reserveCapacity(table.rows.count)
    var seen = Set<String>()
    for (i, row) in table.rows.enumerated() {
      summary.rowsRead += 1
      let rowNumber = i + 2
      let lesion = row[cols[0]], imageID = row[cols[1]]
      guard seen.insert(imageID).inserted else {
        try summary.reject(
          .badRow(file: meta, row: rowNumber, reason: "duplicate image_id \(imageID)"),
          reason: "duplicate id", policy: options.onBadRow)
        continue
      }
      let dx = row[cols[2]].trimmingCharacters(in: .whitespaces).lowercased()
      guard DermLabelMap.dxCodes.contains(dx) else {
        try summary.reject(
          .badRow(
            file: meta, row: rowNumber,
            reason: "unknown dx '\(row[cols[2]])' (expected one of \(DermLabelMap.dxCodes.joined(separator: ", ")))"),
          reason: "unknown dx", policy: options.onBadRow)
        continue
      }
      guard let age = parseAge(row[cols[4]]) else {
        try summary.reject(
          .badRow(file: meta, row: rowNumber, reason: "unparsable age '\(row[cols[4]])'"),
          reason: "unparsable age", policy: options.onBadRow)
        continue
      }
      guard let sex = parseSex(row[cols[5]]) else {
        try summary.reject(
          .badRow(file: meta, row: rowNumber, reason: "unknown sex '\(row[cols[5]])'"),
          reason: "unknown sex code", policy: options.onBadRow)
        continue
      }
      guard let path = images[imageID] else {
        try summary.reject(
          .badRow(file: meta, row: rowNumber, reason: "image \(imageID).jpg not found in \(directory)"),
          reason: "missing image", policy: options.onMissingImage)
        continue
      }
      var attributes = [
        "sex": sex, "age": age, "dx": dx,
        "localization": nonEmpty(row[cols[6]]), "dx_type": nonEmpty(row[cols[3]]),
      ]
      if let c = datasetColumn { attributes["dataset"] = nonEmpty(row[c]) }
      guard summary.admit(attributes, options: options) else { continue }
      samples.append(
        Sample(
          id: imageID, source: .file(path), label: labels.label(dx: dx),
          attributes: attributes, groupID: lesion.isEmpty ? nil : lesion))
    }
    return Dataset(
      name: "HAM10000", classNames: labels.classNames, samples: samples,
      defaultGroups: .sexAge, summary: summary)
  }

  /// Empty / "unknown" / "nan" → "unknown"; a number → its text; anything else → nil (bad row).
  static func parseAge(_ text: String) -> String? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    if t.isEmpty || t == "unknown" || t == "nan" || t == "na" { return unknownValue }
    guard let v = Double(t), v.isFinite, v >= 0, v < 150 else { return nil }
    return formatNumber(v)
  }

  /// male/female (any case, also m/f) or empty/"unknown" → "unknown"; anything else → nil.
  static func parseSex(_ text: String) -> String? {
    switch text.trimmingCharacters(in: .whitespaces).lowercased() {
    case "male", "m": return "male"
    case "female", "f": return "female"
    case "", "unknown", "nan", "na": return unknownValue
    default: return nil
    }
  }

  static func nonEmpty(_ s: String) -> String {
    let t = s.trimmingCharacters(in: .whitespaces)
    return t.isEmpty || t.lowercased() == "unknown" || t.lowercased() == "nan" ? unknownValue : t
  }
}
