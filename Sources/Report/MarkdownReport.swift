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
      "- Threshold: **\(r.threshold.rule) = \(ReportFormat.short(r.threshold.value))**: \(ReportFormat.humanize(r.threshold.detail))"
    s += r.threshold.chosenOnAuditedLabels ? " (**\(ResolvedThreshold.optimisticNote)**)\n" : "\n"
    s +=
      "- Each gap uses the groups with n ≥ \(r.configuration.minGroupSize) where its metric is defined (a group without positives has no TPR but enters the FPR gaps)"
    s += r.configuration.includeSmallGroups ? " (small groups included on request)" : ""
    s +=
      r.configuration.minCellCount.map {
        "; TPR/FNR gaps need n_pos ≥ \($0), FPR/TNR gaps n_neg ≥ \($0) (--min-cell-count)"
      } ?? ""
    s += "\n"
    s += "- Intervals: \(ReviewerText.intervals(r.configuration.bootstrap, rows: r.rowsUsed))\n"
    if let p = r.provenance { s += provenance(p) }
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
    // The group the worst-group TPR names (its gap's members: small and few-positive groups out).
    if let w = a.aggregates[.worstGroupTPR]?.minGroup {
      let worst = a.groups[w]
      s +=
        "\nThe model misses disease most often in **\(worst.name)**: TPR \(f(worst[.tpr]))\(ci(worst.intervals[.tpr])), "
      s +=
        "so \(ReportFormat.percent(worst[.fnr])) of its \(worst.positives) positives are missed (overall FNR \(ReportFormat.percent(o[.fnr]))).\n"
    }
    s +=
      "\n## Groups\n\n| Group | n | n_pos | n_neg | TPR | FPR | PPV | Accuracy | AUC | ECE | Flags |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    for g in a.groups {
      s +=
        "| \(cell(g.name)) | \(g.n) | \(g.positives) | \(g.counts.negatives) | \(f(g[.tpr]))\(ci(g.intervals[.tpr])) | \(f(g[.fpr]))\(ci(g.intervals[.fpr])) | \(f(g[.ppv])) | \(f(g[.accuracy]))\(ci(g.intervals[.accuracy])) | \(f(g[.auc]))\(ci(g.intervals[.auc])) | \(f(g[.ece]))\(ci(g.intervals[.ece])) | \(g.flags.joined(separator: ", ")) |\n"
    }
    for v in r.views {
      let d = v.aggregates[.deltaTPR]!
      s += "\nBy \(v.attributes[0]) alone (point estimates): ΔTPR \(f(d.value))"
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
      let holm = r.significance?.mmdAdjusted ?? []
      let adjusted = { (i: Int) -> Double in i < holm.count ? holm[i] : c.pairs[i].pValue }
      let significant = c.pairs.indices.filter { adjusted($0) <= MultipleTesting.alpha }.sorted {
        c.pairs[$0].mmd2 > c.pairs[$1].mmd2
      }
      s +=
        "\n\(c.pairs.count) group pairs compared by MMD² (σ = \(ReportFormat.short(c.options.sigma))); \(ReviewerText.mmdFloor(c, automatic: r.significance?.automaticPermutations ?? false).text). \(significant.count) with Holm-adjusted p ≤ \(MultipleTesting.alpha)"
      if let i = significant.first {
        let top = c.pairs[i]
        s +=
          ", largest: \(a.groups[top.a].name) vs \(a.groups[top.b].name) (MMD² \(f(top.mmd2)), p = \(f(top.pValue)), Holm \(f(adjusted(i))))"
      }
      s += ".\n"
    }
    if let c = r.calibration { s += calibration(c, r) }
    if let sig = r.significance { s += significance(sig, r) }
    s += netBenefit(r)
    if !r.warnings.isEmpty {
      s += "\n## Warnings\n\n" + r.warnings.map { "- \(ReportFormat.humanize($0))\n" }.joined()
    }
    let html = HTMLReport.sectionTitles(r)
    s += ReportingChecklist.markdown(
      ReportingChecklist.rows(r, sections: html.map(\.id)), titles: HTMLReport.titles(html))
    return s
  }

  static func provenance(_ p: AuditProvenance) -> String {
    var s = "\n## Provenance\n\n"
    s += "- FairMed `\(p.versionDescription)`, run \(p.dateUTC)\n"
    if let cmd = p.commandLine {
      s += "- Command: `\(ReviewerText.command(cmd))` (paths shortened; audit.json has the exact words)\n"
    }
    s += "- Predictions: `\(ReportFormat.displayPath(p.inputFile))`, \(p.inputRows) rows"
    s += p.inputSHA256.map { ", SHA-256 `\($0)`\n" } ?? " (held in memory: no file hash)\n"
    s +=
      "- Threshold source: "
      + (p.thresholdSource.map { "`\(ReportFormat.displayPath($0))`" } ?? "none (a fixed rule or the audited data)")
      + "\n"
    return s
  }

  static func wald(_ w: WaldEstimate?, _ reason: String?) -> String {
    guard let w else { return "— (\(reason ?? "undefined"))" }
    return "\(f(w.estimate)) [\(f(w.interval.lower)), \(f(w.interval.upper))]"
  }

  static func calibration(_ c: CalibrationReport, _ r: AuditResult) -> String {
    let a = r.intersectional
    var s = "\n## Calibration\n\n"
    s +=
      "Logistic recalibration logit P(y=1) = a + b·logit(p): slope b (1 is ideal; < 1: scores too extreme), intercept a, and calibration-in-the-large (a with b fixed at 1; > 0: risk underestimated), each with its Wald 95% interval. \(ReviewerText.eceConvention(r.configuration.eceBins)).\n\n"
    s +=
      "| Group | n | n_pos | n_neg | Slope | Intercept | Calibration-in-the-large | Brier | ECE |\n|---|---|---|---|---|---|---|---|---|\n"
    for (i, (g, x)) in zip(a.groups + [a.overall], c.groups + [c.overall]).enumerated() {
      let name = i == a.groups.count ? "All rows" : cell(g.name)
      s +=
        "| \(name) | \(g.n) | \(g.positives) | \(g.counts.negatives) | \(wald(x.fit?.slope, x.fitReason)) | \(wald(x.fit?.intercept, x.fitReason)) | \(wald(x.calibrationInTheLarge, x.calibrationInTheLargeReason)) | \(f(g[.brier])) | \(f(g[.ece])) |\n"
    }
    let t = c.temperature
    s += "\n### Temperature scaling (fitted on validation)\n\n"
    if let scaling = t.scaling, let o = t.overall {
      s +=
        "T = \(f(scaling.temperature)) fitted on `\(ReportFormat.displayPath(t.source ?? ""))` (\(scaling.n) validation rows; log loss \(f(scaling.logLossBefore)) → \(f(scaling.logLossAfter))). Note: \(ReviewerText.temperatureInvariance).\n\n"
      s += "| Group | ECE before | ECE after | Brier before | Brier after |\n|---|---|---|---|---|\n"
      for (g, e) in zip(a.groups, t.groups) {
        s += "| \(cell(g.name)) | \(f(e.eceBefore)) | \(f(e.eceAfter)) | \(f(e.brierBefore)) | \(f(e.brierAfter)) |\n"
      }
      s += "| All rows | \(f(o.eceBefore)) | \(f(o.eceAfter)) | \(f(o.brierBefore)) | \(f(o.brierAfter)) |\n"
    } else {
      s += "Not computed: \(ReportFormat.humanize(t.reason ?? "no validation predictions")).\n"
    }
    return s
  }

  static func significance(_ sig: SignificanceReport, _ r: AuditResult) -> String {
    let a = r.intersectional
    var s = "\n## Which differences are real\n\n"
    s +=
      "Reference group: \(ReviewerText.reference(r, sig)). AUC: \(ReviewerText.aucTestMethod), \(ReviewerText.holm(sig.aucTestCount)). TPR: \(ReviewerText.tprTestMethod), \(ReviewerText.holm(sig.tprTestCount)).\n\n"
    s +=
      "| Group | n_pos | n_neg | AUC [DeLong 95% CI] | ΔAUC vs ref | p | p (Holm) | TPR | ΔTPR vs ref | p | p (Holm) |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    for (i, g) in a.groups.enumerated() {
      let e = sig.auc[i]
      let auc =
        e.map { "\(f($0.auc)) [\(f($0.interval.lower)), \(f($0.interval.upper))]" }
        ?? "\(f(g[.auc])) (no DeLong variance)"
      func cells(_ t: GroupTest) -> String {
        guard t.pValue != nil else { return "\(f(t.difference)) | — (\(t.reason ?? "")) | —" }
        return "\(f(t.difference)) | \(ReportFormat.pValue(t.pValue)) | \(ReportFormat.pValue(t.adjustedPValue))"
      }
      s +=
        "| \(cell(g.name)) | \(g.positives) | \(g.counts.negatives) | \(auc) | \(cells(sig.aucTests[i])) | \(f(g[.tpr])) | \(cells(sig.tprTests[i])) |\n"
    }
    if let o = sig.overallAUC {
      s += "\nAll rows: AUC \(f(o.auc)) [\(f(o.interval.lower)), \(f(o.interval.upper))] (DeLong).\n"
    }
    return s
  }

  static func netBenefit(_ r: AuditResult) -> String {
    let a = r.intersectional, t = r.threshold.value
    guard r.curves != nil, t > 0, t < 1 else { return "" }
    var s = "\n## Net benefit at the threshold\n\n"
    s +=
      "Net benefit TP/n − FP/n·t/(1 − t) at t = \(ReportFormat.short(t)), against treating every row (treat none: 0). ΔTPR, worst-group TPR, overall TPR and the decision curves over thresholds 0.01…0.99 are in audit.json (`threshold_curves`) and audit.html."
    s += r.threshold.chosenOnAuditedLabels ? " The threshold is **\(ResolvedThreshold.optimisticNote)**.\n\n" : "\n\n"
    s += "| Group | n | n_pos | n_neg | Model | Treat all |\n|---|---|---|---|---|---|\n"
    for (i, g) in (a.groups + [a.overall]).enumerated() {
      let nb = NetBenefit.at(g.counts, threshold: t)
      s +=
        "| \(i == a.groups.count ? "All rows" : cell(g.name)) | \(g.n) | \(g.positives) | \(g.counts.negatives) | \(f(nb?.model)) | \(f(nb?.treatAll)) |\n"
    }
    return s
  }
}
