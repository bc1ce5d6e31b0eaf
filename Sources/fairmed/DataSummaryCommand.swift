import Fairness
import ArgumentParser
import Datasets

/// `fairmed data summary --data KIND:PATH`: prints a dataset card.
struct DataSummaryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "summary",
    abstract: "Print a dataset card: counts per split × subgroup × label, missing values, image sizes, warnings.")

  @OptionGroup var dataOption: DataOptions
  @OptionGroup var groupOption: GroupOptions<DataSummaryCommand>
  @OptionGroup var batchOption: BatchSizeOptions<DataSummaryCommand>
  @OptionGroup var labelOption: LabelMapOptions
  @Option(help: "Bad rows (unknown codes, unparsable values).") var onBadRow = RowPolicy.fail
  @Option(help: "Rows whose image is missing.") var onMissingImage = RowPolicy.fail
  @Option(help: "Split file (id,split CSV) to apply.") var split: String?
  @Option(help: "Seed for the split shown when the layout has none.") var seed: UInt64 = 0

  func run() throws {
    var dataset = try DatasetKind.load(
      dataOption.data, labels: labelOption.labels,
      options: LoadOptions(onBadRow: onBadRow, onMissingImage: onMissingImage))
    if let split { dataset = try SplitAssignment.load(from: split).apply(to: dataset) }
    let spec = try groupOption.groups.map { try GroupingSpec(parsing: $0) }
    try spec?.validate(dataset)
    print(DatasetCard.render(dataset, groups: spec, batchSize: batchOption.batchSize, seed: seed))
  }
}

extension DataSummaryCommand: GroupsWording, BatchSizeWording {
  static let groupsHelp =
    "Subgroup attributes, numeric ones with bin edges: e.g. sex,age:40:60 (default: the dataset's)."
  static let defaultBatchSize = 64
  static let batchSizeHelp = "Batch size for the coverage check and warnings."
}
