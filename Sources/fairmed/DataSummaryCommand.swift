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
  @Option(help: "Label map for dermatology data: malignant | malignant-medfair | dx.") var labels: String = "malignant"
  @Option(help: "Bad rows (unknown codes, unparsable values): fail | skip.") var onBadRow: String = "fail"
  @Option(help: "Rows whose image is missing: fail | skip.") var onMissingImage: String = "fail"
  @Option(help: "Split file (id,split CSV) to apply.") var split: String?
  @Option(help: "Seed for the split shown when the layout has none.") var seed: UInt64 = 0

  func run() throws {
    guard let labelMap = DermLabelMap(rawValue: labels) else { throw ValidationError("unknown --labels \(labels)") }
    guard let bad = RowPolicy(rawValue: onBadRow), let missing = RowPolicy(rawValue: onMissingImage) else {
      throw ValidationError("--on-bad-row / --on-missing-image take fail or skip")
    }
    var dataset = try DatasetKind.load(data, labels: labelMap, options: LoadOptions(onBadRow: bad, onMissingImage: missing))
    if let split { dataset = try SplitAssignment.load(from: split).apply(to: dataset) }
    let spec = try groups.map { try GroupSpec(parsing: $0) }
    print(DatasetCard.render(dataset, groups: spec, batchSize: batchSize, seed: seed))
  }
}
