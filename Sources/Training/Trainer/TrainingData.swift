import Fairness
import Datasets
import Foundation

/// The datasets of a run: training and validation splits, subgroup ids, and class prompts.
public struct TrainingData {
  public let train: Dataset
  public let val: Dataset
  public let groupSpec: GroupingSpec
  /// Subgroup names ("female|<40"), sorted; a sample's group id is its index here.
  public let groupNames: [String]
  /// One prompt per class.
  public let prompts: [String]
  /// Whether every training sample has a text (clinical note).
  public let hasNotes: Bool

  /// Training samples per subgroup and label (`[group][label]`): the model card's data table.
  public var trainingCounts: [String: [Int: Int]] {
    var out: [String: [Int: Int]] = [:]
    for s in train.samples { out[groupSpec.key(s), default: [:]][s.label, default: 0] += 1 }
    return out
  }

  /// Loads `config.data` (and `config.val`, or holds out a seeded grouped split of the
  /// training data, or uses the data's own `val` split when it has one).
  /// A pretraining run needs no labels, prompts or groups (one group, no prompts), and every
  /// sample must have a caption.
  public init(config: RunConfig) throws {
    let pretraining = config.objective == .pretrain
    groupSpec = pretraining ? GroupingSpec(attributes: []) : try GroupingSpec(parsing: config.groups)
    let options = LoadOptions(requireLabels: !pretraining)
    let full = try DatasetKind.load(config.data, options: options)
    try groupSpec.validate(full)
    var train = full, val: Dataset
    if let v = config.val {
      val = try DatasetKind.load(v, options: options)
      try groupSpec.validate(val)
      if full.splitNames.contains("train") { train = full.split("train") }
    } else if full.splitNames.contains("train") && full.splitNames.contains("val") {
      train = full.split("train")
      val = full.split("val")
    } else {
      let base = full.splitNames.contains("train") ? full.split("train") : full
      let split = try SplitAssignment.make(
        base, fractions: [("train", 1 - config.valFraction), ("val", config.valFraction)],
        groups: groupSpec, seed: config.seed
      ).apply(to: base)
      train = split.split("train")
      val = split.split("val")
    }
    guard train.count > 0 else { throw TrainingError.data("\(config.data): no training samples") }
    guard val.count > 0 else { throw TrainingError.data("\(config.val ?? config.data): no validation samples") }
    self.train = train
    self.val = val
    groupNames = Set((train.samples + val.samples).map(groupSpec.key)).sorted()
    hasNotes = train.samples.allSatisfy { !($0.text ?? "").isEmpty }
    if pretraining {
      for (spec, set) in [(config.data, train), (config.val ?? config.data, val)] {
        if let s = set.samples.first(where: { ($0.text ?? "").isEmpty }) {
          throw TrainingError.data(
            "\(spec): sample '\(s.id)' has no caption; pretraining pairs every image with its text (a manifest's text column, or the layout's notes)"
          )
        }
      }
      prompts = []
      return
    }
    prompts = try config.prompts ?? Self.defaultPrompts(dataSpec: config.data, classNames: full.classNames)
    guard prompts.count == full.classNames.count else {
      throw TrainingError.invalidConfig([
        "\(prompts.count) prompts given for \(full.classNames.count) classes (\(full.classNames.joined(separator: ", ")))"
      ])
    }
  }

  /// Group id of each key (unknown keys get nil).
  public func groupIDs(_ keys: [String]) -> [Int] {
    let index = Dictionary(uniqueKeysWithValues: groupNames.enumerated().map { ($1, $0) })
    return keys.map { index[$0] ?? 0 }
  }

  /// Prompts by dataset kind (docs/METHOD.md §2): dermoscopy and FairCLIP's glaucoma prompts; a
  /// generic template over the class names otherwise.
  public static func defaultPrompts(dataSpec: String, classNames: [String]) throws -> [String] {
    let kind = dataSpec.split(separator: ":").first.map { $0.lowercased() } ?? ""
    if (kind == "ham10000" || kind == "bcn20000") && classNames.count == 2 {
      return ["a dermoscopy image of a benign lesion", "a dermoscopy image of a malignant lesion"]
    }
    if kind == "fairvlmed" { return ["A photo of non-glaucoma", "A photo of glaucoma"] }
    return classNames.map { "a medical image of \($0)" }
  }
}
