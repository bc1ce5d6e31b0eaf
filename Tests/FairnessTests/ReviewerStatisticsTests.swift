import Foundation
import TestSupport
import Testing
@testable import Fairness

/// The reviewer statistics (calibration, DeLong, multiplicity, decision curves) against
/// Tests/FairnessTests/Fixtures/stats.json, written by Scripts/fixtures/make_stats_fixtures.py
/// from statsmodels, scikit-learn, scipy and an O(m·n) DeLong, plus their properties.
///
/// Tolerances, relative (|a − b| ≤ rtol·|b| + 1e-15):
/// - 1e-12 where the arithmetic is the same up to summation order (Brier, bins, Wilson, ECE,
///   net benefit, Holm/BH, DeLong's AUC and variance: its placement values are exact halves
///   divided by the same count on both sides);
/// - 1e-9 for the fits (logistic recalibration, temperature): both sides iterate to the optimum
///   (Newton–Raphson here to a step ≤ 1e-10, statsmodels' IRLS to a deviance change ≤ 1e-14,
///   scipy's brentq to 1e-15), so they agree to the conditioning of the optimum, not bit for bit.
/// `FAIRMED_PRINT_DIFFS=1` prints the largest relative difference of each comparison.
@Suite struct ReviewerStatisticsTests {
  static let names = ["miscal", "ties", "small"]

  struct Dataset {
    var spec: [String: Any]
    var labels: [UInt8]
    var groups: [Int32]
    var scores: [Double]
    var scores2: [Double]

    subscript(_ key: String) -> [String: Any] { spec[key] as! [String: Any] }
    func number(_ key: String) -> Double { spec[key] as! Double }
  }

  static func fixture() throws -> [String: Any] { try Fixture.json("stats.json") }

  static func dataset(_ name: String) throws -> Dataset {
    let all = try fixture()["datasets"] as! [[String: Any]]
    let d = try #require(all.first { $0["name"] as? String == name })
    func digits(_ key: String) -> [UInt8] { (d[key] as! String).utf8.map { $0 - 48 } }
    func doubles(_ key: String) -> [Double] { (d[key] as! [String]).map { Double($0)! } }
    return Dataset(
      spec: d, labels: digits("labels"), groups: digits("groups").map(Int32.init), scores: doubles("scores"),
      scores2: doubles("scores2"))
  }

  /// Compares `got` with `expected` to rtol (+1e-15 absolute), recording the largest relative
  /// difference under `what`.
  final class Differences {
    var worst: [String: Double] = [:]
    let rtol: Double
    init(rtol: Double) { self.rtol = rtol }

    func check(
      _ got: Double?, _ expected: Any?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
      guard let e = expected as? Double else {
        #expect(got == nil, "\(what): \(String(describing: got)) vs null", sourceLocation: sourceLocation)
        return
      }
      guard let got else {
        Issue.record("\(what): nil vs \(e)", sourceLocation: sourceLocation)
        return
      }
      let diff = abs(got - e)
      let relative = diff == 0 ? 0 : diff / max(abs(e), 1e-300)
      let key = String(what.prefix { $0 != "[" })
      worst[key] = max(worst[key] ?? 0, relative)
      #expect(
        diff <= rtol * abs(e) + 1e-15, "\(what): \(got) vs \(e) (rel \(relative), rtol \(rtol))",
        sourceLocation: sourceLocation)
    }

    func report(_ title: String) {
      guard ProcessInfo.processInfo.environment["FAIRMED_PRINT_DIFFS"] != nil else { return }
      for (k, v) in worst.sorted(by: { $0.key < $1.key }) { print("\(title) \(k): max rel diff \(v)") }
    }
  }

  // MARK: - Against the references

  @Test(arguments: names) func logisticCalibrationMatchesStatsmodels(_ name: String) throws {
    let d = try Self.dataset(name)
    let c = try Calibration.logistic(labels: d.labels, scores: d.scores)
    let e = d["calibration"]
    let diff = Differences(rtol: 1e-9)
    func compare(_ w: WaldEstimate, _ key: String) {
      let r = e[key] as! [String: Any]
      diff.check(w.estimate, r["estimate"], "\(key).estimate")
      diff.check(w.standardError, r["se"], "\(key).se")
      diff.check(w.interval.lower, r["lower"], "\(key).lower")
      diff.check(w.interval.upper, r["upper"], "\(key).upper")
      #expect(w.interval.level == 0.95)
    }
    compare(c.intercept, "intercept")
    compare(c.slope, "slope")
    compare(c.calibrationInTheLarge, "in_the_large")
    diff.check(c.covariance, e["covariance"], "covariance")
    diff.check(c.logLikelihood, e["log_likelihood"], "log_likelihood")
    #expect(c.n == d.labels.count && c.positives == d.labels.reduce(0) { $0 + Int($1) })
    // The slope-1 fit on its own gives the same calibration-in-the-large.
    let alone = try Calibration.calibrationInTheLarge(labels: d.labels, scores: d.scores)
    #expect(isClose(alone.estimate, c.calibrationInTheLarge.estimate, 1e-12))
    diff.report("\(name) calibration")
  }

  @Test(arguments: names) func brierBinsAndECEMatchNumpyAndSklearn(_ name: String) throws {
    let d = try Self.dataset(name)
    let diff = Differences(rtol: 1e-12)
    diff.check(try Calibration.brier(labels: d.labels, scores: d.scores), d.number("brier"), "brier")
    for bins in [10, 15] {
      let got = try Calibration.reliability(labels: d.labels, scores: d.scores, bins: bins)
      let expected = d.spec["reliability\(bins)"] as! [[String: Any]]
      #expect(got.count == bins && expected.count == bins)
      for (b, (g, e)) in zip(got, expected).enumerated() {
        #expect(g.count == e["count"] as! Int && g.positives == e["positives"] as! Int, "bin \(b)/\(bins)")
        #expect(g.lower == Double(b) / Double(bins) && g.upper == Double(b + 1) / Double(bins))
        diff.check(g.meanPredicted, e["mean_predicted"], "bins.mean_predicted[\(b)/\(bins)]")
        diff.check(g.observedRate, e["observed_rate"], "bins.observed_rate[\(b)/\(bins)]")
        diff.check(g.observedInterval?.lower, e["lower"], "bins.wilson_lower[\(b)/\(bins)]")
        diff.check(g.observedInterval?.upper, e["upper"], "bins.wilson_upper[\(b)/\(bins)]")
      }
    }
    diff.check(
      try Calibration.ece(labels: d.labels, scores: d.scores, binning: .equalWidth(bins: 10)), d.number("ece_width10"),
      "ece.width10")
    diff.check(
      try Calibration.ece(labels: d.labels, scores: d.scores, binning: .equalWidth(bins: 15)), d.number("ece_width15"),
      "ece.width15")
    diff.check(
      try Calibration.ece(labels: d.labels, scores: d.scores, binning: .equalMass(bins: 10)), d.number("ece_mass10"),
      "ece.mass10")
    diff.report("\(name) brier/bins/ece")
  }

  @Test(arguments: names) func deLongMatchesQuadraticReference(_ name: String) throws {
    let d = try Self.dataset(name)
    let diff = Differences(rtol: 1e-12)
    func compareEstimate(_ got: AUCEstimate?, _ key: String) {
      let e = d[key]
      guard let got else { Issue.record("\(key): no estimate"); return }
      diff.check(got.auc, e["auc"], "\(key).auc")
      diff.check(got.variance, e["variance"], "\(key).variance")
      diff.check(got.interval.lower, e["lower"], "\(key).lower")
      diff.check(got.interval.upper, e["upper"], "\(key).upper")
      #expect(got.positives == e["positives"] as! Int && got.negatives == e["negatives"] as! Int)
    }
    compareEstimate(try DeLong.auc(labels: d.labels, scores: d.scores), "delong")
    let groups = try DeLong.groups(labels: d.labels, scores: d.scores, rowGroup: d.groups, groupCount: 2)
    compareEstimate(groups[0], "delong_group0")
    compareEstimate(groups[1], "delong_group1")
    func compareTest(_ got: AUCComparison, _ key: String) {
      let e = d[key]
      for (v, k) in [
        (got.difference, "difference"), (got.covariance, "covariance"), (got.variance, "variance"), (got.z, "z"),
        (got.pValue, "p_value"), (got.interval.lower, "lower"), (got.interval.upper, "upper"),
      ] {
        diff.check(v, e[k], "\(key).\(k)")
      }
    }
    let unpaired = try DeLong.unpaired(groups[1]!, groups[0]!)
    compareTest(unpaired, "unpaired_1_vs_0")
    #expect(!unpaired.paired)
    // The array form splits the rows itself.
    let one = d.groups.indices.filter { d.groups[$0] == 1 }, zero = d.groups.indices.filter { d.groups[$0] == 0 }
    let split = try DeLong.unpaired(
      labels: one.map { d.labels[$0] }, scores: one.map { d.scores[$0] },
      referenceLabels: zero.map { d.labels[$0] }, referenceScores: zero.map { d.scores[$0] })
    #expect(split == unpaired)
    let paired = try DeLong.paired(labels: d.labels, scoresA: d.scores, scoresB: d.scores2)
    compareTest(paired, "paired_1_vs_2")
    #expect(paired.paired)
    diff.report("\(name) DeLong")
  }

  @Test(arguments: names) func netBenefitMatchesItsFormula(_ name: String) throws {
    let d = try Self.dataset(name)
    let diff = Differences(rtol: 1e-12)
    let grouped = try DecisionCurve.grouped(labels: d.labels, scores: d.scores, rowGroup: d.groups, groupCount: 2)
    let overall = try DecisionCurve.compute(labels: d.labels, scores: d.scores)
    #expect(overall == grouped.overall)
    for (curve, key) in [(overall, "net_benefit"), (grouped.groups[1]!, "net_benefit_group1")] {
      let e = d[key]
      #expect(curve.thresholds == (1...99).map { Double($0) / 100 })
      #expect(curve.n == e["n"] as! Int && curve.positives == e["positives"] as! Int)
      #expect(curve.truePositives == e["tp"] as! [Int] && curve.falsePositives == e["fp"] as! [Int], "\(key)")
      for (k, (m, a)) in zip(curve.model, curve.treatAll).enumerated() {
        diff.check(m, (e["model"] as! [Double])[k], "\(key).model[\(k)]")
        diff.check(a, (e["treat_all"] as! [Double])[k], "\(key).treat_all[\(k)]")
      }
      #expect(curve.treatNone == [Double](repeating: 0, count: 99))
    }
    diff.report("\(name) net benefit")
  }

  @Test(arguments: names) func temperatureMatchesScipy(_ name: String) throws {
    let d = try Self.dataset(name)
    let half = d.labels.count / 2
    let t = try TemperatureScaling.fit(labels: Array(d.labels[..<half]), scores: Array(d.scores[..<half]))
    let e = d["temperature"]
    let diff = Differences(rtol: 1e-9)
    diff.check(t.temperature, e["temperature"], "temperature")
    diff.check(t.logLossBefore, e["log_loss_before"], "log_loss_before")
    diff.check(t.logLossAfter, e["log_loss_after"], "log_loss_after")
    #expect(t.logLossAfter <= t.logLossBefore && t.n == half)
    let applied = try t.apply(Array(d.scores[half...]))
    for (k, v) in (e["applied_first"] as! [Double]).enumerated() { diff.check(applied[k], v, "applied[\(k)]") }
    diff.report("\(name) temperature")
  }

  @Test func holmAndBenjaminiHochbergMatchStatsmodels() throws {
    let diff = Differences(rtol: 1e-12)
    for (i, c) in (try Self.fixture()["multiple_testing"] as! [[String: Any]]).enumerated() {
      let p = c["p"] as! [Double]
      let holm = try MultipleTesting.holm(p), bh = try MultipleTesting.benjaminiHochberg(p)
      for (k, v) in (c["holm"] as! [Double]).enumerated() { diff.check(holm[k], v, "holm[\(i).\(k)]") }
      for (k, v) in (c["bh"] as! [Double]).enumerated() { diff.check(bh[k], v, "bh[\(i).\(k)]") }
    }
    diff.report("multiple testing")
  }

  // MARK: - Properties

  /// y ~ Bernoulli(p) with p = σ(z): calibrated by construction.
  static func calibrated(n: Int, seed: UInt64) -> (labels: [UInt8], scores: [Double]) {
    var rng = SeededRandom(seed: seed)
    var labels: [UInt8] = [], scores: [Double] = []
    for _ in 0..<n {
      let p = 1 / (1 + exp(-(1.5 * rng.normal() - 0.5)))
      scores.append(p); labels.append(rng.uniform() < p ? 1 : 0)
    }
    return (labels, scores)
  }

  @Test func calibratedScoresGiveSlopeOneInterceptZeroTemperatureOne() throws {
    let (labels, scores) = Self.calibrated(n: 40_000, seed: 21)
    let c = try Calibration.logistic(labels: labels, scores: scores)
    // Within three standard errors of perfect calibration (the seed is fixed: no flakiness).
    #expect(abs(c.slope.estimate - 1) < 3 * c.slope.standardError, "slope \(c.slope)")
    #expect(abs(c.intercept.estimate) < 3 * c.intercept.standardError, "intercept \(c.intercept)")
    #expect(abs(c.calibrationInTheLarge.estimate) < 3 * c.calibrationInTheLarge.standardError)
    #expect(c.slope.standardError < 0.02)
    #expect(c.slope.interval.lower < 1 && c.slope.interval.upper > 1)
    let half = labels.count / 2
    let t = try TemperatureScaling.fit(labels: Array(labels[..<half]), scores: Array(scores[..<half]))
    #expect(abs(t.temperature - 1) < 0.03, "T = \(t.temperature)")
    // Scores sharpened by a known factor come back: σ(2·logit p) needs T ≈ 2.
    let sharp = scores.map { 1 / (1 + exp(-2 * Calibration.logit($0))) }
    let t2 = try TemperatureScaling.fit(labels: labels, scores: sharp)
    #expect(abs(t2.temperature - 2) < 0.06, "T = \(t2.temperature)")
    let restored = try t2.apply(sharp)
    #expect(zip(restored, scores).allSatisfy { abs($0 - $1) < 0.02 })
    let eceCalibrated = try Calibration.ece(labels: labels, scores: scores)
    let eceSharp = try Calibration.ece(labels: labels, scores: sharp)
    #expect(eceCalibrated < 0.01 && eceCalibrated < eceSharp)
  }

  @Test func multiplicityAdjustmentsAreMonotoneAndConservative() throws {
    var rng = SeededRandom(seed: 4)
    for m in [1, 2, 7, 50] {
      let p = (0..<m).map { _ in pow(rng.uniform(), 2) }
      let holm = try MultipleTesting.holm(p), bh = try MultipleTesting.benjaminiHochberg(p)
      let order = p.indices.sorted { p[$0] < p[$1] }
      for (k, i) in order.enumerated() {
        #expect(holm[i] >= p[i] && holm[i] <= 1 && bh[i] >= p[i] && bh[i] <= holm[i])
        if k > 0 { #expect(holm[i] >= holm[order[k - 1]] && bh[i] >= bh[order[k - 1]]) }
      }
      // Bonferroni bounds Holm from above.
      for i in p.indices { #expect(holm[i] <= min(1, Double(m) * p[i])) }
    }
    #expect(try MultipleTesting.holm([]) == [])
    #expect(try MultipleTesting.holm([0.2, 0.2, 0.2]) == [0.6000000000000001, 0.6000000000000001, 0.6000000000000001])
    #expect(throws: AuditError.self) { try MultipleTesting.holm([0.1, .nan]) }
    #expect(throws: AuditError.self) { try MultipleTesting.benjaminiHochberg([1.5]) }
    #expect(throws: AuditError.self) { try MultipleTesting.holm([-0.1]) }
    // Permutations: the floor 1/(B + 1), and B ≥ m/α − 1 for Holm over m tests to reach α.
    #expect(try MultipleTesting.smallestPermutationPValue(permutations: 200) == 1.0 / 201)
    #expect(try MultipleTesting.permutationsNeeded(tests: 276, alpha: 0.05) == 5519)
    #expect(try MultipleTesting.permutationsNeeded(tests: 1, alpha: 0.05) == 19)
    #expect(try MultipleTesting.permutationsNeeded(tests: 3, alpha: 0.01) == 299)
    for (m, alpha) in [(276, 0.05), (7, 0.001), (24, 0.1), (1, 0.5)] {
      let b = try MultipleTesting.permutationsNeeded(tests: m, alpha: alpha)
      let floor = try MultipleTesting.smallestPermutationPValue(permutations: b)
      let below = try MultipleTesting.smallestPermutationPValue(permutations: b - 1)
      #expect(try MultipleTesting.holm([Double](repeating: floor, count: m)).min()! <= alpha)
      #expect(try MultipleTesting.holm([Double](repeating: below, count: m)).min()! > alpha)
    }
    #expect(throws: AuditError.self) { try MultipleTesting.permutationsNeeded(tests: 0, alpha: 0.05) }
    #expect(throws: AuditError.self) { try MultipleTesting.permutationsNeeded(tests: 5, alpha: 1e-300) }
    #expect(throws: AuditError.self) { try MultipleTesting.permutationsNeeded(tests: 5, alpha: .nan) }
    #expect(throws: AuditError.self) { try MultipleTesting.smallestPermutationPValue(permutations: -1) }
  }

  @Test func deLongOfAPerfectSeparatorHasZeroVariance() throws {
    let labels: [UInt8] = [0, 0, 0, 1, 1, 1, 0, 1]
    let scores = [0.1, 0.2, 0.2, 0.7, 0.9, 0.8, 0.3, 0.7]
    let a = try DeLong.auc(labels: labels, scores: scores)
    #expect(a.auc == 1 && a.variance == 0 && a.interval.lower == 1 && a.interval.upper == 1)
    // A constant score: AUC ½, every component ½, variance 0.
    let c = try DeLong.auc(labels: labels, scores: [Double](repeating: 3, count: 8))
    #expect(c.auc == 0.5 && c.variance == 0)
    // No z-test without spread; one AUC with spread is enough.
    #expect(throws: AuditError.self) { try DeLong.unpaired(a, a) }
    #expect(throws: AuditError.self) { try DeLong.paired(labels: labels, scoresA: scores, scoresB: scores) }
    let d = try Self.dataset("ties")
    let b = try DeLong.auc(labels: d.labels, scores: d.scores)
    let t = try DeLong.unpaired(a, b)
    #expect(isClose(t.variance, b.variance, 0) && t.z > 0)
  }

  /// The fast algorithm against the O(m·n) definition, with heavy ties and a second score.
  @Test func deLongMatchesBruteForceWithTies() throws {
    var rng = SeededRandom(seed: 9)
    let n = 400
    let labels = (0..<n).map { _ in UInt8(rng.below(2)) }
    let a = labels.map { Double(rng.below(12)) + Double($0) * 3 }
    let b = labels.map { _ in Double(rng.below(5)) }
    func brute(_ s: [Double]) -> (v10: [Double], v01: [Double]) {
      let pos = labels.indices.filter { labels[$0] == 1 }, neg = labels.indices.filter { labels[$0] == 0 }
      func psi(_ x: Double, _ y: Double) -> Double { x > y ? 1 : x == y ? 0.5 : 0 }
      return (
        pos.map { i in neg.reduce(0) { $0 + psi(s[i], s[$1]) } / Double(neg.count) },
        neg.map { j in pos.reduce(0) { $0 + psi(s[$1], s[j]) } / Double(pos.count) }
      )
    }
    func sampleCov(_ x: [Double], _ y: [Double]) -> Double {
      let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
      return zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / Double(x.count - 1)
    }
    let (a10, a01) = brute(a), (b10, b01) = brute(b)
    let m = Double(a10.count), k = Double(a01.count)
    let va = sampleCov(a10, a10) / m + sampleCov(a01, a01) / k
    let vb = sampleCov(b10, b10) / m + sampleCov(b01, b01) / k
    let cov = sampleCov(a10, b10) / m + sampleCov(a01, b01) / k
    let ea = try DeLong.auc(labels: labels, scores: a)
    #expect(isClose(ea.auc, a10.reduce(0, +) / m, 1e-14) && isClose(ea.variance, va, 1e-15))
    let p = try DeLong.paired(labels: labels, scoresA: a, scoresB: b)
    #expect(isClose(p.b.variance, vb, 1e-15) && isClose(p.covariance, cov, 1e-15))
    #expect(isClose(p.variance, va + vb - 2 * cov, 1e-15))
    #expect(isClose(p.pValue, erfc(abs(p.z) / 2.0.squareRoot()), 0))
    // Agrees with the audit's own AUC walk.
    let ranked = RankedScores(scores: a, labels: labels, rowGroup: [Int32](repeating: 0, count: n), groupCount: 1)
    #expect(isClose(ranked.auc().overall, ea.auc, 1e-14))
  }

  @Test func groupedCurvesAndAUCsEqualThoseOfEachSubset() throws {
    let data = Synthetic(n: 3000, seed: 12)
    let input = try data.input()
    let g = input.grouping
    let curves = try DecisionCurve.grouped(
      labels: input.labels, scores: input.scores, rowGroup: g.rowGroup, groupCount: g.groupCount)
    let aucs = try DeLong.groups(
      labels: input.labels, scores: input.scores, rowGroup: g.rowGroup, groupCount: g.groupCount)
    for k in 0..<g.groupCount {
      let rows = input.labels.indices.filter { g.rowGroup[$0] == Int32(k) }
      let labels = rows.map { input.labels[$0] }, scores = rows.map { input.scores[$0] }
      #expect(curves.groups[k] == (try DecisionCurve.compute(labels: labels, scores: scores)))
      let alone = try DeLong.auc(labels: labels, scores: scores)
      #expect(isClose(aucs[k]?.auc, alone.auc, 1e-15) && isClose(aucs[k]?.variance, alone.variance, 1e-15))
    }
    // Net benefit: treat-all at pₜ → 0 is the prevalence; the model never beats perfect (TP/n at most π).
    let c = curves.overall
    let prevalence = Double(c.positives) / Double(c.n)
    #expect(isClose(c.treatAll[0], prevalence - (1 - prevalence) / 99, 1e-15))
    for k in c.thresholds.indices { #expect(c.model[k] <= prevalence + 1e-15) }
    // Thresholds at the scores themselves: score ≥ pₜ counts as treated.
    let edge = try DecisionCurve.compute(labels: [1, 0, 1], scores: [0.5, 0.5, 0.25], thresholds: [0.25, 0.5, 0.75])
    #expect(edge.truePositives == [2, 1, 0] && edge.falsePositives == [1, 1, 0])
    #expect(edge.model == [2.0 / 3 - 1.0 / 3 * (0.25 / 0.75), 1.0 / 3 - 1.0 / 3, 0])
    // Rows with group −1 are in no curve; an empty group has none.
    let skipped = try DecisionCurve.grouped(
      labels: [1, 0, 1], scores: [0.9, 0.1, 0.6], rowGroup: [0, -1, 0], groupCount: 2)
    #expect(skipped.overall.n == 2 && skipped.groups[0]?.n == 2 && skipped.groups[1] == nil)
  }

  @Test func equalMassECEIsIndependentOfRowOrder() throws {
    var rng = SeededRandom(seed: 2)
    let n = 1000
    let scores = (0..<n).map { _ in Double(rng.below(7)) / 6 }
    let labels = scores.map { UInt8(rng.uniform() < $0 ? 1 : 0) }
    var order = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
    for binning in [CalibrationBinning.equalMass(bins: 10), .equalMass(bins: 3), .equalWidth(bins: 10)] {
      let a = try Calibration.ece(labels: labels, scores: scores, binning: binning)
      let b = try Calibration.ece(labels: order.map { labels[$0] }, scores: order.map { scores[$0] }, binning: binning)
      #expect(isClose(a, b, 1e-13), "\(binning)")
    }
    // One bin: |mean score − prevalence|.
    let one = try Calibration.ece(labels: labels, scores: scores, binning: .equalMass(bins: 1))
    let gap = abs(scores.reduce(0, +) - Double(labels.reduce(0) { $0 + Int($1) })) / Double(n)
    #expect(isClose(one, gap, 1e-13))
  }

  @Test func degenerateInputThrowsAndNeverTraps() throws {
    let y: [UInt8] = [0, 1, 0, 1, 1, 0]
    let p = [0.2, 0.7, 0.4, 0.35, 0.9, 0.1]
    let bad: [(labels: [UInt8], scores: [Double], why: String)] = [
      ([], [], "empty"), ([0, 1], [0.5], "count mismatch"), ([0, 2, 1], [0.1, 0.5, 0.6], "label 2"),
      ([0, 1, 1], [0.1, .nan, 0.6], "NaN"), ([0, 1, 1], [0.1, 1.5, 0.6], "outside [0, 1]"),
      ([0, 1, 1], [0.1, -.infinity, 0.6], "−∞"),
    ]
    for b in bad {
      #expect(throws: AuditError.self, "\(b.why)") { try Calibration.logistic(labels: b.labels, scores: b.scores) }
      #expect(throws: AuditError.self, "\(b.why)") {
        try Calibration.calibrationInTheLarge(labels: b.labels, scores: b.scores)
      }
      #expect(throws: AuditError.self, "\(b.why)") { try Calibration.brier(labels: b.labels, scores: b.scores) }
      #expect(throws: AuditError.self, "\(b.why)") { try Calibration.reliability(labels: b.labels, scores: b.scores) }
      #expect(throws: AuditError.self, "\(b.why)") { try Calibration.ece(labels: b.labels, scores: b.scores) }
      #expect(throws: AuditError.self, "\(b.why)") {
        try Calibration.ece(labels: b.labels, scores: b.scores, binning: .equalMass(bins: 4))
      }
      #expect(throws: AuditError.self, "\(b.why)") { try TemperatureScaling.fit(labels: b.labels, scores: b.scores) }
      #expect(throws: AuditError.self, "\(b.why)") { try DecisionCurve.compute(labels: b.labels, scores: b.scores) }
      if b.why != "outside [0, 1]" {  // DeLong takes scores on any scale
        #expect(throws: AuditError.self, "\(b.why)") { try DeLong.auc(labels: b.labels, scores: b.scores) }
      }
    }
    // One class.
    let ones = [UInt8](repeating: 1, count: 6)
    #expect(throws: AuditError.self) { try Calibration.logistic(labels: ones, scores: p) }
    #expect(throws: AuditError.self) { try Calibration.calibrationInTheLarge(labels: ones, scores: p) }
    #expect(throws: AuditError.self) { try TemperatureScaling.fit(labels: ones, scores: p) }
    #expect(throws: AuditError.self) { try DeLong.auc(labels: ones, scores: p) }
    #expect(throws: AuditError.self) { try DeLong.paired(labels: ones, scoresA: p, scoresB: p) }
    // One class is fine where the statistic is defined without it.
    #expect(try Calibration.brier(labels: ones, scores: p) > 0)
    #expect(try DecisionCurve.compute(labels: ones, scores: p).positives == 6)
    #expect(try Calibration.reliability(labels: ones, scores: p).count == 10)
    // DeLong needs two of each class; groups with fewer get nil.
    #expect(throws: AuditError.self) { try DeLong.auc(labels: [0, 1, 0], scores: [0.1, 0.5, 0.2]) }
    let groups = try DeLong.groups(labels: y, scores: p, rowGroup: [0, 0, 0, 0, 1, 1], groupCount: 3)
    #expect(groups[0] != nil && groups[1] == nil && groups[2] == nil)
    #expect(throws: AuditError.self) {
      try DeLong.groups(labels: y, scores: p, rowGroup: [0, 0, 0, 0, 1, 2], groupCount: 2)
    }
    #expect(throws: AuditError.self) { try DeLong.groups(labels: y, scores: p, rowGroup: [0], groupCount: 1) }
    // Separation, a constant score, impossible temperatures.
    let sep: [UInt8] = [0, 0, 1, 1]
    #expect(throws: AuditError.self) { try Calibration.logistic(labels: sep, scores: [0.1, 0.4, 0.4, 0.9]) }
    #expect(throws: AuditError.self) { try Calibration.logistic(labels: sep, scores: [0.9, 0.8, 0.2, 0.1]) }
    #expect(throws: AuditError.self) { try Calibration.logistic(labels: sep, scores: [0.3, 0.3, 0.3, 0.3]) }
    // … where calibration-in-the-large still exists: logit of the prevalence minus logit 0.3.
    let large = try Calibration.calibrationInTheLarge(labels: sep, scores: [0.3, 0.3, 0.3, 0.3])
    #expect(isClose(large.estimate, -log(0.3 / 0.7), 1e-12))
    #expect(throws: AuditError.self) { try TemperatureScaling.fit(labels: sep, scores: [0.1, 0.4, 0.6, 0.9]) }
    #expect(throws: AuditError.self) { try TemperatureScaling.fit(labels: sep, scores: [0.9, 0.6, 0.4, 0.1]) }
    #expect(throws: AuditError.self) { try TemperatureScaling.fit(labels: sep, scores: [0.5, 0.5, 0.5, 0.5]) }
    #expect(throws: AuditError.self) {
      try TemperatureScaling.fit(labels: [0, 0, 1, 1, 0, 1], scores: [0.8, 0.9, 0.2, 0.3, 0.4, 0.6])
    }
    // Options.
    #expect(throws: AuditError.self) { try Calibration.logistic(labels: y, scores: p, level: 1) }
    #expect(throws: AuditError.self) { try Calibration.reliability(labels: y, scores: p, level: .nan) }
    #expect(throws: AuditError.self) { try Calibration.reliability(labels: y, scores: p, bins: 0) }
    #expect(throws: AuditError.self) { try Calibration.ece(labels: y, scores: p, binning: .equalMass(bins: 5000)) }
    #expect(throws: AuditError.self) { try DecisionCurve.compute(labels: y, scores: p, thresholds: []) }
    #expect(throws: AuditError.self) { try DecisionCurve.compute(labels: y, scores: p, thresholds: [0.5, 0.5]) }
    #expect(throws: AuditError.self) { try DecisionCurve.compute(labels: y, scores: p, thresholds: [0, 0.5]) }
    #expect(throws: AuditError.self) { try DecisionCurve.compute(labels: y, scores: p, thresholds: [0.5, 1]) }
    #expect(throws: AuditError.self) {
      try DecisionCurve.grouped(labels: y, scores: p, rowGroup: [-1, -1, -1, -1, -1, -1], groupCount: 1)
    }
    #expect(throws: AuditError.self) {
      try DecisionCurve.grouped(labels: y, scores: p, rowGroup: [0, 0, 0, 0, 0, 7], groupCount: 2)
    }
    let t = try TemperatureScaling.fit(labels: y, scores: p)
    #expect(throws: AuditError.self) { try t.apply([0.5, .nan]) }
    // Scores of exactly 0 and 1 are clamped, not infinite.
    let edge = try Calibration.logistic(labels: [0, 0, 1, 1, 0, 1], scores: [0, 0.3, 1, 0.6, 0.7, 0.2])
    #expect(edge.slope.estimate.isFinite && edge.intercept.standardError.isFinite)
    // Far from the start: every score 0 (logit −34.54) on a 3:1 sample needs a₁ = log 3 + 34.54.
    let far = try Calibration.calibrationInTheLarge(labels: [1, 1, 1, 0], scores: [0, 0, 0, 0])
    #expect(isClose(far.estimate, log(3.0) - Calibration.logit(0), 1e-9))
    let farJoint = try Calibration.logistic(labels: [1, 1, 1, 0, 0, 1, 0], scores: [0, 0, 0.2, 1, 1, 0.9, 0.1])
    // statsmodels: intercept 0.59686679, slope −0.12641024 (printed to 8 digits).
    #expect(
      isClose(farJoint.intercept.estimate, 0.59686679, 1e-8) && isClose(farJoint.slope.estimate, -0.12641024, 1e-8))
    #expect(Calibration.logit(0) == log(1e-15 / (1 - 1e-15)))
    #expect(Calibration.logit(1) == log((1 - 1e-15) / (1 - (1 - 1e-15))) && abs(Calibration.logit(1) - 34.54) < 0.01)
  }

  @Test func standardNormalQuantileInvertsTheCDF() {
    #expect(isClose(StandardNormal.quantile(0.975), 1.959963984540054, 1e-15))
    #expect(StandardNormal.quantile(0.5) == 0)
    for p in [1e-300, 1e-20, 1e-8, 0.001, 0.02, 0.3, 0.6, 0.9, 0.99, 0.999999] {
      let q = StandardNormal.quantile(p)!
      #expect(abs(StandardNormal.cdf(q) - p) <= 1e-12 * p, "\(p)")
    }
    #expect(
      StandardNormal.quantile(0) == nil && StandardNormal.quantile(1) == nil && StandardNormal.quantile(.nan) == nil)
    #expect(StandardNormal.twoSidedPValue(1.959963984540054) > 0.0499999 && StandardNormal.twoSidedPValue(-40) >= 0)
  }
}
