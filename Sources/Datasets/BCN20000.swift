import Foundation

/// BCN20000 in the ISIC 2019 layout: a metadata CSV (`image, age_approx, anatom_site_general, sex
/// [, lesion_id]`), a ground-truth CSV (`image` + one-hot columns MEL, NV, BCC, AK, BKL, DF, VASC,
/// SCC, UNK) and images in `ISIC_2019_Training_Input/` (or the folder itself, or `images/`).
/// Attributes use HAM10000's names (sex, age, localization) so both sets share subgroups.
public enum BCN20000 {
  /// ISIC 2019 diagnosis columns mapped to HAM10000 dx codes (SCC counts as akiec, whose
  /// HAM10000 definition includes intraepithelial carcinoma).
  public static let columnToDx = [
    "MEL": "mel", "NV": "nv", "BCC": "bcc", "AK": "akiec", "BKL": "bkl",
    "DF": "df", "VASC": "vasc", "SCC": "akiec",
  ]

  public static func load(
    directory: String, labels: DermLabelMap = .malignant,
    options: LoadOptions = LoadOptions()
  ) throws -> Dataset {
    let fm = FileManager.default
    let names = (try? fm.contentsOfDirectory(atPath: directory).sorted()) ?? []
    func find(_ word: String) throws -> String {
      guard let n = names.first(where: { $0.lowercased().hasSuffix(".csv") && $0.lowercased().contains(word) }) else {
        throw DataError.layout(
          "\(directory): no *\(word)*.csv (expected ISIC_2019_Training_Metadata.csv and ..._GroundTruth.csv)")
      }
      return (directory as NSString).appendingPathComponent(n)
    }
    let metaPath = try find("metadata"), truthPath = try find("groundtruth")
    let meta = try CSVTable(contentsOf: metaPath), truth = try CSVTable(contentsOf: truthPath)
    let m = try ["image", "age_approx", "anatom_site_general", "sex"].map(meta.require)
    let lesionColumn = meta.column("lesion_id")
    let tImage = try truth.require("image")
    let classColumns = truth.header.enumerated().filter { $0.offset != tImage }
    var truthRows: [String: Int] = [:]
    for (i, r) in truth.rows.enumerated() { truthRows[r[tImage]] = i }
    let images = indexImages(
      in: ["ISIC_2019_Training_Input", "", "images"].map { (directory as NSString).appendingPathComponent($0) })
    var summary = LoadSummary()
    var samples: [Sample] = []
    var seen = Set<String>()
    for (i, row) in meta.rows.enumerated() {
      summary.rowsRead += 1
      let image = row[m[0]], rowNumber = i + 2
      guard seen.insert(image).inserted else {
        try summary.reject(
          .badRow(file: metaPath, row: rowNumber, reason: "duplicate image \(image)"),
          reason: "duplicate id", policy: options.onBadRow)
        continue
      }
      guard let t = truthRows[image] else {
        try summary.reject(
          .badRow(file: metaPath, row: rowNumber, reason: "image \(image) has no row in \(truthPath)"),
          reason: "no ground truth", policy: options.onBadRow)
        continue
      }
      // Every one-hot cell is a number in 0…1: an empty or unreadable one is not read as 0.
      let cells = classColumns.map {
        (name: $0.element, text: truth.rows[t][$0.offset].trimmingCharacters(in: .whitespaces))
      }
      if let bad = cells.first(where: { c in Double(c.text).map { !(0...1).contains($0) } ?? true }) {
        try summary.reject(
          .badRow(file: truthPath, row: t + 2, reason: "column \(bad.name): '\(bad.text)' is not a number in 0…1"),
          reason: "unusable diagnosis", policy: options.onBadRow)
        continue
      }
      let hot = cells.filter { Double($0.text)! >= 0.5 }.map(\.name)
      guard hot.count == 1, let dx = columnToDx[hot[0].uppercased()] else {
        let why =
          hot.count == 1 ? "diagnosis \(hot[0]) has no HAM10000 equivalent" : "ground truth is not one-hot (\(hot))"
        try summary.reject(
          .badRow(file: truthPath, row: t + 2, reason: why), reason: "unusable diagnosis",
          policy: options.onBadRow)
        continue
      }
      guard let age = HAM10000.parseAge(row[m[1]]) else {
        try summary.reject(
          .badRow(file: metaPath, row: rowNumber, reason: "unparsable age_approx '\(row[m[1]])'"),
          reason: "unparsable age", policy: options.onBadRow)
        continue
      }
      guard let sex = HAM10000.parseSex(row[m[3]]) else {
        try summary.reject(
          .badRow(file: metaPath, row: rowNumber, reason: "unknown sex '\(row[m[3]])'"),
          reason: "unknown sex code", policy: options.onBadRow)
        continue
      }
      guard let path = images[image] else {
        try summary.reject(
          .badRow(file: metaPath, row: rowNumber, reason: "image \(image).jpg not found in \(directory)"),
          reason: "missing image", policy: options.onMissingImage)
        continue
      }
      let attributes = ["sex": sex, "age": age, "localization": HAM10000.nonEmpty(row[m[2]]), "dx": dx]
      guard summary.admit(attributes, options: options) else { continue }
      let lesion = lesionColumn.map { row[$0] }.flatMap { $0.isEmpty ? nil : $0 }
      samples.append(
        Sample(
          id: image, source: .file(path), label: labels.label(dx: dx),
          attributes: attributes, groupID: lesion))
    }
    return Dataset(
      name: "BCN20000", classNames: labels.classNames, samples: samples,
      defaultGroups: .sexAge, summary: summary)
  }
}
