import Datasets
import Fairness
import Foundation
import Report
import Training
import Support

/// The study's HTML report (`report.html`) and standalone figures (`figures/*.svg`): results
/// table, certainty KDEs per subgroup for ERM vs CMAC-MMD, the λ frontier, per-subgroup TPR
/// bars with bootstrap intervals, batch-size sensitivity and training curves.
enum StudyReport {
  /// CMAC-MMD's default kernel σ, for the batch-size figure's L_CMAC estimate.
  static let sigma = CertaintyOptions.defaultSigma

  static func write(study: Study, results: [Study.Result], paired: String) throws {
    let summary = Study.summarise(results)
    let internalResults = results.filter { $0.split == "internal" && $0.threshold == .validation }
    let first: (MethodName) -> Study.Result? = { method in
      internalResults.filter { $0.method == method }.min {
        ($0.seed, $0.lambda ?? 0, $0.batchSize) < ($1.seed, $1.lambda ?? 0, $1.batchSize)
      }
    }
    // One colour per method (its name with any variant) in every figure.
    let colors = MethodColors(methods: results.map(colorKey))
    var figures = try certaintyFigure(first)
    figures += frontierFigure(summary, colors: colors)
    figures += try tprFigure(internalResults, first, groups: study.config.groups, colors: colors)
    figures += try batchSizeFigure(first(.erm) ?? internalResults.first, batchSizes: study.config.batchSizes)
    figures += trainingCurveFigures(first, directory: study.directory, colors: colors)
    let table = StudyTable(
      caption: "Every run and test set (results.csv)",
      header: [
        "method", "λ", "batch", "seed", "test set", "threshold", "AUC", "ΔTPR", "worst group", "worst TPR",
        "overall TPR", "full audit",
      ],
      rows: results.map { r in
        [
          label(r),
          r.lambda.map { String(format: "%g", $0) } ?? r.selectedLambda.map { String(format: "%g (validation)", $0) }
            ?? "–",
          String(r.batchSize), String(r.seed), r.split,
          r.threshold == .validation ? String(format: "validation %.3f", r.metrics.threshold) : "0.5",
          fmt(r.metrics.auc), fmt(r.metrics.deltaTPR), r.metrics.worstGroup ?? "–", fmt(r.metrics.worstGroupTPR),
          fmt(r.metrics.tpr), r.audit.map { $0 + "/audit.html" } ?? "",
        ]
      }, linkColumn: 11)
    let page = StudyFigures.studyPage(
      title: study.config.name, summaryMarkdownTable: Study.markdown(summary),
      pairedMarkdownTable: paired.isEmpty ? nil : paired, tables: [table],
      figures: figures,
      notes: [
        "Figures use the validation threshold (Youden's J on each run's validation predictions); tables give it first and 0.5 beside it. Each gap takes the subgroups with at least 10 samples where its metric is defined.",
        "Demographics were used for training only; predictions use images alone.",
        "Each run's predictions on each test set have a full audit at its validation threshold (the last column): every subgroup with n, n_pos, n_neg and 95% intervals, calibration, DeLong and TPR tests with Holm's correction, threshold and decision curves, provenance and the reporting checklist.",
      ])
    try AtomicWrite.file(page, to: study.directory + "/report.html")
    _ = try StudyFigures.writeFigures(
      figures.map { ($0.name, $0.svg) }, to: URL(fileURLWithPath: study.directory + "/figures"))
  }

  /// 1. The certainty gap: margin densities per subgroup, ERM beside CMAC-MMD.
  static func certaintyFigure(_ first: (MethodName) -> Study.Result?) throws -> [StudyFigure] {
    let panels = try [MethodName.erm, .cmacMMD].compactMap(first).map { r -> CertaintyPanel in
      let (margins, groups) = try readMargins(r.predictions)
      return CertaintyPanel(title: label(r), curves: densities(margins, groups), delta: 0.05)
    }
    guard !panels.isEmpty else { return [] }
    return [
      StudyFigure(
        name: "certainty_kde",
        caption:
          "Density of the certainty margin s per subgroup on the internal test set (Gaussian KDE, Silverman bandwidth); the shaded band is the uncertainty zone |s| < 0.05.",
        svg: StudyFigures.certaintyKDEs(panels: panels))
    ]
  }

  /// 2. The λ frontier: AUC against ΔTPR, mean ± std over seeds.
  static func frontierFigure(_ summary: [Study.SummaryRow], colors: MethodColors) -> [StudyFigure] {
    let frontier = summary.compactMap { row -> FrontierPoint? in
      guard row.split == "internal", row.key.threshold == .validation, let auc = row.auc.mean,
        let gap = row.deltaTPR.mean
      else { return nil }
      return FrontierPoint(
        method: Study.methodName(row.key), lambda: Double(row.lambda ?? 0), deltaTPR: gap,
        deltaTPRStd: row.deltaTPR.std,
        auc: auc, aucStd: row.auc.std,
        lambdaText: row.lambda == nil ? Study.lambdaLabel(method: row.method, lambda: nil) : nil)
    }
    guard !frontier.isEmpty else { return [] }
    return [
      StudyFigure(
        name: "frontier", caption: "AUC against ΔTPR on the internal test set, mean ± std over seeds; labels give λ.",
        svg: StudyFigures.frontier(points: frontier, colors: colors))
    ]
  }

  /// 3. Per-subgroup TPR with bootstrap intervals (first seed of each method).
  static func tprFigure(
    _ internalResults: [Study.Result], _ first: (MethodName) -> Study.Result?, groups: String, colors: MethodColors
  ) throws -> [StudyFigure] {
    let bars = try Set(internalResults.map(\.method)).sorted { $0.rawValue < $1.rawValue }.compactMap(first).map {
      r -> MethodGroupTPRs in
      MethodGroupTPRs(
        method: label(r), groups: try bootstrapTPRs(r.predictions, groups: groups, threshold: r.metrics.threshold),
        colorKey: colorKey(r))
    }
    guard !bars.isEmpty else { return [] }
    return [
      StudyFigure(
        name: "group_tpr",
        caption:
          "TPR per subgroup on the internal test set (first seed of each method, at its validation threshold) with 95% stratified bootstrap intervals (500 replicates).",
        svg: StudyFigures.groupTPRBars(methods: bars, colors: colors))
    ]
  }

  /// 4. Batch-size sensitivity, from one run's internal-test margins.
  static func batchSizeFigure(_ run: Study.Result?, batchSizes: [Int]) throws -> [StudyFigure] {
    guard let run else { return [] }
    let (margins, groups) = try readMargins(run.predictions)
    let rows = Array(Set([32, 64, 128, 256] + batchSizes)).sorted().map { b in
      batchSensitivity(margins, groups, batchSize: b)
    }
    return [
      StudyFigure(
        name: "batch_size",
        caption:
          "Share of random batches with ≥ 2 samples of every subgroup, and the variance of the batch estimate of L_CMAC (pairs, σ = \(sigma)) over 300 random batches, per batch size.",
        svg: StudyFigures.batchSizeSensitivity(rows: rows))
    ]
  }

  /// 5. Training curves (loss terms per step, validation AUC per epoch) of the first seed's runs.
  static func trainingCurveFigures(
    _ first: (MethodName) -> Study.Result?, directory: String, colors: MethodColors
  ) -> [StudyFigure] {
    var lossSeries: [CurveSeries] = [], aucSeries: [CurveSeries] = []
    func number(_ v: Any?) -> Double? { v as? Double ?? (v as? Int).map(Double.init) }
    for method in [MethodName.erm, .cmacMMD] {
      guard let r = first(method) else { continue }
      // A run that chose λ on validation: the curves of the member it kept.
      let member = r.selectedLambda.map { "/\(LambdaSelection.membersFolder)/\(LambdaSelection.memberName($0))" } ?? ""
      let records = readJSONL("\(directory)/runs/\(cellID(r))\(member)/" + TrainingLog.fileName)
      let steps = records.filter { $0["kind"] as? String == "step" }
      for key in ["l_clip", "l_cmac"] {
        let pts = steps.compactMap { rec in number(rec["step"]).flatMap { s in (rec[key] as? Double).map { (s, $0) } } }
        if !pts.isEmpty {
          lossSeries.append(
            CurveSeries(
              name: "\(label(r)) \(key)", steps: pts.map(\.0), values: pts.map(\.1), colorKey: colorKey(r),
              dashed: key != "l_clip"))
        }
      }
      let epochs = records.filter { $0["kind"] as? String == "epoch" }
        .compactMap { rec in number(rec["epoch"]).flatMap { e in (rec["val_auc"] as? Double).map { (e, $0) } } }
      if !epochs.isEmpty {
        aucSeries.append(
          CurveSeries(name: label(r), steps: epochs.map(\.0), values: epochs.map(\.1), colorKey: colorKey(r)))
      }
    }
    var out: [StudyFigure] = []
    if !lossSeries.isEmpty {
      out.append(
        StudyFigure(
          name: "training_loss",
          caption:
            "Loss terms per optimiser step (from metrics.jsonl); one colour per method, l_clip solid and l_cmac dashed.",
          svg: StudyFigures.trainingCurves(series: lossSeries, yLabel: "loss", colors: colors)))
    }
    if !aucSeries.isEmpty {
      out.append(
        StudyFigure(
          name: "validation_auc", caption: "Validation AUC per epoch (model selection never sees the test sets).",
          svg: StudyFigures.trainingCurves(
            series: aucSeries, yLabel: "validation AUC", xLabel: "epoch", colors: colors)))
    }
    return out
  }

  static func label(_ r: Study.Result) -> String {
    r.method.rawValue + (r.variant.map { " (\($0))" } ?? "") + Study.lambdaSuffix(method: r.method, lambda: r.lambda)
  }

  /// The name a run's colour is looked up by: its method and variant (λ aside), as the frontier names it.
  static func colorKey(_ r: Study.Result) -> String { Study.methodName(Study.key(r)) }

  static func cellID(_ r: Study.Result) -> String {
    Study.Cell(method: r.method, variant: r.variant, lambda: r.lambda, batchSize: r.batchSize, seed: r.seed).id
  }

  static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }

  /// Margins and subgroup names of a predictions CSV.
  static func readMargins(_ path: String) throws -> ([Double], [String]) {
    let cols = try CSVReader.read(
      URL(fileURLWithPath: path), columns: [(PredictionsCSV.margin, .number()), (PredictionsCSV.group, .text)])
    let g = cols.texts[PredictionsCSV.group]!
    return (cols.numbers[PredictionsCSV.margin]!, g.codes.map { g.levels[Int($0)] })
  }

  /// One KDE curve per subgroup on a shared grid.
  static func densities(_ margins: [Double], _ groups: [String]) -> [DensityCurve] {
    guard let lo = margins.min(), let hi = margins.max(), hi > lo else { return [] }
    let pad = 0.1 * (hi - lo)
    let grid = (0..<160).map { lo - pad + (hi - lo + 2 * pad) * Double($0) / 159 }
    return Set(groups).sorted().compactMap { name in
      let s = zip(margins, groups).filter { $0.1 == name }.map(\.0).sorted()
      guard let h = CertaintyAnalysis.bandwidth(s) else { return nil }
      return DensityCurve(group: name, xs: grid, density: CertaintyAnalysis.kde(s, grid: grid, h: h))
    }
  }

  /// TPR per subgroup with stratified bootstrap intervals, from a predictions CSV.
  static func bootstrapTPRs(_ path: String, groups: String, threshold: Double) throws -> [GroupTPR] {
    let input = try AuditInput.load(
      URL(fileURLWithPath: path), columns: AuditColumns(),
      groups: GroupingSpec(attributes: try GroupingSpec.parse(groups)))
    var config = AuditConfiguration()
    config.bootstrap = BootstrapOptions(replicates: 500, seed: 7, scope: .counts)
    config.threshold = .fixed(threshold)
    config.singleAttributeViews = false
    let audit = try Audit.run(input, configuration: config).intersectional
    return audit.groups.map { g in
      GroupTPR(group: g.name, tpr: g[.tpr], lower: g.intervals[.tpr]?.lower, upper: g.intervals[.tpr]?.upper)
    }
  }

  /// Coverage share and variance of the batch L_CMAC estimate over random batches.
  static func batchSensitivity(_ margins: [Double], _ groups: [String], batchSize: Int, batches: Int = 300)
    -> BatchSizeRow
  {
    let names = Set(groups).sorted()
    var rng = SeededRNG(seed: 11, stream: UInt64(batchSize))
    var covered = 0
    var estimates: [Double] = []
    let n = margins.count
    for _ in 0..<batches {
      var idx = Array(0..<n)
      idx.shuffle(using: &rng)
      let batch = idx.prefix(min(batchSize, n))
      var by: [String: [Double]] = [:]
      for i in batch { by[groups[i], default: []].append(margins[i]) }
      if names.allSatisfy({ (by[$0]?.count ?? 0) >= 2 }) { covered += 1 }
      let sets = by.keys.sorted().compactMap { by[$0] }.filter { $0.count >= 2 }  // sorted: the same sum every run
      var terms: [Double] = []
      for a in 0..<sets.count {
        for b in (a + 1)..<sets.count { terms.append(MMD.mmd2(sets[a], sets[b], sigma: sigma)) }
      }
      if !terms.isEmpty { estimates.append(terms.reduce(0, +) / Double(terms.count)) }
    }
    let mean = estimates.reduce(0, +) / Double(max(estimates.count, 1))
    let variance =
      estimates.count > 1 ? estimates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(estimates.count - 1) : nil
    return BatchSizeRow(batchSize: batchSize, coverageShare: Double(covered) / Double(batches), mmdVariance: variance)
  }

  static func readJSONL(_ path: String) -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }
}
