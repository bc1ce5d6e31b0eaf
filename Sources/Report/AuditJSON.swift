import Fairness
import Support

/// audit.json: every result of an audit, snake_case keys, undefined values as null with a reason.
public enum AuditJSON {
  public static let schemaVersion = 1

  public static func document(_ r: AuditResult) -> JSONValue {
    let c = r.configuration
    var fields: [(String, JSONValue)] = [
      ("schema_version", .integer(schemaVersion)),
      ("tool", .string("fairmed audit")),
      ("provenance", r.provenance.map(provenance) ?? .null),
      (
        "input",
        .object([
          ("file", .string(r.source)), ("rows", .integer(r.rows)), ("rows_used", .integer(r.rowsUsed)),
          ("rows_dropped", .integer(r.rows - r.rowsUsed)),
        ])
      ),
      (
        "threshold",
        .object([
          ("rule", .string(r.threshold.rule)), ("value", .number(r.threshold.value)),
          ("detail", .string(r.threshold.detail)),
          ("source_file", r.threshold.sourceFile.map(JSONValue.string) ?? .null),
          ("chosen_on_audited_labels", .bool(r.threshold.chosenOnAuditedLabels)),
          (
            "note",
            r.threshold.chosenOnAuditedLabels ? .string(ResolvedThreshold.optimisticNote) : .null
          ),
        ])
      ),
      ("settings", settings(r)),
      ("attributes", .array(r.intersectional.attributes.map(JSONValue.string))),
      ("overall", group(r.intersectional.overall, in: r, overall: true)),
      ("groups", .array(r.intersectional.groups.enumerated().map { group($1, in: r, index: $0) })),
      ("aggregates", aggregates(r.intersectional)),
    ]
    if !r.views.isEmpty {
      fields.append(
        (
          "single_attribute",
          .object(
            r.views.map { v in
              (
                v.attributes[0],
                .object([
                  ("groups", .array(v.groups.map { group($0, in: r, audit: v) })),
                  ("aggregates", aggregates(v)),
                ])
              )
            })
        ))
    }
    fields.append(("certainty", r.certainty.map { certainty($0, r) } ?? .null))
    fields.append(
      (
        "roc",
        .object(
          zip(r.intersectional.groups.map(\.name) + ["overall"], r.roc).map { name, curve in
            (name, .array(curve.map { .array([.number($0.fpr), .number($0.tpr)]) }))
          })
      ))
    fields.append(("calibration", calibration(r)))
    fields.append(("recalibration", r.calibration.map { recalibration($0, r) } ?? .null))
    fields.append(("significance", r.significance.map { significance($0, r) } ?? .null))
    fields.append(("threshold_curves", r.curves.map { curves($0, r) } ?? .null))
    fields.append(("net_benefit_at_threshold", netBenefit(r)))
    fields.append(("warnings", .array(r.warnings.map(JSONValue.string))))
    return .object(fields)
  }

  static func settings(_ r: AuditResult) -> JSONValue {
    let c = r.configuration
    return .object([
      ("min_group_size", .integer(c.minGroupSize)),
      ("include_small_groups", .bool(c.includeSmallGroups)),
      ("min_cell_count", c.minCellCount.map(JSONValue.integer) ?? .null),
      ("ece_bins", .integer(c.eceBins)),
      ("ece_binning", .string(ReviewerText.eceConvention(c.eceBins))),
      ("reference_group", c.referenceGroup.map(JSONValue.string) ?? .null),
      (
        "bootstrap",
        c.bootstrap.map { b in
          .object([
            ("replicates", .integer(b.replicates)), ("seed", .integer(Int(truncatingIfNeeded: b.seed))),
            ("stratified", .bool(b.stratified)), ("level", .number(b.level)), ("scope", .string(b.scope.rawValue)),
            ("row_metrics", .bool(b.resamplesRows(r.rowsUsed))),
            ("method", .string(ReviewerText.intervals(b, rows: r.rowsUsed))),
          ])
        } ?? .null
      ),
      (
        "certainty",
        .object([
          ("delta", .number(c.certainty.delta)), ("sigma", .number(c.certainty.sigma)),
          ("permutations", .integer(c.certainty.permutations)),
          ("automatic_permutations", .bool(c.automaticPermutations)),
          ("max_per_group", .integer(c.certainty.maxPerGroup)),
          ("seed", .integer(Int(truncatingIfNeeded: c.certainty.seed))),
          ("kde_bandwidth", .string("Silverman: 0.9·min(sd, IQR/1.34)·n^(-1/5)")),
          ("mmd", .string("biased V-statistic, Gaussian kernel exp(-(a-b)^2/(2 sigma^2))")),
        ])
      ),
    ])
  }

  static func interval(_ i: Interval) -> JSONValue {
    .object([
      ("lower", .optional(i.lower)), ("upper", .optional(i.upper)), ("level", .number(i.level)),
      ("replicates", .integer(i.replicates)), ("skipped", .integer(i.skipped)), ("method", .string(i.method.rawValue)),
    ])
  }

  static func group(
    _ g: GroupMetrics, in r: AuditResult, index: Int? = nil, overall: Bool = false, audit: GroupAudit? = nil
  ) -> JSONValue {
    var f: [(String, JSONValue)] = []
    if !overall {
      f.append(("attributes", .object(zip(g.descriptor.attributes, g.descriptor.values).map { ($0, .string($1)) })))
    }
    f.append(("name", .string(g.name)))
    f += [
      ("n", .integer(g.n)), ("positives", .integer(g.positives)), ("negatives", .integer(g.counts.negatives)),
      ("tp", .integer(g.counts.tp)), ("fp", .integer(g.counts.fp)), ("tn", .integer(g.counts.tn)),
      ("fn", .integer(g.counts.fn)),
    ]
    var reasons: [(String, JSONValue)] = []
    for k in MetricKey.allCases {
      let m = g.metrics[k]
      f.append((k.rawValue, .optional(m?.value)))
      if m?.value == nil { reasons.append((k.rawValue, .string(m?.reason ?? "undefined"))) }
    }
    f.append(("reasons", .object(reasons)))
    if !overall {
      f.append(("flags", .array(g.flags.map(JSONValue.string))))
      f.append(("eligible", .bool(g.isEligible)))
      let base = audit?.overall ?? r.intersectional.overall
      let diffKeys: [MetricKey] = [.tpr, .fpr, .selectionRate, .accuracy, .auc]
      f.append(
        (
          "diff_to_overall",
          .object(
            diffKeys.map { k in
              (k.rawValue, .optional(g[k].flatMap { a in base[k].map { a - $0 } }))
            })
        ))
      if audit == nil, let ref = r.referenceGroup {
        let rg = r.intersectional.groups[ref]
        f.append(
          (
            "diff_to_reference",
            .object(
              diffKeys.map { k in
                (k.rawValue, .optional(g[k].flatMap { a in rg[k].map { a - $0 } }))
              })
          ))
      }
    }
    f.append(("ci", .object(MetricKey.allCases.compactMap { k in g.intervals[k].map { (k.rawValue, interval($0)) } })))
    return .object(f)
  }

  static func aggregates(_ a: GroupAudit) -> JSONValue {
    .object(
      AggregateKey.allCases.map { k in
        let v = a.aggregates[k]!
        var f: [(String, JSONValue)] = [("value", .optional(v.value))]
        if v.value == nil { f.append(("reason", .string(v.reason ?? "undefined"))) }
        f.append(("max_group", v.maxGroup.map { .string(a.groups[$0].name) } ?? .null))
        f.append(("min_group", v.minGroup.map { .string(a.groups[$0].name) } ?? .null))
        f.append(("groups_compared", .integer(k.inputs.map { a.members[$0]?.count ?? 0 }.min() ?? 0)))
        f.append(
          (
            "members",
            .object(
              k.inputs.map { m in
                (m.rawValue, .array((a.members[m] ?? []).map { .string(a.groups[$0].name) }))
              })
          ))
        f.append(("ci", a.aggregateIntervals[k].map(interval) ?? .null))
        return (k.rawValue, .object(f))
      })
  }

  static func certainty(_ c: CertaintyReport, _ r: AuditResult) -> JSONValue {
    let names = r.intersectional.groups.map(\.name)
    let holm = r.significance?.mmdAdjusted ?? []
    let floor = ReviewerText.mmdFloor(c, automatic: r.significance?.automaticPermutations ?? false)
    func summary(_ s: CertaintySummary, _ name: String) -> JSONValue {
      .object([
        ("name", .string(name)), ("n", .integer(s.n)), ("mean", .optional(s.mean)), ("sd", .optional(s.sd)),
        (
          "quantiles",
          .object(
            zip(CertaintyAnalysis.quantileLevels, s.quantiles).map {
              ("q\(Int(($0 * 100).rounded()))", .number($1))
            })
        ),
        ("uncertain_share", .optional(s.uncertainShare)), ("bandwidth", .optional(s.bandwidth)),
      ])
    }
    return .object([
      ("groups", .array(zip(c.groups, names).map { summary($0, $1) })),
      ("overall", summary(c.overall, "overall")),
      (
        "mmd_testing",
        .object([
          ("permutations", .integer(c.options.permutations)),
          ("automatic", .bool(r.significance?.automaticPermutations ?? false)),
          ("p_floor", .number(floor.floor)),
          ("pairs", .integer(c.pairs.count)),
          ("correction", .string("Holm over \(c.pairs.count) pairs")),
          ("floor_allows_corrected_p_below_0_05", .bool(floor.allows)),
          ("statement", .string(floor.text)),
        ])
      ),
      (
        "mmd",
        .array(
          c.pairs.enumerated().map { i, p in
            .object([
              ("a", .string(names[p.a])), ("b", .string(names[p.b])), ("mmd2", .number(p.mmd2)),
              ("p_value", .number(p.pValue)),
              ("p_holm", .optional(i < holm.count ? holm[i] : nil)),
              ("n_a", .integer(p.sizes.0)), ("n_b", .integer(p.sizes.1)),
            ])
          })
      ),
      (
        "kde",
        .object([
          ("grid", .array(c.grid.map(JSONValue.number))),
          ("density", .object(zip(names, c.groups).map { ($0, .array($1.density.map(JSONValue.number))) })),
        ])
      ),
    ])
  }

  static func calibration(_ r: AuditResult) -> JSONValue {
    let a = r.intersectional
    guard a.tally.probabilities else { return .null }
    let names = a.groups.map(\.name) + ["overall"]
    let bins = a.groups.indices.map { a.tally.reliability($0) } + [a.tally.reliability(nil)]
    return .object(
      zip(names, bins).map { name, b in
        (
          name,
          .array(
            b.enumerated().compactMap { i, x in
              x.n > 0
                ? .object([
                  ("bin", .integer(i)), ("n", .number(x.n)), ("mean_score", .number(x.score / x.n)),
                  ("observed", .number(x.label / x.n)),
                ]) : nil
            })
        )
      })
  }

  static func provenance(_ p: AuditProvenance) -> JSONValue {
    .object([
      ("fairmed_version", .string(p.version)),
      ("commit", p.commit.map(JSONValue.string) ?? .null),
      ("version_description", .string(p.versionDescription)),
      ("date_utc", .string(p.dateUTC)),
      ("command_line", p.commandLine.map { .array($0.map(JSONValue.string)) } ?? .null),
      ("input_file", .string(p.inputFile)),
      ("input_sha256", p.inputSHA256.map(JSONValue.string) ?? .null),
      ("input_rows", .integer(p.inputRows)),
      ("threshold_source", p.thresholdSource.map(JSONValue.string) ?? .null),
    ])
  }

  static func wald(_ w: WaldEstimate?) -> JSONValue {
    guard let w else { return .null }
    return .object([
      ("estimate", .number(w.estimate)), ("se", .number(w.standardError)), ("lower", .number(w.interval.lower)),
      ("upper", .number(w.interval.upper)), ("level", .number(w.interval.level)),
    ])
  }

  static func recalibration(_ c: CalibrationReport, _ r: AuditResult) -> JSONValue {
    let a = r.intersectional
    func entry(_ x: SubgroupCalibration, _ g: GroupMetrics) -> JSONValue {
      var f: [(String, JSONValue)] = [
        ("name", .string(g.name)), ("n", .integer(g.n)), ("positives", .integer(g.positives)),
        ("negatives", .integer(g.counts.negatives)),
        ("slope", wald(x.fit?.slope)), ("intercept", wald(x.fit?.intercept)),
        ("calibration_in_the_large", wald(x.calibrationInTheLarge)),
        ("brier", .optional(g[.brier])), ("ece", .optional(g[.ece])),
      ]
      if let why = x.fitReason { f.append(("fit_reason", .string(why))) }
      if let why = x.calibrationInTheLargeReason { f.append(("calibration_in_the_large_reason", .string(why))) }
      return .object(f)
    }
    let t = c.temperature
    var temperature: [(String, JSONValue)] = [
      ("fitted_on", t.source.map(JSONValue.string) ?? .null),
      ("temperature", .optional(t.scaling?.temperature)),
      ("validation_rows", t.scaling.map { .integer($0.n) } ?? .null),
      ("validation_log_loss_before", .optional(t.scaling?.logLossBefore)),
      ("validation_log_loss_after", .optional(t.scaling?.logLossAfter)),
      ("scaled_threshold", .optional(t.scaledThreshold)),
      ("reason", t.reason.map(JSONValue.string) ?? .null),
      ("invariance", .string(ReviewerText.temperatureInvariance)),
    ]
    func effect(_ e: TemperatureEffect, _ name: String) -> JSONValue {
      .object([
        ("name", .string(name)), ("ece_before", .optional(e.eceBefore)), ("ece_after", .optional(e.eceAfter)),
        ("brier_before", .optional(e.brierBefore)), ("brier_after", .optional(e.brierAfter)),
      ])
    }
    temperature.append(("groups", .array(zip(t.groups, a.groups).map { effect($0, $1.name) })))
    temperature.append(("overall", t.overall.map { effect($0, "overall") } ?? .null))
    return .object([
      (
        "method",
        .string(
          "logistic recalibration logit P(y=1) = a + b·logit(p) by maximum likelihood (slope b, intercept a), calibration-in-the-large a with b fixed at 1; Wald 95% intervals; p clamped to [1e-15, 1 − 1e-15]"
        )
      ),
      ("ece_binning", .string(ReviewerText.eceConvention(r.configuration.eceBins))),
      ("groups", .array(zip(c.groups, a.groups).map { entry($0, $1) })),
      ("overall", entry(c.overall, a.overall)),
      ("temperature_scaling", .object(temperature)),
    ])
  }

  static func significance(_ s: SignificanceReport, _ r: AuditResult) -> JSONValue {
    let a = r.intersectional
    func estimate(_ e: AUCEstimate?) -> JSONValue {
      guard let e else { return .null }
      return .object([
        ("auc", .number(e.auc)), ("se", .number(e.standardError)), ("lower", .number(e.interval.lower)),
        ("upper", .number(e.interval.upper)), ("level", .number(e.interval.level)),
      ])
    }
    func tests(_ list: [GroupTest], method: String, count: Int) -> JSONValue {
      .object([
        ("method", .string(method)),
        ("correction", .string(ReviewerText.holm(count))),
        ("tests", .integer(count)),
        (
          "groups",
          .array(
            list.map { t in
              var f: [(String, JSONValue)] = [
                ("name", .string(a.groups[t.group].name)), ("difference", .optional(t.difference)),
                ("z", .optional(t.z)), ("p_value", .optional(t.pValue)), ("p_holm", .optional(t.adjustedPValue)),
              ]
              if let why = t.reason { f.append(("reason", .string(why))) }
              return .object(f)
            })
        ),
      ])
    }
    return .object([
      ("reference_group", s.reference.map { .string(a.groups[$0].name) } ?? .null),
      ("reference_rule", .string(s.referenceRule)),
      (
        "auc_delong",
        .object(zip(a.groups, s.auc).map { ($0.name, estimate($1)) } + [("overall", estimate(s.overallAUC))])
      ),
      ("auc_tests", tests(s.aucTests, method: ReviewerText.aucTestMethod, count: s.aucTestCount)),
      ("tpr_tests", tests(s.tprTests, method: ReviewerText.tprTestMethod, count: s.tprTestCount)),
    ])
  }

  static func curves(_ c: ThresholdCurves, _ r: AuditResult) -> JSONValue {
    let a = r.intersectional
    func series(_ v: [Double?]) -> JSONValue { .array(v.map { .optional($0) }) }
    func decision(_ d: DecisionCurve) -> JSONValue {
      .object([
        ("n", .integer(d.n)), ("positives", .integer(d.positives)),
        ("model", .array(d.model.map(JSONValue.number))), ("treat_all", .array(d.treatAll.map(JSONValue.number))),
      ])
    }
    return .object([
      ("thresholds", .array(c.thresholds.map(JSONValue.number))),
      ("delta_tpr", series(c.deltaTPR)),
      ("worst_group_tpr", series(c.worstGroupTPR)),
      ("overall_tpr", series(c.overallTPR)),
      ("tpr_members", .array((a.members[.tpr] ?? []).map { .string(a.groups[$0].name) })),
      (
        "decision_curve",
        .object([
          (
            "definition",
            .string(
              "net benefit TP/n − FP/n·t/(1 − t) (Vickers & Elkin 2006); treat all: π − (1 − π)·t/(1 − t); treat none: 0"
            )
          ),
          ("overall", decision(c.decision.overall)),
          ("groups", .object(zip(a.groups, c.decision.groups).map { ($0.name, $1.map(decision) ?? .null) })),
        ])
      ),
    ])
  }

  static func netBenefit(_ r: AuditResult) -> JSONValue {
    let a = r.intersectional, t = r.threshold.value
    guard a.tally.probabilities, t > 0, t < 1 else { return .null }
    func entry(_ g: GroupMetrics) -> JSONValue {
      let nb = NetBenefit.at(g.counts, threshold: t)
      return .object([
        ("name", .string(g.name)), ("n", .integer(g.n)), ("positives", .integer(g.positives)),
        ("negatives", .integer(g.counts.negatives)), ("model", .optional(nb?.model)),
        ("treat_all", .optional(nb?.treatAll)), ("treat_none", .number(0)),
      ])
    }
    return .object([
      ("threshold", .number(t)), ("groups", .array(a.groups.map(entry))), ("overall", entry(a.overall)),
    ])
  }
}
