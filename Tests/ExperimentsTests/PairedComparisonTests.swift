import Foundation
import Testing
@testable import Experiments
import Training
import Support

/// The paired comparison's metrics equal the audit's, and its intervals behave: identical
/// methods differ by exactly 0, a clearly better method's interval excludes 0.
struct PairedComparisonTests {
  static func data(seed: UInt64, shift: Double, n: Int = 600) -> (
    labels: [Int], groups: [String], erm: [Double], better: [Double]
  ) {
    var rng = Xoshiro256(seed: seed)
    var labels: [Int] = [], groups: [String] = [], erm: [Double] = [], better: [Double] = []
    for i in 0..<n {
      let g = ["a", "b", "c"][i % 3]
      let y = Double.random(in: 0..<1, using: &rng) < 0.4 ? 1 : 0
      let noise = Double.random(in: -0.35...0.35, using: &rng)
      // Group c's positives score low under "ERM"; the better method lifts them by `shift`.
      let base = 0.5 + (y == 1 ? 0.2 : -0.2) + noise - (g == "c" && y == 1 ? 0.25 : 0)
      labels.append(y); groups.append(g); erm.append(base)
      better.append(base + (g == "c" && y == 1 ? shift : 0))
    }
    return (labels, groups, erm, better)
  }

  static func pair(_ d: (labels: [Int], groups: [String], erm: [Double], better: [Double])) -> PairedComparison.Pair {
    var byGroup: [String: [Int]] = [:]
    for (i, g) in d.groups.enumerated() { byGroup[g, default: []].append(i) }
    return PairedComparison.Pair(
      labels: d.labels.map { UInt8($0) }, groupRows: byGroup.keys.sorted().map { byGroup[$0]! },
      a: .init(scores: d.erm, threshold: 0.5), b: .init(scores: d.better, threshold: 0.5))
  }

  @Test func metricsEqualTheAuditsOnTheFullData() throws {
    let d = Self.data(seed: 1, shift: 0.2)
    let p = Self.pair(d)
    let m = PairedComparison.metrics(p.b, p, [Int32](repeating: 1, count: d.labels.count), 10)
    let audit = try EvalMetrics.compute(labels: d.labels, scores: d.better, groups: d.groups, threshold: 0.5)
    #expect(
      abs(m[0]! - audit.deltaTPR!) < 1e-12 && abs(m[1]! - audit.worstGroupTPR!) < 1e-12
        && abs(m[2]! - audit.auc!) < 1e-12)
  }

  @Test func identicalMethodsDifferByZeroAndABetterOneExcludesZero() {
    let same = (0..<3).map { s -> PairedComparison.Pair in
      let d = Self.data(seed: 10 + UInt64(s), shift: 0)
      return Self.pair(d)
    }
    let zero = PairedComparison.intervals(same, replicates: 200, seed: 3, minGroupSize: 10)
    for iv in zero { #expect(iv?.estimate == 0 && iv?.lower == 0 && iv?.upper == 0 && iv?.containsZero == true) }
    let lifted = (0..<3).map { s in Self.pair(Self.data(seed: 20 + UInt64(s), shift: 0.3)) }
    let iv = PairedComparison.intervals(lifted, replicates: 300, seed: 3, minGroupSize: 10)
    let (gap, worst, auc) = (iv[0]!, iv[1]!, iv[2]!)
    #expect(gap.upper < 0 && !gap.containsZero, "ΔTPR difference \(gap)")
    #expect(worst.lower > 0, "worst-group TPR difference \(worst)")
    #expect(auc.estimate > 0 && gap.lower <= gap.estimate && gap.estimate <= gap.upper)
  }
}
