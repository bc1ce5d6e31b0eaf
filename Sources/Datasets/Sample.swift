import Fairness
import Foundation

/// Where a sample's pixels live.
public enum ImageSource: Hashable, Sendable, CustomStringConvertible {
  /// A JPEG or PNG file (absolute or working-directory-relative path).
  case file(String)
  /// A 2-D array inside an `.npz` archive (FairVLMed's `slo_fundus`).
  case npz(path: String, key: String)

  /// Decodes the image (8-bit gray or RGB).
  public func load() throws -> PixelImage {
    switch self {
    case .file(let path):
      return try ImageCodec.decode(file: path)
    case .npz(let path, let key):
      guard let array = try Npz.read(path: path, keys: [key])[key] else {
        throw DataError.decode(file: path, reason: "missing key \(key)")
      }
      return try array.grayImage(name: "\(path)[\(key)]")
    }
  }

  public var description: String {
    switch self {
    case .file(let p): return p
    case .npz(let p, let k): return "\(p)[\(k)]"
    }
  }
}

/// One labelled image with its demographic attributes, in any of the supported layouts.
public struct Sample: Hashable, Sendable {
  /// Unique id within the dataset (HAM10000 `image_id`, FairVLMed file name, manifest path...).
  public var id: String
  public var source: ImageSource
  /// Class index into ``Dataset/classNames``.
  public var label: Int
  /// Attribute values as text ("female", "45", "unknown"...); missing values are "unknown".
  public var attributes: [String: String]
  /// Free text paired with the image (clinical note), when the dataset has one.
  public var text: String?
  /// Patient or lesion id: images sharing it never cross splits.
  public var groupID: String?
  /// Split given by the layout itself (FairVLMed folders, a manifest `split` column), if any.
  public var split: String?

  public init(
    id: String, source: ImageSource, label: Int, attributes: [String: String] = [:],
    text: String? = nil, groupID: String? = nil, split: String? = nil
  ) {
    self.id = id
    self.source = source
    self.label = label
    self.attributes = attributes
    self.text = text
    self.groupID = groupID
    self.split = split
  }
}

/// The value stored for a missing or unknown attribute.
public let unknownValue = "unknown"

/// A loaded dataset: samples, class names, the subgroups it is usually stratified by, and what
/// happened while loading it.
public struct Dataset: Sendable {
  public var name: String
  public var classNames: [String]
  public var samples: [Sample]
  /// The intersectional subgroups used by default (e.g. sex × age bins for dermatology).
  public var defaultGroups: GroupingSpec
  public var summary: LoadSummary

  public init(
    name: String, classNames: [String], samples: [Sample], defaultGroups: GroupingSpec,
    summary: LoadSummary = LoadSummary()
  ) {
    self.name = name
    self.classNames = classNames
    self.samples = samples
    self.defaultGroups = defaultGroups
    self.summary = summary
  }

  public var count: Int { samples.count }

  /// The samples whose ``Sample/split`` is `name`.
  public func split(_ name: String) -> Dataset {
    var d = self
    d.samples = samples.filter { $0.split == name }
    return d
  }

  /// Split names present, in train/val/test order first.
  public var splitNames: [String] {
    let present = Set(samples.compactMap(\.split))
    let order = ["train", "val", "test"]
    return order.filter(present.contains) + present.subtracting(order).sorted()
  }
}

/// What to do with a row that cannot be used (unknown code, unparsable number, missing image).
public enum RowPolicy: String, Sendable, CaseIterable {
  /// Stop with an error naming the file and row (default).
  case fail
  /// Skip the row and count it in the ``LoadSummary``.
  case skip
}

/// Options shared by every loader.
public struct LoadOptions: Sendable {
  /// Rows with an invalid value (unknown dx, unparsable age...).
  public var onBadRow: RowPolicy
  /// Rows whose image file does not exist.
  public var onMissingImage: RowPolicy
  /// Rows with a missing/unknown value in any of these attributes are dropped (and counted);
  /// other missing values are kept as "unknown" (and counted).
  public var dropUnknownIn: Set<String>
  /// Whether a manifest must have a `label` column. A pretraining corpus (image–caption pairs)
  /// need not: without one its ``Dataset/classNames`` is empty and every ``Sample/label`` is 0.
  public var requireLabels: Bool

  public init(
    onBadRow: RowPolicy = .fail, onMissingImage: RowPolicy = .fail, dropUnknownIn: Set<String> = [],
    requireLabels: Bool = true
  ) {
    self.onBadRow = onBadRow
    self.onMissingImage = onMissingImage
    self.dropUnknownIn = dropUnknownIn
    self.requireLabels = requireLabels
  }
}

/// Counts from loading: rows read, kept, skipped by reason, and missing values per attribute.
public struct LoadSummary: Sendable, Equatable {
  public var rowsRead = 0
  public var kept = 0
  /// Skipped rows by reason ("unknown dx", "missing image"...).
  public var skipped: [String: Int] = [:]
  /// The first few skipped rows, as "file, row n: reason".
  public var skippedExamples: [String] = []
  /// Attribute → number of kept rows where it is missing/unknown.
  public var unknownValues: [String: Int] = [:]

  public init() {}

  /// Applies `policy` to a bad row: throws `error` under `.fail`, else counts it under `reason`.
  mutating func reject(_ error: DataError, reason: String, policy: RowPolicy) throws {
    if policy == .fail { throw error }
    skipped[reason, default: 0] += 1
    if skippedExamples.count < 5 { skippedExamples.append(error.description) }
  }

  /// Records a kept sample's unknown attributes, or rejects it when one is listed in `dropUnknownIn`.
  mutating func admit(_ attributes: [String: String], options: LoadOptions) -> Bool {
    let unknown = attributes.filter { $0.value == unknownValue }.map(\.key)
    if let a = unknown.first(where: options.dropUnknownIn.contains) {
      skipped["unknown \(a)", default: 0] += 1
      return false
    }
    for a in unknown { unknownValues[a, default: 0] += 1 }
    kept += 1
    return true
  }
}

/// Lists a folder's image files by base name (without extension) → path.
func indexImages(in folders: [String], extensions: Set<String> = ["jpg", "jpeg", "png"]) -> [String: String] {
  var index: [String: String] = [:]
  let fm = FileManager.default
  for folder in folders {
    guard let names = try? fm.contentsOfDirectory(atPath: folder) else { continue }
    for name in names.sorted() {
      let url = URL(fileURLWithPath: name)
      guard extensions.contains(url.pathExtension.lowercased()) else { continue }
      let stem = url.deletingPathExtension().lastPathComponent
      if index[stem] == nil { index[stem] = (folder as NSString).appendingPathComponent(name) }
    }
  }
  return index
}

/// "45.0" → "45", "47.5" → "47.5"; nil for empty/unknown text; throws-free parse helper.
func formatNumber(_ v: Double) -> String {
  v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}
