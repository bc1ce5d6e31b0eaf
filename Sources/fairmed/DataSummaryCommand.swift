import Fairness
import ArgumentParser
import Data

/// `fairmed data summary --data KIND:PATH`: prints a dataset card.
struct DataSummaryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "summary",
    abstract: "Print a dataset card: counts per split × subgroup × label, missing values, image sizes, warnings.")

  @Option(help: "ham10000:DIR | bcn20000:DIR | fairvlmed:DIR | manifest:FILE.csv") var data: String
  @Option(help: "Subgroup attributes, numeric ones with bin edges: e.g. sex,age:40:60 (default: the dataset's).") var groups: String?
  @Option(help: "Batch size for the coverage check and warnings.") var batchSize: Int = 64
  @Option(help: "Label map for dermatology data.") var labels = DermLabelMap.malignant
  @Option(help: "Bad rows (unknown codes, unparsable values).") var onBadRow = RowPolicy.fail
  @Option(help: "Rows whose image is missing.") var onMissingImage = RowPolicy.fail
  @Option(help: "Split file (id,split CSV) to apply.") var split: String?
  @Option(help: "Seed for the split shown when the layout has none.") var seed: UInt64 = 0

  func validate() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
  }

  func run() throws {
    var dataset = try DatasetKind.load(data, labels: labels, options: LoadOptions(onBadRow: onBadRow, onMissingImage: onMissingImage))
    if let split { dataset = try SplitAssignment.load(from: split).apply(to: dataset) }
    let spec = try groups.map { try GroupingSpec(parsing: $0) }
    try spec?.validate(dataset)
    print(DatasetCard.render(dataset, groups: spec, batchSize: batchSize, seed: seed))
  }
}
