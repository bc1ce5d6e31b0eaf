import Foundation

/// Everything an audit can be asked to do.
public struct AuditConfiguration: Sendable {
  public var threshold: ThresholdRule = .argmax
  /// Groups with fewer rows are flagged and left out of gaps.
  public var minGroupSize: Int = 10
  /// Cells counted by what decides them (`--min-cell-count`): a group with fewer positives is
  /// flagged `few_positives` and left out of the gaps of TPR and FNR; one with fewer negatives is
  /// flagged `few_negatives` and left out of the gaps of FPR and TNR (it is still reported, with
  /// its counts). Default 5; nil: off.
  public var minCellCount: Int? = 5
  /// Include flagged groups in gaps anyway.
  public var includeSmallGroups = false
  /// Calibration bins of ECE and the reliability plot.
  public var eceBins: Int = 15
  /// Intervals: 1,000 stratified percentile-bootstrap replicates by default (``BootstrapOptions``);
  /// nil = none.
  public var bootstrap: BootstrapOptions? = BootstrapOptions()
  public var certainty = CertaintyOptions()
  /// A group name ("female|<40") whose metrics every group is compared to.
  public var referenceGroup: String? = nil
  /// Also audit each attribute alone.
  public var singleAttributeViews = true
  /// Points kept per ROC curve.
  public var rocPoints = 200
  /// The most intersectional groups audited (`--max-groups`); more is an error, not hours of work.
  public var maxGroups = 1000
  /// MMD² is computed between every pair of at most this many groups (the largest eligible ones).
  public var maxMMDGroups = 64
  /// Choose the MMD permutation count for the number of pairs: the fewest with which Holm over
  /// every pair can reach 0.05 (`MultipleTesting.permutationsNeeded`), at most
  /// ``maxAutomaticPermutations`` (`fairmed audit` without `--permutations`).
  public var automaticPermutations = false
  /// Called with (done, total) during the bootstrap.
  public var progress: (@Sendable (Int, Int) -> Void)? = nil
  /// Reads (labels, scores) of a validation file (threshold rules that need one).
  public var loadValidation: (@Sendable (String) throws -> (labels: [UInt8], scores: [Double]))? = nil
  public init() {}
}

extension AuditConfiguration {
  /// The largest accepted `--bootstrap` and `--permutations` counts.
  public static let maxReplicates = 100_000
  /// The most permutations per pair chosen automatically.
  public static let maxAutomaticPermutations = 10_000
  /// The largest accepted `--ece-bins`.
  public static let maxECEBins = 1_000

  /// Every out-of-range option, named by its flag, in one error.
  public func validate() throws {
    var problems: [String] = []
    if minGroupSize < 1 { problems.append("--min-group-size must be ≥ 1, got \(minGroupSize)") }
    if let m = minCellCount, !(1...1_000_000_000).contains(m) {
      problems.append("--min-cell-count must be in 1…1000000000 (0 on the command line: off), got \(m)")
    }
    if !(1...Self.maxECEBins).contains(eceBins) {
      problems.append("--ece-bins must be in 1…\(Self.maxECEBins), got \(eceBins)")
    }
    if let b = bootstrap {
      if !(1...Self.maxReplicates).contains(b.replicates) {
        problems.append("--bootstrap must be in 0…\(Self.maxReplicates), got \(b.replicates)")
      }
      if !(b.level > 0 && b.level < 1) {
        problems.append("the bootstrap interval level must be in (0, 1), got \(b.level)")
      }
    }
    let c = certainty
    if !(c.delta.isFinite && c.delta >= 0) { problems.append("--delta must be a finite number ≥ 0, got \(c.delta)") }
    if !(c.sigma.isFinite && c.sigma > 0) { problems.append("--mmd-sigma must be a finite number > 0, got \(c.sigma)") }
    if !(0...Self.maxReplicates).contains(c.permutations) {
      problems.append("--permutations must be in 0…\(Self.maxReplicates), got \(c.permutations)")
    }
    if c.maxPerGroup < 2 { problems.append("the MMD subsample per group must be ≥ 2, got \(c.maxPerGroup)") }
    if c.kdePoints < 2 { problems.append("the KDE grid needs ≥ 2 points, got \(c.kdePoints)") }
    if rocPoints < 2 { problems.append("the ROC curve needs ≥ 2 points, got \(rocPoints)") }
    if !(1...1_000_000).contains(maxGroups) { problems.append("--max-groups must be in 1…1000000, got \(maxGroups)") }
    if case .fixed(let t) = threshold, !t.isFinite { problems.append("--threshold must be finite, got \(t)") }
    guard problems.isEmpty else { throw AuditError.badOption(problems.joined(separator: "; ")) }
  }
}

extension AuditColumns {
  /// Refuses one column in two roles (`--label`, `--score`, `--margin`, a `--groups` attribute).
  public func validate(groups: GroupingSpec) throws {
    var roles: [(String, String)] = [("--label", label), ("--score", score)]
    if let margin, margin != "derive" { roles.append(("--margin", margin)) }
    roles += groups.attributes.map { ("--groups", $0.column) }
    var seen: [String: String] = [:]
    for (flag, column) in roles {
      if let first = seen[column] {
        throw AuditError.badOption(
          "column '\(column)' is given to both \(first) and \(flag); each role needs its own column")
      }
      seen[column] = flag
    }
  }
}
