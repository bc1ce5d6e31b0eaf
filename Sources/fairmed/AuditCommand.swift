import ArgumentParser
import Fairness
import Foundation
import Report

/// `fairmed audit`: the intersectional fairness audit of any model's predictions.
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Audit predictions per intersectional subgroup: gaps, worst groups, intervals, certainty.",
    discussion: """
      Writes audit.json, groups.csv, audit.md and audit.html into --out (atomically).

      --groups lists attribute columns separated by commas. A column followed by ':' is binned: \
      'age:<40,40-59,>=60' (a-b includes both ends) or 'age:edges=40,60'. After a binned \
      column, a token starting with '<', '>', a digit, '-', '+' or '.' continues its bins; any \
      other token starts a new attribute. Example: --groups sex,age:<40,40-59,>=60,site

      --threshold: a number, 'argmax' (0.5), 'youden:VAL.csv' (Youden's J on a validation file \
      with the same label/score columns), or 'sensitivity:T[:VAL.csv]' (highest threshold whose \
      overall sensitivity reaches T, on VAL.csv or the audited data). Predicted positive iff \
      score >= threshold.
      """)

  @Option(help: "Predictions CSV (RFC 4180).") var predictions: String
  @Option(help: "Label column (values 0/1).") var label = "y"
  @Option(help: "Score column: probability of the positive class.") var score = "p"
  @Option(help: "Certainty margin column, or 'derive' for p_y − p_(1−y) from the score.") var margin: String?
  @Option(help: "Group attributes (see above).") var groups: String
  @Option(help: "Threshold rule (see above).") var threshold = "argmax"
  @Option(help: "Groups smaller than this are flagged and left out of gaps.") var minGroupSize = 10
  @Flag(help: "Include flagged groups in gaps.") var includeSmallGroups = false
  @Option(help: "Missing attribute values: 'drop' or 'level' (a separate level).") var missing = "level"
  @Option(help: "Name of the missing level.") var missingLabel = "unknown"
  @Option(parsing: .singleValue, help: "Relabel a value: column:raw=shown (repeatable).") var relabel: [String] = []
  @Option(help: "Reference group name, e.g. 'male|40-59'.") var reference: String?
  @Option(help: "Bootstrap replicates (0 = none).") var bootstrap = 0
  @Option(help: "Bootstrap resampling: 'stratified' (within groups) or 'plain'.") var resampling = "stratified"
  @Option(help: "Seed of the bootstrap and MMD permutations.") var seed: UInt64 = 7
  @Option(help: "Calibration bins (ECE).") var eceBins = 15
  @Option(help: "Uncertainty zone half-width delta (|s| < delta).") var delta = 0.05
  @Option(help: "MMD kernel bandwidth sigma (units of the margin).") var mmdSigma = 0.1
  @Option(help: "MMD permutations per pair.") var permutations = 200
  @Option(help: "Output folder.") var out: String

  func run() throws {
    var attributes = try GroupingSpec.parse(groups)
    for r in relabel {
      guard let colon = r.firstIndex(of: ":"), let eq = r[colon...].firstIndex(of: "=") else {
        throw ValidationError("--relabel expects column:raw=shown, got '\(r)'")
      }
      let column = String(r[..<colon])
      guard let i = attributes.firstIndex(where: { $0.column == column }) else {
        throw ValidationError("--relabel: '\(column)' is not in --groups")
      }
      attributes[i].relabel[String(r[r.index(after: colon)..<eq])] = String(r[r.index(after: eq)...])
    }
    guard missing == "drop" || missing == "level" else { throw ValidationError("--missing must be drop or level") }
    guard resampling == "stratified" || resampling == "plain" else { throw ValidationError("--resampling must be stratified or plain") }
    var config = AuditConfiguration()
    config.threshold = try ThresholdRule.parse(threshold)
    config.minGroupSize = minGroupSize
    config.includeSmallGroups = includeSmallGroups
    config.eceBins = eceBins
    config.referenceGroup = reference
    config.certainty.delta = delta
    config.certainty.sigma = mmdSigma
    config.certainty.permutations = permutations
    config.certainty.seed = seed
    if bootstrap > 0 {
      config.bootstrap = BootstrapOptions(replicates: bootstrap, seed: seed, stratified: resampling == "stratified")
      if bootstrap >= 200 { config.progress = Self.progress }
    }
    let request = AuditRequest(
      predictions: URL(fileURLWithPath: predictions),
      columns: AuditColumns(label: label, score: score, margin: margin),
      groups: GroupingSpec(attributes: attributes, missing: missing == "drop" ? .drop : .level(missingLabel)),
      configuration: config, output: URL(fileURLWithPath: out))
    let result = try AuditPipeline.run(request)
    let d = result.intersectional.aggregates[.deltaTPR]!
    let names = result.intersectional.groups.map(\.name)
    print("audited \(result.rowsUsed) rows, \(names.count) groups; threshold \(result.threshold.rule) = \(result.threshold.value)")
    if let v = d.value, let hi = d.maxGroup, let lo = d.minGroup {
      print(String(format: "ΔTPR %.3f (%@ vs %@)", v, names[hi], names[lo]))
    }
    print("wrote \(out)/audit.json, groups.csv, audit.md, audit.html")
  }

  /// Bootstrap progress on stderr, every 10%.
  static let progress: @Sendable (Int, Int) -> Void = { done, total in
    if done == total || done % max(1, total / 10) == 0 {
      FileHandle.standardError.write(Data("bootstrap \(done)/\(total)\n".utf8))
    }
  }
}
