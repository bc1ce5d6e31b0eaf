import Foundation
import TestSupport
import Testing
@testable import Fairness

/// Every number here was computed by fairlearn's MetricFrame / difference functions and
/// scikit-learn (Scripts/fixtures/make_audit_fixtures.py); FairMed must match to 1e-9.
@Suite struct FairlearnFixtureTests {
  static let names = ["small", "ties", "four", "twoattr", "gaprule"]

  func audit(_ name: String) throws -> (AuditResult, [String: Any]) {
    let spec = try Fixture.json("audit_\(name).json")
    let attributes = (spec["attributes"] as! [String]).map { AttributeSpec(column: $0) }
    let input = try AuditInput.load(
      Fixture.url("audit_\(name).csv"), columns: AuditColumns(label: "y", score: "p"),
      groups: GroupingSpec(attributes: attributes))
    var config = AuditConfiguration()
    config.threshold = .fixed(spec["threshold"] as! Double)
    config.minGroupSize = spec["min_group_size"] as! Int
    config.eceBins = spec["ece_bins"] as! Int
    config.certainty.permutations = 20
    config.minCellCount = nil  // fairlearn's gaps: every group where the metric is defined
    return (try Audit.run(input, configuration: config), spec)
  }

  @Test(arguments: names) func perGroupMetricsMatchFairlearn(_ name: String) throws {
    let (result, spec) = try audit(name)
    let expected = spec["groups"] as! [[String: Any]]
    let groups = result.intersectional.groups
    #expect(groups.map(\.name).sorted() == expected.map { $0["name"] as! String }.sorted())
    for e in expected {
      let g = try #require(groups.first { $0.name == e["name"] as! String })
      #expect(g.n == e["n"] as! Int)
      #expect(g.positives == e["positives"] as! Int)
      #expect(
        g.counts == ConfusionCounts(tp: e["tp"] as! Int, fp: e["fp"] as! Int, tn: e["tn"] as! Int, fn: e["fn"] as! Int))
      #expect(g.isEligible == !(e["flags"] as! [String]).contains("small_group"), "\(g.name)")
      for key in [MetricKey.tpr, .fpr, .selectionRate, .auc, .brier, .ece] {
        #expect(
          isClose(g[key], e[key.rawValue] as? Double),
          "\(name) \(g.name) \(key.rawValue): \(String(describing: g[key])) vs \(String(describing: e[key.rawValue]))")
      }
      if e["auc"] is NSNull { #expect(g.metrics[.auc]?.reason?.hasPrefix("one class") == true) }
    }
    let overall = spec["overall"] as! [String: Any]
    for key in [MetricKey.tpr, .fpr, .selectionRate, .auc, .accuracy, .brier, .ece] {
      #expect(isClose(result.intersectional.overall[key], overall[key.rawValue] as? Double), "overall \(key.rawValue)")
    }
  }

  @Test(arguments: names) func aggregatesMatchFairlearn(_ name: String) throws {
    let (result, spec) = try audit(name)
    let expected = spec["aggregates"] as! [String: Double]
    let a = result.intersectional.aggregates
    let groups = result.intersectional.groups
    for (key, value) in expected {
      let k = try #require(AggregateKey(rawValue: key))
      #expect(isClose(a[k]?.value, value), "\(name) \(key): \(String(describing: a[k]?.value)) vs \(value)")
    }
    // Each gap takes the non-small groups where its own metric is defined.
    let members = spec["metric_members"] as! [String: [String]]
    for (metric, names) in members {
      let k = try #require(MetricKey(rawValue: metric))
      #expect(
        Set((result.intersectional.members[k] ?? []).map { groups[$0].name }) == Set(names),
        "\(name) members of \(metric)")
    }
    // The named extremes really are the extremes.
    let d = try #require(a[.deltaTPR])
    #expect(isClose(groups[d.maxGroup!][.tpr]! - groups[d.minGroup!][.tpr]!, d.value))
  }

  @Test(arguments: names) func youdenThresholdMatchesSklearn(_ name: String) throws {
    let spec = try Fixture.json("audit_\(name).json")
    let v = try AuditInput.loadLabelsAndScores(
      Fixture.url("audit_\(name).csv"), columns: AuditColumns(label: "y", score: "p"))
    let ranked = RankedScores(
      scores: v.scores, labels: v.labels, rowGroup: [Int32](repeating: 0, count: v.scores.count), groupCount: 1)
    let t = try ThresholdSelector.youden(ranked)
    #expect(t.threshold == Double(spec["youden_threshold"] as! String)!)
  }
}
