import Fairness
import Foundation

/// Harvard-FairVLMed: `Training/ Validation/ Test/` folders of `data_*.npz` with keys `slo_fundus`
/// (2-D image), `glaucoma` (0/1), `age`, `gender` (0 female, 1 male), `race` (0 Asian, 1 Black,
/// 2 White), `ethnicity`, `language`, `maritalstatus` (−1 = unknown), `note`; plus an optional
/// summarised-notes CSV in the root (a `filename` column and a column whose name contains
/// "summary"), whose text replaces `note`.
public enum FairVLMed {
  /// Folder → split name.
  public static let splitFolders = [("Training", "train"), ("Validation", "val"), ("Test", "test")]

  /// Code → name for the categorical keys (−1 or anything unlisted → "unknown").
  public static let codes: [String: [String]] = [
    "gender": ["female", "male"],
    "race": ["asian", "black", "white"],
    "ethnicity": ["non-hispanic", "hispanic"],
    "language": ["english", "spanish", "other"],
    "maritalstatus": ["married-or-partnered", "single", "divorced", "widowed", "legally-separated"],
  ]

  /// Age × gender × race (age bins <60, ≥60): the paper's glaucoma strata.
  public static let defaultGroups = GroupingSpec(attributes: [
    AttributeSpec(
      column: "age",
      bins: [
        NumericBin(label: "<60", lower: -.infinity, lowerInclusive: true, upper: 60, upperInclusive: false),
        NumericBin(label: ">=60", lower: 60, lowerInclusive: true, upper: .infinity, upperInclusive: true),
      ]),
    AttributeSpec(column: "gender"), AttributeSpec(column: "race"),
  ])

  /// Loads every split; each npz is opened once to read its scalar keys (the image is decoded
  /// later, by the loader). A truncated or unreadable npz is a bad row (file named).
  public static func load(directory: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
    let fm = FileManager.default
    var notes: [String: String] = [:]
    for name in ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    where name.lowercased().hasSuffix(".csv") {
      let table = try CSVTable(contentsOf: (directory as NSString).appendingPathComponent(name))
      guard let f = table.column("filename"),
        let s = table.header.firstIndex(where: { $0.lowercased().contains("summary") })
      else { continue }
      for r in table.rows { notes[r[f]] = r[s] }
    }
    var summary = LoadSummary()
    var samples: [Sample] = []
    var foundFolder = false
    for (folder, split) in splitFolders {
      let dir = (directory as NSString).appendingPathComponent(folder)
      guard let files = try? fm.contentsOfDirectory(atPath: dir) else { continue }
      foundFolder = true
      for file in files.sorted() where file.hasSuffix(".npz") {
        summary.rowsRead += 1
        let path = (dir as NSString).appendingPathComponent(file)
        let arrays: [String: NpyArray]
        do {
          arrays = try Npz.read(path: path, excluding: ["slo_fundus", "note_extra"])
        } catch let error as DataError {
          try summary.reject(error, reason: "unreadable npz", policy: options.onBadRow)
          continue
        }
        guard let g = arrays["glaucoma"]?.scalar, g == 0 || g == 1 else {
          try summary.reject(
            .decode(file: path, reason: "'glaucoma' missing or not 0/1"),
            reason: "bad label", policy: options.onBadRow)
          continue
        }
        var attributes: [String: String] = [:]
        if let a = arrays["age"]?.scalar, a >= 0, a.isFinite {
          attributes["age"] = formatNumber(a)
        } else {
          attributes["age"] = unknownValue
        }
        for (key, names) in codes {
          if let v = arrays[key]?.scalar, let i = Int(exactly: v), names.indices.contains(i) {
            attributes[key] = names[i]
          } else if let s = arrays[key]?.string, !s.isEmpty {
            attributes[key] = s.lowercased()
          } else {
            attributes[key] = unknownValue
          }
        }
        guard summary.admit(attributes, options: options) else { continue }
        let id = (file as NSString).deletingPathExtension
        samples.append(
          Sample(
            id: id, source: .npz(path: path, key: "slo_fundus"), label: Int(g),
            attributes: attributes, text: notes[file] ?? arrays["note"]?.string,
            groupID: nil, split: split))
      }
    }
    guard foundFolder else {
      throw DataError.layout("\(directory): no Training/, Validation/ or Test/ folder (is this a FairVLMed folder?)")
    }
    return Dataset(
      name: "FairVLMed", classNames: ["non-glaucoma", "glaucoma"], samples: samples,
      defaultGroups: defaultGroups, summary: summary)
  }
}
