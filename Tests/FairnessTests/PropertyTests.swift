import Foundation
import TestSupport
import Testing
@testable import Fairness

@Suite struct PropertyTests {
  let data = Synthetic(n: 2000, seed: 11)

  func run(_ input: AuditInput, bootstrap: BootstrapOptions? = nil) throws -> AuditResult {
    var c = AuditConfiguration()
    c.bootstrap = bootstrap
    c.certainty.permutations = 10
    return try Audit.run(input, configuration: c)
  }

  @Test func permutingRowsChangesNothing() throws {
    var rng = SeededRandom(seed: 3)
    var order = Array(0..<data.labels.count)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
    let a = try run(data.input()), b = try run(data.input(order: order))
    #expect(a.intersectional.groups.map(\.name) == b.intersectional.groups.map(\.name))
    for (x, y) in zip(
      a.intersectional.groups + [a.intersectional.overall], b.intersectional.groups + [b.intersectional.overall])
    {
      #expect(x.counts == y.counts)
      for k in MetricKey.allCases { #expect(isClose(x[k], y[k], 1e-12), "\(x.name) \(k)") }
    }
    for k in AggregateKey.allCases {
      #expect(isClose(a.intersectional.aggregates[k]?.value, b.intersectional.aggregates[k]?.value, 1e-12))
      #expect(a.intersectional.aggregates[k]?.minGroup == b.intersectional.aggregates[k]?.minGroup)
    }
  }

  @Test func aucIsInvariantToMonotoneTransforms() throws {
    let input = try data.input()
    var transformed = input
    transformed.scores = input.scores.map { exp(4 * $0) + $0 * $0 * $0 - 7 }
    let g = input.grouping
    let a = RankedScores(scores: input.scores, labels: input.labels, rowGroup: g.rowGroup, groupCount: g.groupCount)
      .auc()
    let b = RankedScores(
      scores: transformed.scores, labels: input.labels, rowGroup: g.rowGroup, groupCount: g.groupCount
    ).auc()
    #expect(a.overall == b.overall)
    #expect(a.groups == b.groups)
    // And a decreasing transform mirrors it.
    let c = RankedScores(
      scores: input.scores.map { -$0 }, labels: input.labels, rowGroup: g.rowGroup, groupCount: g.groupCount
    ).auc()
    for (x, y) in zip(a.groups, c.groups) { #expect(isClose(x.map { 1 - $0 }, y, 1e-12)) }
  }

  @Test func aucMatchesBruteForceWithTies() {
    var rng = SeededRandom(seed: 5)
    let n = 300
    let scores = (0..<n).map { _ in Double(rng.below(20)) / 20 }
    let labels = (0..<n).map { _ in UInt8(rng.below(2)) }
    let ranked = RankedScores(scores: scores, labels: labels, rowGroup: [Int32](repeating: 0, count: n), groupCount: 1)
    var wins = 0.0, pairs = 0.0
    for i in 0..<n where labels[i] == 1 {
      for j in 0..<n where labels[j] == 0 {
        pairs += 1
        wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
      }
    }
    #expect(isClose(ranked.auc().overall, wins / pairs, 1e-15))
  }

  @Test func identicalGroupsHaveZeroMMDAndUniformPValues() {
    var rng = SeededRandom(seed: 9)
    let x = (0..<80).map { _ in rng.normal() * 0.2 }
    #expect(abs(MMD.mmd2(x, x, sigma: 0.1)) < 1e-12)
    var pValues: [Double] = []
    for trial in 0..<60 {
      let a = (0..<40).map { _ in rng.normal() * 0.2 }, b = (0..<40).map { _ in rng.normal() * 0.2 }
      pValues.append(MMD.test(a, b, sigma: 0.1, permutations: 99, seed: UInt64(trial)).pValue)
    }
    let mean = pValues.reduce(0, +) / Double(pValues.count)
    let small = Double(pValues.filter { $0 < 0.1 }.count) / Double(pValues.count)
    #expect(mean > 0.35 && mean < 0.65, "mean p \(mean)")
    #expect(small < 0.25, "share p < 0.1: \(small)")
    // Different distributions are detected.
    let shifted = (0..<40).map { _ in rng.normal() * 0.2 + 0.3 }
    #expect(MMD.test(Array(x.prefix(40)), shifted, sigma: 0.1, permutations: 99, seed: 1).pValue < 0.05)
  }

  @Test func bootstrapIsReproducibleAndSeedDependent() throws {
    let input = try data.input()
    let options = BootstrapOptions(replicates: 60, seed: 42)
    let a = try run(input, bootstrap: options), b = try run(input, bootstrap: options)
    var other = options; other.seed = 43
    let c = try run(input, bootstrap: other)
    for k in AggregateKey.allCases {
      #expect(a.intersectional.aggregateIntervals[k] == b.intersectional.aggregateIntervals[k])
    }
    for (x, y) in zip(a.intersectional.groups, b.intersectional.groups) { #expect(x.intervals == y.intervals) }
    #expect(a.intersectional.aggregateIntervals[.deltaTPR] != c.intersectional.aggregateIntervals[.deltaTPR])
    // Intervals bracket the point estimate for well-populated groups.
    for g in a.intersectional.groups {
      let i = try #require(g.intervals[.tpr])
      #expect(i.lower <= g[.tpr]! + 1e-12 && g[.tpr]! <= i.upper + 1e-12)
      #expect(i.replicates + i.skipped == 60)
    }
  }

  /// Intervals by default: 1,000 replicates; scope `auto` bootstraps AUC, Brier and ECE up to its
  /// row limit and gives AUC DeLong's interval above it (as scope `counts` does), equal to the
  /// significance section's.
  @Test func everyAuditHasIntervalsByDefault() throws {
    let input = try data.input()
    var c = AuditConfiguration()
    c.certainty.permutations = 10
    let byDefault = try Audit.run(input, configuration: c)
    for g in byDefault.intersectional.groups + [byDefault.intersectional.overall] where g[.tpr] != nil {
      for k in [MetricKey.tpr, .fpr, .accuracy, .auc, .brier, .ece] {
        let i = try #require(g.intervals[k], "\(g.name) \(k)")
        #expect(i.method == .bootstrap && i.replicates + i.skipped == 1000)
      }
    }
    #expect(byDefault.intersectional.aggregateIntervals[.deltaTPR] != nil)
    #expect(byDefault.intersectional.aggregateIntervals[.deltaAUC] != nil)

    let auto = BootstrapOptions()
    #expect(auto.scope == .auto && auto.replicates == 1000)
    #expect(auto.resamplesRows(BootstrapOptions.autoRowLimit) && !auto.resamplesRows(BootstrapOptions.autoRowLimit + 1))
    c.bootstrap = BootstrapOptions(replicates: 200, seed: 3, scope: .counts)
    let counts = try Audit.run(input, configuration: c)
    let s = try #require(counts.significance)
    for (g, est) in zip(counts.intersectional.groups, s.auc) {
      #expect(g.intervals[.tpr]?.method == .bootstrap)
      #expect(g.intervals[.brier] == nil && g.intervals[.ece] == nil)
      guard let est else {
        #expect(g.intervals[.auc] == nil)
        continue
      }
      let i = try #require(g.intervals[.auc])
      #expect(i.method == .deLong && i.replicates == 0)
      #expect(abs(i.lower - est.interval.lower) < 1e-12 && abs(i.upper - est.interval.upper) < 1e-12)
    }
    #expect(counts.intersectional.overall.intervals[.auc]?.method == .deLong)
    #expect(counts.intersectional.aggregateIntervals[.deltaAUC] == nil)
    #expect(counts.intersectional.aggregateIntervals[.deltaTPR] != nil)
    // The count-based intervals do not depend on the scope.
    c.bootstrap?.scope = .all
    let all = try Audit.run(input, configuration: c)
    for (a, b) in zip(all.intersectional.groups, counts.intersectional.groups) {
      #expect(a.intervals[.tpr] == b.intervals[.tpr] && a.intervals[.auc]?.method == .bootstrap)
    }
  }

  @Test func plainBootstrapCountsSkippedReplicates() throws {
    // A group of 3 rows with one positive: plain resampling often loses its positive.
    var d = Synthetic(n: 200, seed: 2)
    for i in 0..<3 { d.sex[i] = "other"; d.age[i] = "<40"; d.labels[i] = i == 0 ? 1 : 0 }
    var c = AuditConfiguration()
    c.bootstrap = BootstrapOptions(replicates: 200, seed: 1, stratified: false)
    c.includeSmallGroups = true
    let r = try Audit.run(d.input(), configuration: c)
    let g = try #require(r.intersectional.groups.first { $0.name == "other|<40" })
    let i = try #require(g.intervals[.tpr])
    #expect(i.skipped > 0 && i.replicates > 0 && i.replicates + i.skipped == 200)
    #expect(try #require(r.intersectional.aggregateIntervals[.deltaTPR]).skipped > 0)
  }

  @Test func binomialSamplerHasTheRightMoments() {
    var rng = SeededRandom(seed: 8)
    for (n, p) in [(20, 0.3), (1000, 0.02), (5000, 0.4), (100_000, 0.7)] {
      let draws = (0..<4000).map { _ in Double(rng.binomial(n, p)) }
      let mean = draws.reduce(0, +) / 4000
      let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3999
      let mu = Double(n) * p, v = Double(n) * p * (1 - p)
      #expect(abs(mean - mu) < 4 * (v / 4000).squareRoot(), "n=\(n) p=\(p) mean \(mean)")
      #expect(abs(variance / v - 1) < 0.1, "n=\(n) p=\(p) var \(variance) vs \(v)")
      #expect(draws.allSatisfy { $0 >= 0 && $0 <= Double(n) })
    }
  }
}

@Suite struct PercentileTests {
  @Test func selectionMatchesSortedPercentiles() {
    var rng = SeededRandom(seed: 12)
    for n in [1, 2, 3, 10, 999, 1000] {
      let values = (0..<n).map { _ in Double(rng.below(50)) / 7 }  // many ties
      let sorted = values.sorted()
      for q in [0.0, 0.025, 0.5, 0.975, 1.0] {
        var copy = values
        #expect(Bootstrap.selectPercentile(&copy, q) == Bootstrap.percentile(sorted, q), "n=\(n) q=\(q)")
      }
    }
  }
}

@Suite struct BootstrapEquivalenceTests {
  /// Per-cell multinomial resampling must give the same distribution as resampling rows.
  @Test func perCellIntervalsMatchRowResampling() throws {
    let d = Synthetic(n: 3000, seed: 21)
    let input = try d.input()
    var c = AuditConfiguration()
    c.bootstrap = BootstrapOptions(replicates: 2000, seed: 5, stratified: true, scope: .counts)
    let r = try Audit.run(input, configuration: c)
    let g = 0
    let rows = input.grouping.rowGroup.indices.filter { input.grouping.rowGroup[$0] == Int32(g) }
    var rng = SeededRandom(seed: 99)
    var tprs: [Double] = []
    for _ in 0..<2000 {
      var tp = 0, pos = 0
      for _ in rows.indices {
        let i = rows[rng.below(rows.count)]
        if input.labels[i] == 1 { pos += 1; if input.scores[i] >= 0.5 { tp += 1 } }
      }
      if pos > 0 { tprs.append(Double(tp) / Double(pos)) }
    }
    tprs.sort()
    let cell = try #require(r.intersectional.groups[g].intervals[.tpr])
    #expect(
      abs(cell.lower - Bootstrap.percentile(tprs, 0.025)) < 0.015,
      "\(cell.lower) vs \(Bootstrap.percentile(tprs, 0.025))")
    #expect(
      abs(cell.upper - Bootstrap.percentile(tprs, 0.975)) < 0.015,
      "\(cell.upper) vs \(Bootstrap.percentile(tprs, 0.975))")
  }
}

@Suite struct CertaintyDensityTests {
  /// More than 4,096 margins are binned on a grid over their range; a range that overflows a
  /// Double (margins of ±1e308, which the CSV reader accepts as finite) is not binned but summed
  /// exactly, and binning stays within a small error of the exact sum on ordinary margins.
  @Test func theDensityOfManyMarginsIsBinnedOnlyOverAFiniteRange() {
    var data = (0..<5000).map { Double($0 % 100) / 100 - 0.5 }
    let grid = [-0.4, 0, 0.4]
    let binned = CertaintyAnalysis.kde(data, grid: grid, h: 0.05)
    let exact = grid.map { x in
      data.map { exp(-0.5 * pow((x - $0) / 0.05, 2)) }.reduce(0, +) / (5000 * 0.05 * (2 * Double.pi).squareRoot())
    }
    for (b, e) in zip(binned, exact) { #expect(abs(b - e) < 1e-3 * e, "\(b) vs \(e)") }
    data[0] = -1e308
    data[1] = 1e308
    let wide = CertaintyAnalysis.kde(data, grid: grid, h: 0.05)
    #expect(wide.count == 3 && wide.allSatisfy { $0.isFinite && $0 > 0 })
  }
}

@Suite struct AuditEdgeTests {
  func run(_ d: Synthetic, _ edit: (inout AuditConfiguration) -> Void = { _ in }) throws -> AuditResult {
    var c = AuditConfiguration()
    c.certainty.permutations = 10
    edit(&c)
    return try Audit.run(try d.input(), configuration: c)
  }

  /// Scores out of [0, 1] leave Brier and ECE undefined, and their intervals too: a bootstrap
  /// replicate that happens not to draw those rows must not make them defined again.
  @Test func undefinedBrierAndECEHaveNoInterval() throws {
    var d = Synthetic(n: 60, seed: 5)
    d.scores[0] = 1.2
    let r = try run(d)
    for g in r.intersectional.groups + [r.intersectional.overall] {
      #expect(g[.brier] == nil && g[.ece] == nil)
      #expect(g.intervals[.brier] == nil && g.intervals[.ece] == nil, "\(g.name)")
    }
  }

  /// A group with too few positives for its TPR to count in the gaps gets no TPR test either.
  @Test func aGroupWithTooFewPositivesGetsNoTPRTest() throws {
    var d = Synthetic(n: 900, seed: 33)
    // Two positives left in female|<40.
    var kept = 0
    for i in d.labels.indices where d.sex[i] == "female" && d.age[i] == "<40" && d.labels[i] == 1 {
      kept += 1
      if kept > 2 { d.labels[i] = 0 }
    }
    let r = try run(d)
    let s = try #require(r.significance)
    let g = try #require(r.intersectional.groups.firstIndex { $0.name == "female|<40" })
    #expect(r.intersectional.groups[g].flags.contains("few_positives"))
    #expect(s.tprTests[g].pValue == nil && s.tprTests[g].reason?.contains("few_positives") == true)
  }

  /// Youden's J ties go to the highest threshold, exactly: with 10 positives and 10 negatives,
  /// J(0.9) = 3/10 − 1/10 and J(0.7) = 5/10 − 3/10 are equal, though not as Doubles.
  @Test func youdenTiesGoToTheHighestThresholdExactly() throws {
    let scores: [Double] = [
      0.9, 0.9, 0.9, 0.9, 0.7, 0.7, 0.7, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
    ]
    let labels: [UInt8] = [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    let (a, b): (Double, Double) = (3.0 / 10 - 1.0 / 10, 5.0 / 10 - 3.0 / 10)
    #expect(a != b)  // the rounding the rule must not see
    let ranked = RankedScores(
      scores: scores, labels: labels, rowGroup: [Int32](repeating: 0, count: 20), groupCount: 1)
    let (t, j) = try ThresholdSelector.youden(ranked)
    #expect(t == 0.9 && abs(j - 0.2) < 1e-15)
    // Scores that do not separate the classes give no Youden threshold to audit at.
    let flat = RankedScores(
      scores: [0.5, 0.5, 0.5, 0.5], labels: [1, 0, 1, 0], rowGroup: [0, 0, 0, 0], groupCount: 1)
    #expect(throws: AuditError.self) {
      try ThresholdSelector.resolve(.youden(validation: "val.csv"), audited: flat) { _ in
        ([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])
      }
    }
  }

  /// An input built in memory is checked as the CSV reader checks one.
  @Test func aNonFiniteScoreBuiltInMemoryIsRefused() throws {
    var d = Synthetic(n: 40, seed: 2)
    d.scores[7] = .nan
    #expect { try run(d) } throws: { "\($0)".contains("row 8") }
  }
}
