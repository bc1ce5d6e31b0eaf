import Fairness
import ArgumentParser
import Datasets
import Support

/// `fairmed data split --data KIND:PATH --out split.csv`: writes a seeded, stratified, grouped split.
struct DataSplitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "split",
    abstract: "Write a seeded split (id,split CSV) stratified by label × subgroup and grouped by lesion/patient id.")

  @OptionGroup var dataOption: DataOptions
  @OptionGroup var output: OutputOptions<DataSplitCommand>
  @OptionGroup var groupOption: GroupOptions<DataSplitCommand>
  @Option(help: "Fractions train,val,test.") var fractions: String = "0.7,0.1,0.2"
  @Option(help: "Random seed.") var seed: UInt64 = 0
  @OptionGroup var labelOption: LabelMapOptions

  func run() throws {
    let f = fractions.split(separator: ",").compactMap { Double($0) }
    guard f.count == 3, f.allSatisfy({ $0.isFinite && $0 >= 0 }), f.reduce(0, +) > 0, f.reduce(0, +).isFinite else {
      throw ValidationError("--fractions needs three non-negative numbers with a finite positive sum, e.g. 0.7,0.1,0.2")
    }
    try output.check()
    let out = output.out
    let dataset = try DatasetKind.load(dataOption.data, labels: labelOption.labels)
    let spec = try groupOption.groups.map { try GroupingSpec(parsing: $0) }
    try spec?.validate(dataset)
    let split = SplitAssignment.make(
      dataset, fractions: zip(["train", "val", "test"], f).map { ($0, $1) },
      groups: spec, seed: seed)
    try split.save(to: out)
    let counts = Dictionary(grouping: split.splitOf.values, by: { $0 }).mapValues(\.count)
    print("wrote \(out): " + ["train", "val", "test"].map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", "))
  }
}

extension DataSplitCommand: GroupsWording, OutputWording {
  static let groupsHelp = "Subgroups to stratify by (default: the dataset's), e.g. sex,age:40:60."
  static let outHelp = "Output CSV."
}
