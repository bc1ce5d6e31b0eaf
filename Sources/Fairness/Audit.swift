import Foundation

/// The audit entry point.
public enum Audit {
  /// Audits `input` under `configuration`.
  public static func run(_ input: AuditInput, configuration: AuditConfiguration = AuditConfiguration()) throws
    -> AuditResult
  {
    try configuration.validate()
    // AuditInput's readers refuse these already; a caller building one in memory gets the same check.
    if let i = input.scores.firstIndex(where: { !$0.isFinite }) {
      throw AuditError.badOption("score of row \(i + 1) is \(input.scores[i]): every score must be a finite number")
    }
    if let m = input.margins, let i = m.firstIndex(where: { !$0.isFinite }) {
      throw AuditError.badOption("margin of row \(i + 1) is \(m[i]): every margin must be a finite number")
    }
    var timer = PhaseTimer()
    let grouping = input.grouping
    guard grouping.groupCount <= configuration.maxGroups else {
      throw AuditError.badOption(
        "--groups gives \(grouping.groupCount) groups, more than --max-groups \(configuration.maxGroups) "
          + "(an identifier column? raise --max-groups to audit that many)")
    }
    let ranked = RankedScores(
      scores: input.scores, labels: input.labels, rowGroup: grouping.rowGroup, groupCount: grouping.groupCount)
    guard !ranked.score.isEmpty else { throw AuditError.badOption("no rows left after the missing-value policy") }
    var threshold = try ThresholdSelector.resolve(configuration.threshold, audited: ranked) { path in
      guard let load = configuration.loadValidation else {
        throw AuditError.badOption("no validation loader for '\(path)'")
      }
      return try load(path)
    }
    if let file = threshold.sourceFile, sameFile(file, input.source) {
      threshold.chosenOnAuditedLabels = true
    }
    timer.mark("sort scores + threshold")
    var main = audit(grouping, input: input, ranked: ranked, threshold: threshold.value, configuration: configuration)
    timer.mark("metrics + aggregates")
    var warnings: [String] = []
    if let bootstrap = configuration.bootstrap, bootstrap.replicates > 0 {
      let b = Bootstrap.run(
        options: bootstrap, tally: main.tally, ranked: ranked, threshold: threshold.value,
        eceBins: configuration.eceBins, members: main.members, progress: configuration.progress)
      for g in main.groups.indices { main.groups[g].intervals = b.groups[g] }
      main.overall.intervals = b.overall
      main.aggregateIntervals = b.aggregates
      timer.mark("bootstrap")
    }
    let views =
      configuration.singleAttributeViews && grouping.attributes.count > 1
      ? grouping.attributes.indices.map { a -> GroupAudit in
        let v = grouping.view(attribute: a)
        let r = ranked.regrouped(grouping.viewMap(attribute: a), groupCount: v.groupCount)
        return audit(v, input: input, ranked: r, threshold: threshold.value, configuration: configuration)
      }
      : []
    timer.mark("single-attribute views")
    var reference: Int?
    if let name = configuration.referenceGroup {
      guard let r = main.groups.firstIndex(where: { $0.name == name }) else {
        throw AuditError.badOption(
          "reference group '\(name)' not found; groups: \(main.groups.map(\.name).joined(separator: ", "))")
      }
      reference = r
    }
    var certainty: CertaintyReport?
    var certaintyOptions = configuration.certainty
    if let margins = input.margins {
      var eligible = main.groups.indices.filter { main.groups[$0].isEligible || configuration.includeSmallGroups }
      if eligible.count > configuration.maxMMDGroups {
        warnings.append("MMD² compares the \(configuration.maxMMDGroups) largest of \(eligible.count) eligible groups")
        eligible = Array(eligible.sorted { main.groups[$0].n > main.groups[$1].n }.prefix(configuration.maxMMDGroups))
          .sorted()
      }
      if configuration.automaticPermutations {
        let pairs = max(1, eligible.count * (eligible.count - 1) / 2)
        let needed = (try? MultipleTesting.permutationsNeeded(tests: pairs, alpha: MultipleTesting.alpha)) ?? Int.max
        certaintyOptions.permutations = min(needed, AuditConfiguration.maxAutomaticPermutations)
      }
      certainty = CertaintyAnalysis.run(
        margins: margins, rowGroup: grouping.rowGroup, groupCount: grouping.groupCount,
        options: certaintyOptions, eligible: eligible)
    }
    if certainty != nil { timer.mark("certainty + MMD") }
    let roc = ranked.rocCurves(maxPoints: configuration.rocPoints)
    timer.mark("ROC curves")
    for g in main.groups where !g.flags.isEmpty {
      // What the flags keep it out of: a small group every gap; otherwise the gaps of the
      // metrics it lacks (no positives: no TPR) or has too few cells for (--min-cell-count).
      var outOf: [String] = []
      let cells = !configuration.includeSmallGroups  // --include-small-groups takes every group with the metric
      if g.positives == 0 || (cells && g.tooFewCells(for: .tpr)) { outOf.append("TPR") }
      if g.counts.negatives == 0 || (cells && g.tooFewCells(for: .fpr)) { outOf.append("FPR") }
      let suffix =
        !g.isEligible && !configuration.includeSmallGroups
        ? " and left out of gaps"
        : outOf.isEmpty ? "" : " and left out of the \(outOf.joined(separator: " and ")) gaps"
      warnings.append(
        "group \(g.name) (n=\(g.n), positives=\(g.positives), negatives=\(g.counts.negatives)) is flagged \(g.flags.joined(separator: ", "))"
          + suffix)
    }
    for (a, n) in grouping.droppedRows.sorted(by: { $0.key < $1.key }) where n > 0 {
      warnings.append("\(n) rows dropped: missing \(a)")
    }
    for (a, n) in grouping.outOfBins.sorted(by: { $0.key < $1.key }) where n > 0 {
      warnings.append("\(n) values of \(a) fell outside every bin and were treated as missing")
    }
    if !main.tally.probabilities { warnings.append("scores are not all in [0, 1]: Brier and ECE are undefined") }
    if threshold.chosenOnAuditedLabels {
      warnings.append("the threshold is \(ResolvedThreshold.optimisticNote): its gaps and rates are optimistic")
    }
    let parts = ReviewerAnalysis.partition(ranked)
    let fits = ReviewerAnalysis.calibration(parts, probabilities: main.tally.probabilities)
    let calibration = CalibrationReport(
      groups: Array(fits.dropLast()), overall: fits[fits.count - 1],
      temperature: ReviewerAnalysis.temperature(
        input, grouping: grouping, tally: main.tally, threshold: threshold, rule: configuration.threshold,
        configuration: configuration))
    timer.mark("calibration fits")
    let significance = ReviewerAnalysis.significance(
      main, ranked: ranked, reference: reference, certainty: certainty, configuration: configuration,
      automaticPermutations: configuration.automaticPermutations && certainty != nil)
    timer.mark("DeLong + tests")
    if let b = configuration.bootstrap, b.replicates > 0, !b.resamplesRows(ranked.score.count) {
      fillDeLongIntervals(&main, significance: significance, level: b.level)
    }
    let curves = ReviewerAnalysis.curves(main, ranked: ranked)
    timer.mark("threshold curves")
    var resolvedConfiguration = configuration
    resolvedConfiguration.certainty = certaintyOptions
    return AuditResult(
      source: input.source, threshold: threshold, configuration: resolvedConfiguration, rows: input.scores.count,
      rowsUsed: ranked.score.count, intersectional: main, views: views, referenceGroup: reference,
      certainty: certainty, roc: roc, warnings: warnings,
      provenance: AuditProvenance(
        inputFile: input.source, inputRows: input.scores.count, thresholdSource: threshold.sourceFile),
      calibration: calibration, significance: significance, curves: curves, timings: timer.phases)
  }

  /// Gives every AUC the bootstrap left out (scope `counts`, or `auto` past its row limit) DeLong's
  /// analytic interval at the bootstrap's level, marked as such; a group with fewer than two
  /// positives or negatives keeps none.
  static func fillDeLongIntervals(_ audit: inout GroupAudit, significance: SignificanceReport, level: Double) {
    guard let z = StandardNormal.quantile((1 + level) / 2) else { return }
    func interval(_ e: AUCEstimate?) -> Interval? {
      guard let e, e.variance.isFinite else { return nil }
      let half = z * e.standardError
      return Interval(
        lower: max(0, e.auc - half), upper: min(1, e.auc + half), level: level, replicates: 0, skipped: 0,
        method: .deLong)
    }
    for g in audit.groups.indices where audit.groups[g].intervals[.auc] == nil {
      audit.groups[g].intervals[.auc] = interval(significance.auc[g])
    }
    if audit.overall.intervals[.auc] == nil { audit.overall.intervals[.auc] = interval(significance.overallAUC) }
  }

  /// Whether two paths name the same file (after resolving `.`, `..` and symbolic links).
  static func sameFile(_ a: String, _ b: String) -> Bool {
    func canonical(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
    return a == b || canonical(a) == canonical(b)
  }

  /// Metrics and aggregates of one grouping.
  static func audit(
    _ grouping: Grouping, input: AuditInput, ranked: RankedScores, threshold: Double,
    configuration: AuditConfiguration
  ) -> GroupAudit {
    let tally = GroupTally(
      scores: input.scores, labels: input.labels, rowGroup: grouping.rowGroup,
      groupCount: grouping.groupCount, threshold: threshold, eceBins: configuration.eceBins)
    let auc = ranked.auc()
    let groups = grouping.groups.indices.map {
      GroupMetrics.make(
        grouping.groups[$0], tally: tally, group: $0, auc: auc.groups[$0], minGroupSize: configuration.minGroupSize,
        minCellCount: configuration.minCellCount)
    }
    let overall = GroupMetrics.make(
      GroupDescriptor(attributes: grouping.attributes, values: ["overall"]), tally: tally,
      group: nil, auc: auc.overall, minGroupSize: configuration.minGroupSize)
    var members: [MetricKey: [Int]] = [:]
    for k in MetricKey.allCases {
      members[k] = groups.indices.filter {
        (groups[$0].isEligible && !groups[$0].tooFewCells(for: k) || configuration.includeSmallGroups)
          && groups[$0][k] != nil
      }
    }
    var aggregates: [AggregateKey: AggregateValue] = [:]
    for a in AggregateKey.allCases {
      aggregates[a] = AggregateCalculator.compute(
        a, members: members, value: { groups[$1][$0] }, overall: { overall[$0] })
    }
    return GroupAudit(
      attributes: grouping.attributes, groups: groups, overall: overall, aggregates: aggregates,
      members: members, tally: tally)
  }
}
