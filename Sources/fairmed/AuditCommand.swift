import ArgumentParser
import Fairness
import Foundation
import Report
import Support

private let d = AuditConfiguration()
private let columns = AuditColumns()

/// `fairmed audit`: the intersectional fairness audit of any model's predictions.
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Audit predictions per intersectional subgroup: gaps, worst groups, intervals, certainty.",
    discussion: """
      Writes audit.json, groups.csv, audit.md and audit.html into --out (atomically). An --out \
      that holds anything is refused unless --overwrite replaces the earlier audit it holds.

      --groups lists attribute columns separated by commas, in the grammar training uses too \
      (docs/METHOD.md §10). A column followed by ':' is binned: 'age:<40,40-59,>=60' (an \
      integer range a-b covers [a, b+1), so 59.5 is in 40-59), 'age:40:60' or \
      'age:edges=40,60' (the same bins); bins must ascend and not overlap; values outside every \
      bin count as missing. After a binned column, a token starting with '<', '>', a digit, \
      '-', '+' or '.' continues its bins; any other token starts a new attribute. Example: \
      --groups sex,age:<40,40-59,>=60,site

      --threshold: a number, 'argmax' (0.5), 'youden:VAL.csv' (Youden's J on a validation file \
      with the same label/score columns), or 'sensitivity:T[:VAL.csv]' (highest threshold whose \
      overall sensitivity reaches T, on VAL.csv or the audited data), or 'model:RUN_DIR' (the \
      threshold `fairmed train` chose on its validation predictions and saved with best/). \
      Predicted positive iff score >= threshold.

      The column defaults are those of the predictions CSV that `fairmed predict` and \
      `fairmed zero-shot` write (\(PredictionsCSV.layout)): audit it with \
      --margin \(PredictionsCSV.margin) --threshold model:RUN_DIR.
      """)

  /// `--missing`: what a missing attribute value does.
  enum MissingChoice: String, CaseIterable, ExpressibleByArgument { case level, drop }
  /// `--resampling`: bootstrap within groups or over all rows.
  enum Resampling: String, CaseIterable, ExpressibleByArgument { case stratified, plain }

  @Option(help: "Predictions CSV (RFC 4180).") var predictions: String
  @Option(help: "Label column (values 0/1).") var label = columns.label
  @Option(help: "Score column: probability of the positive class.") var score = columns.score
  @Option(
    help:
      "Certainty margin column (`fairmed predict` writes '\(PredictionsCSV.margin)'), or 'derive' for p_y − p_(1−y) from the score; without it the audit has no certainty analysis."
  ) var margin: String?
  @OptionGroup var groupOption: RequiredGroupOptions<AuditCommand>
  @Option(help: "Threshold rule (see above).") var threshold = "argmax"
  @Option(help: "Groups smaller than this are flagged and left out of gaps.") var minGroupSize = d.minGroupSize
  @Option(
    help:
      "Flag groups with fewer positives (negatives) than this and leave them out of TPR/FNR (FPR/TNR) gaps; 0 = off."
  ) var minCellCount = d.minCellCount ?? 0
  @Flag(help: "Include flagged groups in gaps.") var includeSmallGroups = false
  @Option(help: "Missing attribute values: a separate level, or drop the row.") var missing = MissingChoice.level
  @Option(help: "Name of the missing level.") var missingLabel = "unknown"
  @Option(parsing: .singleValue, help: "Relabel a value: column:raw=shown (repeatable).") var relabel: [String] = []
  @Option(help: "Reference group name, e.g. 'male|40-59'.") var reference: String?
  @Option(help: "Bootstrap replicates, 0 = none (at most \(AuditConfiguration.maxReplicates)).")
  var bootstrap = d.bootstrap?.replicates ?? 0
  @Option(help: "Bootstrap resampling: within groups, or over all rows.") var resampling = Resampling.stratified
  @Option(
    help:
      "Bootstrapped metrics: all; counts (count-based metrics and their gaps, by per-cell resampling; AUC gets DeLong's interval, Brier and ECE none); auto: all up to \(BootstrapOptions.autoRowLimit) rows, counts above."
  ) var bootstrapMetrics = d.bootstrap?.scope ?? .auto
  @Option(help: "Seed of the bootstrap and MMD permutations.") var seed: UInt64 = d.certainty.seed
  @Option(help: "Calibration bins (ECE), 1…\(AuditConfiguration.maxECEBins).") var eceBins = d.eceBins
  @Option(help: "Uncertainty zone half-width delta (|s| < delta).") var delta = d.certainty.delta
  @Option(help: "MMD kernel bandwidth sigma (units of the margin).") var mmdSigma = d.certainty.sigma
  @Option(
    help:
      "MMD permutations per pair (at most \(AuditConfiguration.maxReplicates)); default: the fewest with which Holm over every pair can reach p ≤ \(MultipleTesting.alpha), at most \(AuditConfiguration.maxAutomaticPermutations)."
  ) var permutations: Int?
  @Option(help: "The most intersectional groups audited.") var maxGroups = d.maxGroups
  @Flag(help: "Print the time of each phase to stderr.") var timings = false
  @OptionGroup var output: OutputOptions<AuditCommand>

  func configuration() throws -> AuditConfiguration {
    var config = AuditConfiguration()
    config.threshold = try ThresholdRule.parse(threshold)
    config.minGroupSize = minGroupSize
    config.includeSmallGroups = includeSmallGroups
    config.minCellCount = minCellCount == 0 ? nil : minCellCount
    config.eceBins = eceBins
    config.referenceGroup = reference
    config.maxGroups = maxGroups
    config.certainty.delta = delta
    config.certainty.sigma = mmdSigma
    if let permutations {
      config.certainty.permutations = permutations
    } else {
      config.automaticPermutations = true
    }
    config.certainty.seed = seed
    config.bootstrap = nil
    if bootstrap != 0 {
      config.bootstrap = BootstrapOptions(
        replicates: bootstrap, seed: seed, stratified: resampling == .stratified,
        scope: bootstrapMetrics)
      config.progress = Self.progress(start: DispatchTime.now().uptimeNanoseconds)
    }
    try config.validate()
    return config
  }

  func run() throws {
    let attributes = try GroupingSpec.relabel(GroupingSpec.parse(groupOption.groups), rules: relabel)
    let request = AuditRequest(
      predictions: URL(fileURLWithPath: predictions),
      columns: AuditColumns(label: label, score: score, margin: margin),
      groups: GroupingSpec(attributes: attributes, missing: missing == .drop ? .drop : .level(missingLabel)),
      configuration: try configuration(), output: URL(fileURLWithPath: output.out),
      commandLine: CommandLine.arguments)
    try output.check()
    let result = try AuditPipeline.run(request)
    print(AuditPipeline.headline(result, out: output.out))
    if timings {
      for t in result.timings {
        let name = t.phase.padding(toLength: 26, withPad: " ", startingAt: 0)
        FileHandle.standardError.write(Data("\(name) \(String(format: "%8.3f", t.seconds)) s\n".utf8))
      }
    }
  }

  /// Bootstrap progress on stderr, every 10%, once the bootstrap has run for 2 s (a quick one
  /// prints nothing).
  static func progress(start: UInt64) -> @Sendable (Int, Int) -> Void {
    { done, total in
      guard done == total || done % max(1, total / 10) == 0,
        DispatchTime.now().uptimeNanoseconds - start > 2_000_000_000
      else { return }
      FileHandle.standardError.write(Data("bootstrap \(done)/\(total)\n".utf8))
    }
  }
}

extension AuditCommand: GroupsWording, OutputWording {
  static let groupsHelp = "Group attributes (see above)."
  static let outHelp = "Output folder."
  static let overwriteHelp = "Replace the earlier audit in --out."
}
