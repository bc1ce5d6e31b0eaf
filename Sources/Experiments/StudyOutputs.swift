import Support
import Foundation
import Training

extension Study {
  /// `results.csv`, `summary.md`, `summary.tex` (mean ± std over seeds), `comparisons.csv`
  /// (paired differences to ERM with intervals), `report.html` and `figures/*.svg`, each
  /// written atomically.
  /// `zeroShot`: the pretrained model's zero-shot table (``zeroShotMarkdown(_:)``), or empty.
  func writeOutputs(_ results: [Result], zeroShot: String = "") throws {
    try AtomicWrite.file(Self.resultsCSV(results), to: directory + "/results.csv")
    let summary = Self.summarise(results)
    let paired = try PairedComparison.compare(results, config: config)
    let pairedMD = PairedComparison.markdown(paired)
    let selectionMD = Self.selectionMarkdown(results)
    try AtomicWrite.file(
      Self.markdown(summary) + (zeroShot.isEmpty ? "" : "\n" + zeroShot)
        + (selectionMD.isEmpty ? "" : "\n" + selectionMD)
        + (pairedMD.isEmpty ? "" : "\n" + pairedMD),
      to: directory + "/summary.md")
    try AtomicWrite.file(Self.latex(summary, caption: config.name), to: directory + "/summary.tex")
    try AtomicWrite.file(PairedComparison.csv(paired), to: directory + "/comparisons.csv")
    try StudyReport.write(study: self, results: results, paired: pairedMD)
  }

  static func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "" }

  /// A summary row's λ: the value given, "val." where each run chose it on validation, "–" for
  /// a method without one.
  static func lambdaLabel(method: String, lambda: Float?, latex: Bool = false) -> String {
    if let lambda { return String(format: "%g", lambda) }
    return MethodName(rawValue: method)?.takesLambda == true ? "val." : (latex ? "--" : "–")
  }

  /// A method's name suffix in tables: " λ=0.5" for a given λ, " (λ on val.)" where each run
  /// chose it on validation, nothing for a method without one.
  static func lambdaSuffix(method: MethodName?, lambda: Float?) -> String {
    if let lambda { return String(format: " λ=%g", lambda) }
    return method?.takesLambda == true ? " (λ on val.)" : ""
  }

  /// The λ each run chose on validation, with its reason (empty when every λ was given).
  static func selectionMarkdown(_ results: [Result]) -> String {
    var seen = Set<String>()
    var lines: [String] = []
    for r in results where r.selectedLambda != nil {
      let id = Cell(method: r.method, variant: r.variant, lambda: r.lambda, batchSize: r.batchSize, seed: r.seed).id
      guard seen.insert(id).inserted else { continue }
      lines.append(
        "| \(r.method.rawValue)\(r.variant.map { " (\($0))" } ?? "") | \(r.batchSize) | \(r.seed) | \(String(format: "%g", r.selectedLambda!)) | \(r.selection ?? "") |"
      )
    }
    guard !lines.isEmpty else { return "" }
    return
      (["| method | batch | seed | λ chosen on validation | why |", "| --- | --- | --- | --- | --- |"] + lines)
      .joined(separator: "\n")
      + "\n\nλ chosen by each run on its own validation predictions (`fairmed train`'s default, docs/METHOD.md §11); "
      + LambdaSelection.rule(delta: nil, minPositives: nil) + ".\n"
  }

  /// One row per run, test split and threshold, with per-subgroup TPR columns (`tpr[female|<40]`).
  public static func resultsCSV(_ results: [Result]) -> String {
    let groups = Set(results.flatMap { $0.metrics.groupTPR.keys }).sorted()
    var lines = [
      ([
        "method", "variant", "lambda", "selected_lambda", "seed", "batch_size", "split", "threshold", "threshold_value",
        "n", "auc", "acc",
        "tpr",
        "delta_tpr", "deodds", "dpd", "es_auc", "worst_group", "worst_group_tpr",
      ] + groups.map { "tpr[\($0)]" })
      .map(csvField).joined(separator: ",")
    ]
    for r in results {
      let m = r.metrics
      let fields =
        [
          r.method.rawValue, r.variant ?? "", r.lambda.map { String(format: "%g", $0) } ?? "",
          r.selectedLambda.map { String(format: "%g", $0) } ?? "", String(r.seed),
          String(r.batchSize),
          r.split, r.threshold.rawValue, String(format: "%.6f", m.threshold), String(m.n), f(m.auc), f(m.accuracy),
          f(m.tpr),
          f(m.deltaTPR), f(m.deodds), f(m.dpd), f(m.esAUC), m.worstGroup ?? "", f(m.worstGroupTPR),
        ]
        + groups.map { f(m.groupTPR[$0] ?? nil) }
      lines.append(fields.map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Mean and sample standard deviation of one metric over seeds.
  public struct Stat: Sendable { public let mean: Double?; public let std: Double?; public let n: Int }

  /// What a summary row averages over seeds.
  public struct SummaryKey: Hashable, Sendable {
    public let method: String, variant: String?, lambda: Float?, batchSize: Int, split: String, threshold: ThresholdKind
  }

  /// One summary row: a (method, variant, λ, batch size, split, threshold) over its seeds.
  public struct SummaryRow: Sendable {
    public let key: SummaryKey
    public var method: String { key.method }
    public var lambda: Float? { key.lambda }
    public var split: String { key.split }
    public let auc: Stat, acc: Stat, tpr: Stat, deltaTPR: Stat, worstTPR: Stat, esAUC: Stat, deodds: Stat, dpd: Stat
  }

  public static func stat(_ values: [Double?]) -> Stat {
    let v = values.compactMap { $0 }
    guard !v.isEmpty else { return Stat(mean: nil, std: nil, n: 0) }
    let mean = v.reduce(0, +) / Double(v.count)
    let std = v.count > 1 ? (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : nil
    return Stat(mean: mean, std: std, n: v.count)
  }

  public static func key(_ r: Result) -> SummaryKey {
    SummaryKey(
      method: r.method.rawValue, variant: r.variant, lambda: r.lambda, batchSize: r.batchSize, split: r.split,
      threshold: r.threshold)
  }

  /// Rows in grid order, the validation threshold before 0.5 within each split.
  public static func summarise(_ results: [Result]) -> [SummaryRow] {
    var order: [SummaryKey] = []
    var groups: [SummaryKey: [EvalMetrics]] = [:]
    for r in results {
      let k = key(r)
      if groups[k] == nil { order.append(k) }
      groups[k, default: []].append(r.metrics)
    }
    let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
    func first(_ k: SummaryKey) -> Int {  // the key's position, ignoring its threshold
      ThresholdKind.allCases.compactMap {
        rank[
          SummaryKey(
            method: k.method, variant: k.variant, lambda: k.lambda, batchSize: k.batchSize, split: k.split,
            threshold: $0)]
      }.min() ?? 0
    }
    order.sort { a, b in
      let (x, y) = (first(a), first(b))
      if x != y { return x < y }
      return ThresholdKind.allCases.firstIndex(of: a.threshold)! < ThresholdKind.allCases.firstIndex(of: b.threshold)!
    }
    return order.map { k in
      let rs = groups[k] ?? []
      return SummaryRow(
        key: k, auc: stat(rs.map(\.auc)), acc: stat(rs.map(\.accuracy)), tpr: stat(rs.map(\.tpr)),
        deltaTPR: stat(rs.map(\.deltaTPR)), worstTPR: stat(rs.map(\.worstGroupTPR)), esAUC: stat(rs.map(\.esAUC)),
        deodds: stat(rs.map(\.deodds)), dpd: stat(rs.map(\.dpd)))
    }
  }

  static func pm(_ s: Stat, latex: Bool = false) -> String {
    guard let m = s.mean else { return "–" }
    guard let sd = s.std else { return String(format: "%.3f", m) }
    return String(format: latex ? "%.3f $\\pm$ %.3f" : "%.3f ± %.3f", m, sd)
  }

  static func thresholdName(_ t: ThresholdKind) -> String { t == .validation ? "validation (Youden)" : "0.5" }

  static func methodName(_ k: SummaryKey) -> String { k.method + (k.variant.map { " (\($0))" } ?? "") }

  /// The paper-style table in Markdown, validation threshold first.
  public static func markdown(_ rows: [SummaryRow]) -> String {
    var lines = [
      "| method | λ | batch | test set | threshold | AUC | ES-AUC | ΔTPR | worst-group TPR | overall TPR | DEOdds | DPD | seeds |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows {
      let k = r.key
      lines.append(
        "| \(methodName(k)) | \(lambdaLabel(method: k.method, lambda: k.lambda)) | \(k.batchSize) | \(k.split) | \(thresholdName(k.threshold)) | \(pm(r.auc)) | \(pm(r.esAUC)) | \(pm(r.deltaTPR)) | \(pm(r.worstTPR)) | \(pm(r.tpr)) | \(pm(r.deodds)) | \(pm(r.dpd)) | \(r.auc.n) |"
      )
    }
    return lines.joined(separator: "\n")
      + "\n\nMean ± sample standard deviation over seeds. Threshold \"validation (Youden)\": the threshold each run chose by Youden's J on its own validation predictions (no demographics, no test data); \"0.5\": argmax over the class prompts. Each gap takes the groups with at least 10 samples where its metric is defined.\n"
  }

  /// The same table as a LaTeX `tabular` (booktabs).
  public static func latex(_ rows: [SummaryRow], caption: String) -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "\\", with: "\\textbackslash{}").replacingOccurrences(of: "_", with: "\\_")
        .replacingOccurrences(of: "&", with: "\\&").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(
          of: "#", with: "\\#")
    }
    var lines = [
      "\\begin{table}[t]", "\\centering",
      "\\caption{\(esc(caption)): mean $\\pm$ std over seeds; threshold: Youden's J on validation predictions, or 0.5}",
      "\\begin{tabular}{lrrllrrrrrr}", "\\toprule",
      "Method & $\\lambda$ & Batch & Test & Threshold & AUC & ES-AUC & $\\Delta$TPR & Worst TPR & DEOdds & DPD \\\\",
      "\\midrule",
    ]
    for r in rows {
      let k = r.key
      lines.append(
        "\(esc(methodName(k))) & \(lambdaLabel(method: k.method, lambda: k.lambda, latex: true)) & \(k.batchSize) & \(esc(k.split)) & \(k.threshold == .validation ? "val." : "0.5") & \(pm(r.auc, latex: true)) & \(pm(r.esAUC, latex: true)) & \(pm(r.deltaTPR, latex: true)) & \(pm(r.worstTPR, latex: true)) & \(pm(r.deodds, latex: true)) & \(pm(r.dpd, latex: true)) \\\\"
      )
    }
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return lines.joined(separator: "\n") + "\n"
  }
}
