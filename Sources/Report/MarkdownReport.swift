import Foundation
import Fairness

/// audit.md: the readable summary: threshold, headline gaps with their groups, worst groups, warnings.
/// Numbers to three significant digits and paths relative, as in audit.html (``ReportFormat``).
public enum MarkdownReport {
  static func f(_ v: Double?) -> String { ReportFormat.sig3(v) }

  static func ci(_ i: Interval?) -> String {
    guard let i else { return "" }
    return " " + ReportFormat.interval(i)
  }

  /// A group name inside a Markdown table cell ('|' would end the cell).
  static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

  static let headline: [AggregateKey] = [
    .deltaTPR, .worstGroupTPR, .tprRatio, .deltaFPR, .deodds, .dpd, .worstGroupAUC, .esAUC, .esACC,
  ]

  public static func text(_ r: AuditResult) -> String {
    let a = r.intersectional
    var s = "# Fairness audit\n\n"
    s +=
      "- Input: `\(ReportFormat.displayPath(r.source))`: \(r.rows) rows, \(r.rowsUsed) audited, \(a.groups.count) intersectional groups of \(a.attributes.joined(separator: " × "))\n"
    s +=
      "- Threshold: **\(r.threshold.rule) = \(ReportFormat.short(r.threshold.value))**: \(ReportFormat.humanize(r.threshold.detail))\n"
    s += "- Gaps use groups with n ≥ \(r.configuration.minGroupSize) and at least one positive"
    s += r.configuration.includeSmallGroups ? " (small groups included on request)\n" : "\n"
    if let b = r.configuration.bootstrap {
      s +=
        "- Intervals: \(ReportFormat.short(b.level * 100))% percentile bootstrap, \(b.replicates) \(b.stratified ? "stratified" : "plain") replicates, seed \(b.seed)\n"
    }
    let o = a.overall
    s +=
      "\n## Overall\n\nAUC \(f(o[.auc]))\(ci(o.intervals[.auc])) · TPR \(f(o[.tpr]))\(ci(o.intervals[.tpr])) · FPR \(f(o[.fpr])) · accuracy \(f(o[.accuracy])) · Brier \(f(o[.brier])) · ECE \(f(o[.ece]))\n"
    s += "\n## Headline gaps\n\n| Aggregate | Value | 95% CI | Highest group | Lowest group |\n|---|---|---|---|---|\n"
    for k in headline {
      let v = a.aggregates[k]!
      let name = { (i: Int?) in i.map { cell(a.groups[$0].name) } ?? "" }
      let value = v.value.map { f($0) } ?? "— (\(v.reason ?? "undefined"))"
      let interval = ReportFormat.interval(a.aggregateIntervals[k])
      s += "| \(k.plainName) | \(value) | \(interval) | \(name(v.maxGroup)) | \(name(v.minGroup)) |\n"
    }
    let eligible = a.groups.filter(\.isEligible)
    if let worst = eligible.filter({ $0[.tpr] != nil }).min(by: { $0[.tpr]! < $1[.tpr]! }) {
      s +=
        "\nThe model misses disease most often in **\(worst.name)**: TPR \(f(worst[.tpr]))\(ci(worst.intervals[.tpr])), "
      s +=
        "so \(ReportFormat.percent(worst[.fnr])) of its \(worst.positives) positives are missed (overall FNR \(ReportFormat.percent(o[.fnr]))).\n"
    }
    s +=
      "\n## Groups\n\n| Group | n | n_pos | n_neg | TPR | FPR | PPV | Accuracy | AUC | ECE | Flags |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    for g in a.groups {
      s +=
        "| \(cell(g.name)) | \(g.n) | \(g.positives) | \(g.counts.negatives) | \(f(g[.tpr]))\(ci(g.intervals[.tpr])) | \(f(g[.fpr])) | \(f(g[.ppv])) | \(f(g[.accuracy])) | \(f(g[.auc])) | \(f(g[.ece])) | \(g.flags.joined(separator: ", ")) |\n"
    }
    for v in r.views {
      let d = v.aggregates[.deltaTPR]!
      s += "\nBy \(v.attributes[0]) alone: ΔTPR \(f(d.value))"
      if let hi = d.maxGroup, let lo = d.minGroup { s += " (\(v.groups[hi].name) vs \(v.groups[lo].name))" }
      s += "; " + v.groups.map { "\($0.name) TPR \(f($0[.tpr]))" }.joined(separator: ", ") + "\n"
    }
    if let c = r.certainty {
      s +=
        "\n## Certainty (margin)\n\n| Group | n | median | share \\|s\\| < \(ReportFormat.short(c.options.delta)) |\n|---|---|---|---|\n"
      for (g, m) in zip(a.groups, c.groups) {
        s +=
          "| \(cell(g.name)) | \(m.n) | \(m.quantiles.count > 2 ? f(m.quantiles[2]) : "—") | \(f(m.uncertainShare)) |\n"
      }
      let significant = c.pairs.filter { $0.pValue < 0.05 }.sorted { $0.mmd2 > $1.mmd2 }
      s +=
        "\n\(c.pairs.count) group pairs compared by MMD² (σ = \(ReportFormat.short(c.options.sigma)), \(c.options.permutations) permutations); \(significant.count) with p < 0.05"
      if let top = significant.first {
        s +=
          ", largest: \(a.groups[top.a].name) vs \(a.groups[top.b].name) (MMD² \(f(top.mmd2)), p = \(f(top.pValue)))"
      }
      s += ".\n"
    }
    if !r.warnings.isEmpty {
      s += "\n## Warnings\n\n" + r.warnings.map { "- \(ReportFormat.humanize($0))\n" }.joined()
    }
    return s
  }
}
