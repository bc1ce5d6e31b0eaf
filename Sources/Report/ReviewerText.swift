import Foundation
import Fairness
import Support

/// Sentences the three outputs share about the reviewer statistics: the ECE convention, the
/// tests and their correction, the temperature diagnostic, the MMD permutation floor.
enum ReviewerText {
  /// The ECE binning convention, stated once per output.
  static func eceConvention(_ bins: Int) -> String {
    "ECE uses \(bins) equal-width bins on [0, 1], each [a, b) and the last [a, 1] (scikit-learn's calibration_curve and Guo et al. use (a, b], which can differ on scores exactly at an edge; --ece-bins; FairMed's default is \(AuditConfiguration().eceBins), the peer tools' (fairmedfm, fairscope, fmm-fairness-eval) is 10, so their ECE differs unless --ece-bins 10)"
  }

  /// How this audit's intervals were made, in one sentence (every output states it).
  static func intervals(_ b: BootstrapOptions?, rows: Int) -> String {
    guard let b, b.replicates > 0 else {
      return
        "no intervals: the audit ran with --bootstrap 0 (the default, \(BootstrapOptions().replicates), gives every metric and gap its interval)"
    }
    var s =
      "\(ReportFormat.short(b.level * 100))% percentile bootstrap, \(b.replicates) \(b.stratified ? "stratified (within-group)" : "plain") replicates, seed \(b.seed); count-based metrics and their gaps resample per-cell counts (a multinomial draw per group, exactly row resampling's distribution of the counts)"
    if b.resamplesRows(rows) {
      s += "; AUC, Brier and ECE resample rows"
    } else {
      let why =
        b.scope == .counts
        ? "as --bootstrap-metrics counts asks"
        : "as \(rows) rows exceed the automatic limit of the row bootstrap, \(BootstrapOptions.autoRowLimit) (--bootstrap-metrics all resamples them anyway)"
      s +=
        "; AUC takes DeLong's analytic \(ReportFormat.short(b.level * 100))% interval instead, and Brier, ECE and the gaps of AUC have none, \(why)"
    }
    return s
  }

  static let aucTestMethod =
    "unpaired DeLong z-test of AUC_g − AUC_ref (the groups' rows are disjoint); per-group AUC intervals are DeLong's analytic 95% Wald intervals"
  static let tprTestMethod = "two-proportion z-test (pooled) of TPR_g − TPR_ref on the groups' positives"

  static func holm(_ k: Int) -> String { "Holm over \(k) test\(k == 1 ? "" : "s")" }

  static let temperatureInvariance =
    "temperature scaling is monotone: AUC and the ranking are unchanged, and so are the decisions when the threshold is scaled with the scores (t → σ(logit(t)/T)), hence every TPR/FPR gap; only calibration (ECE, Brier) changes"

  static func reference(_ r: AuditResult, _ s: SignificanceReport) -> String {
    s.reference.map { "\(r.intersectional.groups[$0].name) (\(s.referenceRule))" }
      ?? "none (no group has a defined AUC)"
  }

  /// The MMD permutation floor and whether Holm can reach ``MultipleTesting/alpha`` with it.
  static func mmdFloor(_ c: CertaintyReport, automatic: Bool) -> (floor: Double, allows: Bool, text: String) {
    let b = c.options.permutations
    let m = c.pairs.count
    let floor = 1 / Double(b + 1)
    let allows = m == 0 || Double(m) * floor <= MultipleTesting.alpha
    let how =
      automatic
      ? "\(b) permutations per pair, chosen for the \(m) pairs (the fewest with which Holm can reach \(MultipleTesting.alpha), at most \(AuditConfiguration.maxAutomaticPermutations))"
      : "\(b) permutations per pair (--permutations)"
    let text =
      "\(how); p ≥ 1/(B+1) = \(ReportFormat.sig3(floor)); p-values Holm-adjusted over the \(m) pairs: "
      + (allows
        ? "the floor allows a corrected p ≤ \(MultipleTesting.alpha)"
        : "the floor does not allow a corrected p ≤ \(MultipleTesting.alpha) (the smallest possible is \(ReportFormat.sig3(min(1, Double(m) * floor))); give --permutations \((try? MultipleTesting.permutationsNeeded(tests: max(1, m), alpha: MultipleTesting.alpha)) ?? 0) or more)")
    return (floor, allows, text)
  }

  /// The command as a reader should see it: each argument shell-quoted where needed, absolute
  /// paths shown as ``ReportFormat/displayPath(_:cwd:)`` does (audit.json keeps the exact words).
  static func command(_ args: [String]) -> String {
    args.map { arg -> String in
      var shown = arg
      if arg.hasPrefix("/") {
        shown = ReportFormat.displayPath(arg)
      } else if let colon = arg.range(of: ":/") {
        shown =
          String(arg[..<colon.lowerBound]) + ":"
          + ReportFormat.displayPath(String(arg[arg.index(after: colon.lowerBound)...]))
      } else if let eq = arg.range(of: "=/"), arg.hasPrefix("-") {
        shown =
          String(arg[..<eq.lowerBound]) + "="
          + ReportFormat.displayPath(String(arg[arg.index(after: eq.lowerBound)...]))
      }
      let safe = shown.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,+@%…<>".contains($0) } && !shown.isEmpty
      let needsQuote = !safe || shown.contains("<") || shown.contains(">")
      return needsQuote ? "'" + shown.replacingOccurrences(of: "'", with: "'\\''") + "'" : shown
    }.joined(separator: " ")
  }
}
