import Foundation

/// Multiplicity corrections of m p-values, as adjusted p-values in the input order (reject
/// hypothesis i at family level α iff adjusted_i ≤ α), the same numbers as statsmodels'
/// `multipletests(p, method="holm")` and `method="fdr_bh"`. With p₍₁₎ ≤ … ≤ p₍ₘ₎ sorted:
/// - Holm (1979), step-down, controls the family-wise error rate under any dependence:
///   adjusted₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎);
/// - Benjamini & Hochberg (1995), step-up, controls the false discovery rate (independent or
///   positively dependent tests): adjusted₍ᵢ₎ = min(1, min_{j ≥ i} p₍ⱼ₎/(j/m)).
/// Both are monotone in the sorted order, never below the raw p-value, and give tied p-values
/// equal adjusted ones. They throw `AuditError.badOption` on a p-value that is NaN or outside
/// [0, 1]; no p-values give none.
///
/// Permutation p-values (1 + #{permuted statistic ≥ observed})/(1 + B) are never below 1/(B + 1),
/// so Holm over m tests can only reject when m/(B + 1) ≤ α: B ≥ m/α − 1 permutations per test
/// (276 pairs at α = 0.05 need B ≥ 5519; 200 permutations floor every Holm-adjusted p at
/// 276/201 → 1).
public enum MultipleTesting {
  /// The family-wise level every output judges Holm-adjusted p-values by: a test rejects iff its
  /// adjusted p ≤ alpha.
  public static let alpha = 0.05
  /// Holm's step-down adjusted p-values.
  public static func holm(_ pValues: [Double]) throws -> [Double] {
    let order = try sortedOrder(pValues)
    let m = pValues.count
    var adjusted = [Double](repeating: 0, count: m)
    var running = 0.0
    for (rank, i) in order.enumerated() {
      running = max(running, pValues[i] * Double(m - rank))
      adjusted[i] = min(1, running)
    }
    return adjusted
  }

  /// Benjamini–Hochberg step-up adjusted p-values (false discovery rate).
  public static func benjaminiHochberg(_ pValues: [Double]) throws -> [Double] {
    let order = try sortedOrder(pValues)
    let m = pValues.count
    var adjusted = [Double](repeating: 0, count: m)
    var running = Double.infinity
    for rank in stride(from: m - 1, through: 0, by: -1) {
      let i = order[rank]
      running = min(running, pValues[i] / (Double(rank + 1) / Double(m)))
      adjusted[i] = min(1, running)
    }
    return adjusted
  }

  /// The smallest p-value a permutation test with B permutations can give: 1/(B + 1).
  public static func smallestPermutationPValue(permutations: Int) throws -> Double {
    guard permutations >= 0 else { throw AuditError.badOption("permutations must be ≥ 0, got \(permutations)") }
    return 1 / (Double(permutations) + 1)
  }

  /// The fewest permutations B per test with which Holm over `tests` = m tests can reach family
  /// level α: the smallest B with m/(B + 1) ≤ α, i.e. B = ⌈m/α⌉ − 1 (checked in floating point).
  /// Throws unless m ≥ 1 and 0 < α < 1, or when B would exceed 2⁵³.
  public static func permutationsNeeded(tests: Int, alpha: Double) throws -> Int {
    guard tests >= 1 else { throw AuditError.badOption("tests must be ≥ 1, got \(tests)") }
    guard alpha > 0, alpha < 1 else { throw AuditError.badOption("alpha must be in (0, 1), got \(alpha)") }
    let m = Double(tests)
    let bound = (m / alpha).rounded(.up)
    guard bound <= 9_007_199_254_740_992 else {
      throw AuditError.badOption("\(tests) tests at α = \(alpha) need more than 2⁵³ permutations")
    }
    var b = max(0, Int(bound) - 1)
    while b > 0 && m / Double(b) <= alpha { b -= 1 }  // the smallest B that reaches α …
    while m / (Double(b) + 1) > alpha { b += 1 }  // … and one that does
    return b
  }

  /// Indices sorted by p-value (stable), after checking every p-value.
  static func sortedOrder(_ p: [Double]) throws -> [Int] {
    for (i, v) in p.enumerated() where !(v >= 0 && v <= 1) {
      throw AuditError.badOption("p-value \(v) at index \(i) is not in [0, 1]")
    }
    return p.indices.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
  }
}
