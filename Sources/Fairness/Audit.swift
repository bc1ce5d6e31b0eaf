import Foundation

/// Everything an audit can be asked to do.
public struct AuditConfiguration: Sendable {
  public var threshold: ThresholdRule = .argmax
  /// Groups with fewer rows are flagged and left out of gaps.
  public var minGroupSize: Int = 10
  /// Include flagged groups in gaps anyway.
  public var includeSmallGroups = false
  /// Calibration bins of ECE and the reliability plot.
  public var eceBins: Int = 15
  /// nil = no bootstrap.
  public var bootstrap: BootstrapOptions? = nil
  public var certainty = CertaintyOptions()
  /// A group name ("female|<40") whose metrics every group is compared to.
  public var referenceGroup: String? = nil
  /// Also audit each attribute alone.
  public var singleAttributeViews = true
  /// Points kept per ROC curve.
  public var rocPoints = 200
  /// Called with (done, total) during the bootstrap.
  public var progress: (@Sendable (Int, Int) -> Void)? = nil
  /// Reads (labels, scores) of a validation file (threshold rules that need one).
  public var loadValidation: (@Sendable (String) throws -> (labels: [UInt8], scores: [Double]))? = nil
  public init() {}
}

/// The result of auditing one grouping: per-group metrics, overall, aggregates.
public struct GroupAudit: Sendable {
  public var attributes: [String]
  public var groups: [GroupMetrics]
  public var overall: GroupMetrics
  public var aggregates: [AggregateKey: AggregateValue]
  public var aggregateIntervals: [AggregateKey: Interval] = [:]
  /// Per group: the groups taking part in each metric's gaps.
  public var members: [MetricKey: [Int]]
  public var tally: GroupTally
  public var ranked: RankedScores
}

/// A full audit.
public struct AuditResult: Sendable {
  public var source: String
  public var threshold: ResolvedThreshold
  public var configuration: AuditConfiguration
  public var rows: Int
  public var rowsUsed: Int
  public var intersectional: GroupAudit
  /// One audit per attribute (when there is more than one attribute).
  public var views: [GroupAudit]
  public var referenceGroup: Int?
  public var certainty: CertaintyReport?
  /// ROC curves per intersectional group, and overall last.
  public var roc: [[(fpr: Double, tpr: Double)]]
  public var warnings: [String]
}

/// The audit entry point.
public enum Audit {
  /// Audits `input` under `configuration`.
  public static func run(_ input: AuditInput, configuration: AuditConfiguration = AuditConfiguration()) throws -> AuditResult {
    let grouping = input.grouping
    let ranked = RankedScores(scores: input.scores, labels: input.labels, rowGroup: grouping.rowGroup, groupCount: grouping.groupCount)
    guard !ranked.score.isEmpty else { throw AuditError.badOption("no rows left after the missing-value policy") }
    let threshold = try ThresholdSelector.resolve(configuration.threshold, audited: ranked) { path in
      guard let load = configuration.loadValidation else { throw AuditError.badOption("no validation loader for '\(path)'") }
      return try load(path)
    }
    var main = audit(grouping, input: input, ranked: ranked, threshold: threshold.value, configuration: configuration)
    var warnings: [String] = []
    if let bootstrap = configuration.bootstrap, bootstrap.replicates > 0 {
      let b = Bootstrap.run(options: bootstrap, tally: main.tally, ranked: main.ranked, threshold: threshold.value,
                            eceBins: configuration.eceBins, members: main.members, progress: configuration.progress)
      for g in main.groups.indices { main.groups[g].intervals = b.groups[g] }
      main.overall.intervals = b.overall
      main.aggregateIntervals = b.aggregates
    }
    let views = configuration.singleAttributeViews && grouping.attributes.count > 1
      ? grouping.attributes.indices.map { a -> GroupAudit in
          let v = grouping.view(attribute: a)
          let r = ranked.regrouped(grouping.viewMap(attribute: a), groupCount: v.groupCount)
          return audit(v, input: input, ranked: r, threshold: threshold.value, configuration: configuration)
        }
      : []
    var reference: Int?
    if let name = configuration.referenceGroup {
      guard let r = main.groups.firstIndex(where: { $0.name == name }) else {
        throw AuditError.badOption("reference group '\(name)' not found; groups: \(main.groups.map(\.name).joined(separator: ", "))")
      }
      reference = r
    }
    var certainty: CertaintyReport?
    if let margins = input.margins {
      certainty = CertaintyAnalysis.run(margins: margins, rowGroup: grouping.rowGroup, groupCount: grouping.groupCount,
                                        options: configuration.certainty,
                                        eligible: main.groups.indices.filter { main.groups[$0].isEligible || configuration.includeSmallGroups })
    }
    let roc = (main.groups.indices.map { Optional($0) } + [nil]).map { ranked.roc(group: $0, maxPoints: configuration.rocPoints) }
    for g in main.groups where !g.flags.isEmpty {
      warnings.append("group \(g.name) (n=\(g.n), positives=\(g.positives)) is flagged \(g.flags.joined(separator: ", "))"
                      + (configuration.includeSmallGroups ? "" : " and left out of gaps"))
    }
    for (a, n) in grouping.droppedRows.sorted(by: { $0.key < $1.key }) where n > 0 {
      warnings.append("\(n) rows dropped: missing \(a)")
    }
    for (a, n) in grouping.outOfBins.sorted(by: { $0.key < $1.key }) where n > 0 {
      warnings.append("\(n) values of \(a) fell outside every bin and were treated as missing")
    }
    if !main.tally.probabilities { warnings.append("scores are not all in [0, 1]: Brier and ECE are undefined") }
    return AuditResult(source: input.source, threshold: threshold, configuration: configuration, rows: input.scores.count,
                       rowsUsed: ranked.score.count, intersectional: main, views: views, referenceGroup: reference,
                       certainty: certainty, roc: roc, warnings: warnings)
  }

  /// Metrics and aggregates of one grouping.
  static func audit(_ grouping: Grouping, input: AuditInput, ranked: RankedScores, threshold: Double,
                    configuration: AuditConfiguration) -> GroupAudit {
    let tally = GroupTally(scores: input.scores, labels: input.labels, rowGroup: grouping.rowGroup,
                           groupCount: grouping.groupCount, threshold: threshold, eceBins: configuration.eceBins)
    let auc = ranked.auc()
    let groups = grouping.groups.indices.map {
      GroupMetrics.make(grouping.groups[$0], tally: tally, group: $0, auc: auc.groups[$0], minGroupSize: configuration.minGroupSize)
    }
    let overall = GroupMetrics.make(GroupDescriptor(attributes: grouping.attributes, values: ["overall"]), tally: tally,
                                    group: nil, auc: auc.overall, minGroupSize: configuration.minGroupSize)
    var members: [MetricKey: [Int]] = [:]
    for k in MetricKey.allCases {
      members[k] = groups.indices.filter { (groups[$0].isEligible || configuration.includeSmallGroups) && groups[$0][k] != nil }
    }
    var aggregates: [AggregateKey: AggregateValue] = [:]
    for a in AggregateKey.allCases {
      aggregates[a] = AggregateCalculator.compute(a, members: members, value: { groups[$1][$0] }, overall: { overall[$0] })
    }
    return GroupAudit(attributes: grouping.attributes, groups: groups, overall: overall, aggregates: aggregates,
                      members: members, tally: tally, ranked: ranked)
  }
}
