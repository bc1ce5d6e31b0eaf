import Fairness
import Support

/// groups.csv: one row per intersectional group (then overall), empty cells for undefined values;
/// the threshold rule and value are repeated on every row so the file stands alone.
public enum GroupsCSV {
  public static func text(_ r: AuditResult) -> String {
    let a = r.intersectional
    let keys = MetricKey.allCases
    var header =
      a.attributes + ["group", "n", "positives", "tp", "fp", "tn", "fn"] + keys.map(\.rawValue) + [
        "flags", "threshold_rule", "threshold",
      ]
    let withCI = r.configuration.bootstrap != nil
    if withCI { header += keys.flatMap { ["\($0.rawValue)_lower", "\($0.rawValue)_upper"] } }
    var lines = [header.map(csvField).joined(separator: ",")]
    func row(_ g: GroupMetrics, values: [String]) -> String {
      var cells =
        values + [
          g.name, "\(g.n)", "\(g.positives)", "\(g.counts.tp)", "\(g.counts.fp)", "\(g.counts.tn)", "\(g.counts.fn)",
        ]
      cells += keys.map { g[$0].map { "\($0)" } ?? "" }
      cells += [g.flags.joined(separator: ";"), r.threshold.rule, "\(r.threshold.value)"]
      if withCI {
        cells += keys.flatMap { k in g.intervals[k].map { ["\($0.lower)", "\($0.upper)"] } ?? ["", ""] }
      }
      return cells.map(csvField).joined(separator: ",")
    }
    for g in a.groups { lines.append(row(g, values: g.descriptor.values)) }
    lines.append(row(a.overall, values: a.attributes.map { _ in "" }))
    return lines.joined(separator: "\r\n") + "\r\n"
  }
}
