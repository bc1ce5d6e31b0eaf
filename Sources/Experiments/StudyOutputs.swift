import Support
import Foundation
import Training

extension Study {
  /// `results.csv`, `summary.md`, `summary.tex` (mean ± std over seeds), `report.html` and
  /// `figures/*.svg`, each written atomically.
  func writeOutputs(_ results: [Result]) throws {
    try AtomicWrite.file(Self.resultsCSV(results), to: directory + "/results.csv")
    let summary = Self.summarise(results)
    try AtomicWrite.file(Self.markdown(summary), to: directory + "/summary.md")
    try AtomicWrite.file(Self.latex(summary, caption: config.name), to: directory + "/summary.tex")
    try StudyReport.write(study: self, results: results)
  }

  static func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "" }

  /// One row per run and test split, with per-subgroup TPR columns (`tpr[female|<40]`).
  public static func resultsCSV(_ results: [Result]) -> String {
    let groups = Set(results.flatMap { $0.metrics.groupTPR.keys }).sorted()
    var lines = [(["method", "lambda", "seed", "batch_size", "split", "n", "auc", "acc", "delta_tpr", "deodds", "dpd", "es_auc",
                   "worst_group", "worst_group_tpr"] + groups.map { "tpr[\($0)]" }).map(csvField).joined(separator: ",")]
    for r in results {
      let m = r.metrics
      let fields = [r.method.rawValue, r.lambda.map { String(format: "%g", $0) } ?? "", String(r.seed), String(r.batchSize), r.split, String(m.n),
                    f(m.auc), f(m.accuracy), f(m.deltaTPR), f(m.deodds), f(m.dpd), f(m.esAUC), m.worstGroup ?? "", f(m.worstGroupTPR)]
        + groups.map { f(m.groupTPR[$0] ?? nil) }
      lines.append(fields.map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Mean and sample standard deviation of one metric over seeds.
  public struct Stat: Sendable { public let mean: Double?; public let std: Double?; public let n: Int }

  /// One summary row: a (method, λ, batch size, split) over its seeds.
  public struct SummaryRow: Sendable {
    public let method: String, lambda: Float?, batchSize: Int, split: String
    public let auc: Stat, acc: Stat, deltaTPR: Stat, worstTPR: Stat, esAUC: Stat
  }

  public static func stat(_ values: [Double?]) -> Stat {
    let v = values.compactMap { $0 }
    guard !v.isEmpty else { return Stat(mean: nil, std: nil, n: 0) }
    let mean = v.reduce(0, +) / Double(v.count)
    let std = v.count > 1 ? (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : nil
    return Stat(mean: mean, std: std, n: v.count)
  }

  public static func summarise(_ results: [Result]) -> [SummaryRow] {
    struct Key: Hashable { let method: String, lambda: Float?, batchSize: Int, split: String }
    var order: [Key] = []
    var groups: [Key: [Result]] = [:]
    for r in results {
      let k = Key(method: r.method.rawValue, lambda: r.lambda, batchSize: r.batchSize, split: r.split)
      if groups[k] == nil { order.append(k) }
      groups[k, default: []].append(r)
    }
    return order.map { k in
      let rs = groups[k]!.map(\.metrics)
      return SummaryRow(method: k.method, lambda: k.lambda, batchSize: k.batchSize, split: k.split,
        auc: stat(rs.map(\.auc)), acc: stat(rs.map(\.accuracy)), deltaTPR: stat(rs.map(\.deltaTPR)),
        worstTPR: stat(rs.map(\.worstGroupTPR)), esAUC: stat(rs.map(\.esAUC)))
    }
  }

  static func pm(_ s: Stat, latex: Bool = false) -> String {
    guard let m = s.mean else { return "–" }
    guard let sd = s.std else { return String(format: "%.3f", m) }
    return String(format: latex ? "%.3f $\\pm$ %.3f" : "%.3f ± %.3f", m, sd)
  }

  /// The paper-style table in Markdown.
  public static func markdown(_ rows: [SummaryRow]) -> String {
    var lines = ["| method | λ | batch | test set | AUC | ACC | ΔTPR | worst-group TPR | ES-AUC | seeds |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows {
      lines.append("| \(r.method) | \(r.lambda.map { String(format: "%g", $0) } ?? "–") | \(r.batchSize) | \(r.split) | \(pm(r.auc)) | \(pm(r.acc)) | \(pm(r.deltaTPR)) | \(pm(r.worstTPR)) | \(pm(r.esAUC)) | \(r.auc.n) |")
    }
    return lines.joined(separator: "\n") + "\n\nMean ± sample standard deviation over seeds; threshold 0.5; each gap takes the groups with at least 10 samples where its metric is defined.\n"
  }

  /// The same table as a LaTeX `tabular` (booktabs).
  public static func latex(_ rows: [SummaryRow], caption: String) -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "\\", with: "\\textbackslash{}").replacingOccurrences(of: "_", with: "\\_")
        .replacingOccurrences(of: "&", with: "\\&").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "#", with: "\\#")
    }
    var lines = ["\\begin{table}[t]", "\\centering", "\\caption{\(esc(caption)): mean $\\pm$ std over seeds}",
                 "\\begin{tabular}{lrrlrrrr}", "\\toprule",
                 "Method & $\\lambda$ & Batch & Test & AUC & ACC & $\\Delta$TPR & Worst TPR \\\\", "\\midrule"]
    for r in rows {
      lines.append("\(esc(r.method)) & \(r.lambda.map { String(format: "%g", $0) } ?? "--") & \(r.batchSize) & \(esc(r.split)) & \(pm(r.auc, latex: true)) & \(pm(r.acc, latex: true)) & \(pm(r.deltaTPR, latex: true)) & \(pm(r.worstTPR, latex: true)) \\\\")
    }
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return lines.joined(separator: "\n") + "\n"
  }
}
