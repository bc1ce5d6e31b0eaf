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
        ])
      ),
      ("settings", settings(c)),
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
    fields.append(("warnings", .array(r.warnings.map(JSONValue.string))))
    return .object(fields)
  }

  static func settings(_ c: AuditConfiguration) -> JSONValue {
    .object([
      ("min_group_size", .integer(c.minGroupSize)),
      ("include_small_groups", .bool(c.includeSmallGroups)),
      ("ece_bins", .integer(c.eceBins)),
      ("reference_group", c.referenceGroup.map(JSONValue.string) ?? .null),
      (
        "bootstrap",
        c.bootstrap.map { b in
          .object([
            ("replicates", .integer(b.replicates)), ("seed", .integer(Int(truncatingIfNeeded: b.seed))),
            ("stratified", .bool(b.stratified)), ("level", .number(b.level)), ("row_metrics", .bool(b.rowMetrics)),
            (
              "method",
              .string(
                "percentile; count-based metrics resample per-cell counts (multinomial per group), AUC/Brier/ECE resample rows"
              )
            ),
          ])
        } ?? .null
      ),
      (
        "certainty",
        .object([
          ("delta", .number(c.certainty.delta)), ("sigma", .number(c.certainty.sigma)),
          ("permutations", .integer(c.certainty.permutations)),
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
      ("replicates", .integer(i.replicates)), ("skipped", .integer(i.skipped)),
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
        "mmd",
        .array(
          c.pairs.map { p in
            .object([
              ("a", .string(names[p.a])), ("b", .string(names[p.b])), ("mmd2", .number(p.mmd2)),
              ("p_value", .number(p.pValue)), ("n_a", .integer(p.sizes.0)), ("n_b", .integer(p.sizes.1)),
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
}
