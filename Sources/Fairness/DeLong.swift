import Foundation

/// An AUC with its DeLong variance and Wald interval.
public struct AUCEstimate: Sendable, Equatable {
  /// Mann–Whitney AUC, ties counting one half (scikit-learn's `roc_auc_score`).
  public var auc: Double
  /// DeLong et al. (1988) variance S₁₀/m + S₀₁/n.
  public var variance: Double
  /// auc ± z·√variance, truncated to [0, 1] (as pROC's `ci.auc(method = "delong")`).
  public var interval: ConfidenceInterval
  public var positives: Int
  public var negatives: Int

  public var standardError: Double { variance.squareRoot() }
}

/// A z-test of AUC_A − AUC_B: z = (A − B)/√V with V = V_A + V_B − 2·Cov(A, B) (Cov = 0 for
/// disjoint samples), two-sided p = 2·(1 − Φ(|z|)) = erfc(|z|/√2).
public struct AUCComparison: Sendable, Equatable {
  public var a: AUCEstimate
  public var b: AUCEstimate
  /// A − B.
  public var difference: Double
  /// DeLong covariance of A and B (0 when unpaired).
  public var covariance: Double
  /// Variance of A − B.
  public var variance: Double
  public var z: Double
  public var pValue: Double
  /// (A − B) ± z·√variance, at the level of `a.interval` (not truncated).
  public var interval: ConfidenceInterval
  /// Whether A and B were measured on the same rows (paired) or on disjoint ones.
  public var paired: Bool
}

/// DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated
/// receiver operating characteristic curves: a nonparametric approach", computed by the fast
/// algorithm of Sun & Xu (2014, IEEE Signal Processing Letters 21(11)): one sort (O(n) radix
/// sort here) and midranks, in place of the O(m·n) pairwise comparisons. With m positives X,
/// n negatives Y and ψ(x, y) = 1 if x > y, ½ if x = y, 0 otherwise, the structural components
/// (placement values) are
///   V₁₀(Xᵢ) = (1/n)·Σⱼ ψ(Xᵢ, Yⱼ) = (negatives below Xᵢ + ½·negatives tied)/n,
///   V₀₁(Yⱼ) = (1/m)·Σᵢ ψ(Xᵢ, Yⱼ) = (positives above Yⱼ + ½·positives tied)/m,
/// AUC = mean V₁₀, S₁₀ and S₀₁ their sample variances (denominators m − 1, n − 1), and
/// Var(AUC) = S₁₀/m + S₀₁/n; for two scores on the same rows, Cov = S₁₀^{AB}/m + S₀₁^{AB}/n
/// from the sample covariances of their components. Needs at least two positives and two
/// negatives; labels 0 or 1, scores finite (any scale). Every function throws
/// `AuditError.badOption` on degenerate input and never traps on user data.
public enum DeLong {
  /// The AUC of `scores` with its DeLong variance and interval.
  public static func auc(labels: [UInt8], scores: [Double], level: Double = 0.95) throws -> AUCEstimate {
    let z = try StatisticsInput.z(level)
    let positives = try StatisticsInput.check(labels, scores, probabilities: false, what: "DeLong AUC")
    try needTwoOfEach(positives, labels.count - positives)
    let p = try Placements(scores: scores, labels: labels, rowGroup: nil, groupCount: 1)
    return p.estimates(labels: labels, z: z, level: level)[0]!
  }

  /// The AUC of every group of `rowGroup` (values in 0..<groupCount; rows with −1 are skipped)
  /// from one sort; nil for a group with fewer than two positives or two negatives.
  public static func groups(
    labels: [UInt8], scores: [Double], rowGroup: [Int32], groupCount: Int, level: Double = 0.95
  ) throws -> [AUCEstimate?] {
    let z = try StatisticsInput.z(level)
    _ = try StatisticsInput.check(labels, scores, probabilities: false, what: "DeLong AUC")
    guard rowGroup.count == labels.count else {
      throw AuditError.badOption("DeLong AUC: \(rowGroup.count) group codes for \(labels.count) rows")
    }
    guard groupCount >= 1, groupCount <= 1_000_000 else {
      throw AuditError.badOption("DeLong AUC: group count \(groupCount) is not in 1…1000000")
    }
    for (i, g) in rowGroup.enumerated() where g < -1 || Int(g) >= groupCount {
      throw AuditError.badOption("DeLong AUC: group \(g) at index \(i) is not in −1..<\(groupCount)")
    }
    let p = try Placements(scores: scores, labels: labels, rowGroup: rowGroup, groupCount: groupCount)
    return p.estimates(labels: labels, z: z, level: level)
  }

  /// The unpaired test of two AUCs measured on disjoint rows (two subgroups, or a subgroup
  /// against a reference group): V = V_A + V_B. Throws when V = 0 (both AUCs without spread,
  /// e.g. both perfect separators or both constant scores).
  public static func unpaired(_ a: AUCEstimate, _ b: AUCEstimate) throws -> AUCComparison {
    try comparison(a, b, covariance: 0, variance: a.variance + b.variance, paired: false)
  }

  /// The unpaired test of AUC(`labels`, `scores`) against AUC(`referenceLabels`, `referenceScores`),
  /// the two samples disjoint.
  public static func unpaired(
    labels: [UInt8], scores: [Double], referenceLabels: [UInt8], referenceScores: [Double], level: Double = 0.95
  ) throws -> AUCComparison {
    try unpaired(
      auc(labels: labels, scores: scores, level: level),
      auc(labels: referenceLabels, scores: referenceScores, level: level))
  }

  /// The paired test of two scores of the same rows (two models on one test set):
  /// V = Var(A) + Var(B) − 2·Cov(A, B), computed as S₁₀/m + S₀₁/n of the components'
  /// differences V^A − V^B (the same value, never negative). Throws when V = 0 (e.g. the two
  /// scores rank the rows identically).
  public static func paired(labels: [UInt8], scoresA: [Double], scoresB: [Double], level: Double = 0.95) throws
    -> AUCComparison
  {
    let z = try StatisticsInput.z(level)
    let positives = try StatisticsInput.check(labels, scoresA, probabilities: false, what: "DeLong paired test (A)")
    _ = try StatisticsInput.check(labels, scoresB, probabilities: false, what: "DeLong paired test (B)")
    try needTwoOfEach(positives, labels.count - positives)
    let pa = try Placements(scores: scoresA, labels: labels, rowGroup: nil, groupCount: 1)
    let pb = try Placements(scores: scoresB, labels: labels, rowGroup: nil, groupCount: 1)
    let a = pa.estimates(labels: labels, z: z, level: level)[0]!
    let b = pb.estimates(labels: labels, z: z, level: level)[0]!
    // Means of each component, then the sample covariance and the variance of the difference.
    var mean = [0.0, 0.0, 0.0, 0.0]  // V₁₀ᴬ, V₁₀ᴮ, V₀₁ᴬ, V₀₁ᴮ
    for i in labels.indices {
      let k = labels[i] != 0 ? 0 : 2
      mean[k] += pa.value[i]; mean[k + 1] += pb.value[i]
    }
    let m = Double(positives), n = Double(labels.count - positives)
    mean[0] /= m; mean[1] /= m; mean[2] /= n; mean[3] /= n
    var cov10 = 0.0, cov01 = 0.0, diff10 = 0.0, diff01 = 0.0
    for i in labels.indices {
      let k = labels[i] != 0 ? 0 : 2
      let da = pa.value[i] - mean[k], db = pb.value[i] - mean[k + 1]
      if k == 0 {
        cov10 += da * db; diff10 += (da - db) * (da - db)
      } else {
        cov01 += da * db; diff01 += (da - db) * (da - db)
      }
    }
    let covariance = cov10 / (m - 1) / m + cov01 / (n - 1) / n
    let variance = diff10 / (m - 1) / m + diff01 / (n - 1) / n
    return try comparison(a, b, covariance: covariance, variance: variance, paired: true)
  }

  static func comparison(_ a: AUCEstimate, _ b: AUCEstimate, covariance: Double, variance: Double, paired: Bool)
    throws -> AUCComparison
  {
    guard variance > 0, variance.isFinite else {
      throw AuditError.badOption(
        "DeLong test: the variance of the AUC difference is 0 (AUCs \(a.auc) and \(b.auc) have no spread), no z-test")
    }
    let level = a.interval.level
    let zq = try StatisticsInput.z(level)
    let d = a.auc - b.auc, se = variance.squareRoot()
    let z = d / se
    return AUCComparison(
      a: a, b: b, difference: d, covariance: covariance, variance: variance, z: z,
      pValue: StandardNormal.twoSidedPValue(z),
      interval: ConfidenceInterval(lower: d - zq * se, upper: d + zq * se, level: level), paired: paired)
  }

  static func needTwoOfEach(_ positives: Int, _ negatives: Int) throws {
    guard positives >= 2, negatives >= 2 else {
      throw AuditError.badOption(
        "DeLong variance needs at least two positives and two negatives, got \(positives) and \(negatives)")
    }
  }

  /// The structural component of every row (V₁₀ for a positive, V₀₁ for a negative; NaN for a
  /// skipped row), per group, from one radix sort and one walk over tie blocks.
  struct Placements {
    var value: [Double]
    var positives: [Int]
    var negatives: [Int]
    let rowGroup: [Int32]?

    init(scores: [Double], labels: [UInt8], rowGroup: [Int32]?, groupCount G: Int) throws {
      self.rowGroup = rowGroup
      @inline(__always) func group(_ i: Int) -> Int { rowGroup.map { Int($0[i]) } ?? 0 }
      var P = [Int](repeating: 0, count: G), N = P
      for i in labels.indices {
        let g = group(i)
        if g < 0 { continue }
        if labels[i] != 0 { P[g] += 1 } else { N[g] += 1 }
      }
      let (keys, order) = try StatisticsInput.sortedKeysAndRows(scores, labelsFirst: nil)
      var v = [Double](repeating: .nan, count: scores.count)
      var negBelow = [Double](repeating: 0, count: G), posBelow = negBelow, blockPos = negBelow, blockNeg = negBelow
      var touched: [Int] = []
      let total = scores.count
      var i = 0
      while i < total {
        var j = i
        while j < total && keys[j] == keys[i] {
          let row = Int(order[j]), g = group(row)
          if g >= 0 {
            if blockPos[g] == 0 && blockNeg[g] == 0 { touched.append(g) }
            if labels[row] != 0 { blockPos[g] += 1 } else { blockNeg[g] += 1 }
          }
          j += 1
        }
        for k in i..<j {
          let row = Int(order[k]), g = group(row)
          if g < 0 { continue }
          v[row] =
            labels[row] != 0
            ? (negBelow[g] + 0.5 * blockNeg[g]) / Double(N[g])
            : (Double(P[g]) - posBelow[g] - 0.5 * blockPos[g]) / Double(P[g])
        }
        for g in touched {
          negBelow[g] += blockNeg[g]; posBelow[g] += blockPos[g]
          blockNeg[g] = 0; blockPos[g] = 0
        }
        touched.removeAll(keepingCapacity: true)
        i = j
      }
      value = v; positives = P; negatives = N
    }

    /// Every group's AUC (mean V₁₀), DeLong variance and interval, in two passes over the rows
    /// (means, then squared deviations); nil for a group with fewer than two of a class.
    func estimates(labels: [UInt8], z: Double, level: Double) -> [AUCEstimate?] {
      let G = positives.count
      @inline(__always) func group(_ i: Int) -> Int { rowGroup.map { Int($0[i]) } ?? 0 }
      var sum10 = [Double](repeating: 0, count: G), sum01 = sum10
      for i in labels.indices {
        let g = group(i)
        if g < 0 { continue }
        if labels[i] != 0 { sum10[g] += value[i] } else { sum01[g] += value[i] }
      }
      let mean10 = (0..<G).map { sum10[$0] / Double(positives[$0]) }
      let mean01 = (0..<G).map { sum01[$0] / Double(negatives[$0]) }
      var s10 = [Double](repeating: 0, count: G), s01 = s10
      for i in labels.indices {
        let g = group(i)
        if g < 0 { continue }
        if labels[i] != 0 {
          let d = value[i] - mean10[g]
          s10[g] += d * d
        } else {
          let d = value[i] - mean01[g]
          s01[g] += d * d
        }
      }
      return (0..<G).map { g in
        let m = positives[g], n = negatives[g]
        guard m >= 2, n >= 2 else { return nil }
        let auc = mean10[g]
        let variance = s10[g] / Double(m - 1) / Double(m) + s01[g] / Double(n - 1) / Double(n)
        let half = z * variance.squareRoot()
        return AUCEstimate(
          auc: auc, variance: variance,
          interval: ConfidenceInterval(lower: max(0, auc - half), upper: min(1, auc + half), level: level),
          positives: m, negatives: n)
      }
    }
  }
}

/// The standard normal distribution.
public enum StandardNormal {
  /// Φ(x) = erfc(−x/√2)/2.
  public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

  /// Two-sided p-value of a z statistic: 2·(1 − Φ(|z|)) = erfc(|z|/√2) (accurate far in the tail).
  public static func twoSidedPValue(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

  /// Φ⁻¹(p) for p in (0, 1), nil otherwise: Wichura's AS 241 (PPND16, Applied Statistics 37,
  /// 1988), relative error about 1e-16.
  public static func quantile(_ p: Double) -> Double? {
    guard p > 0, p < 1 else { return nil }
    let q = p - 0.5
    if abs(q) <= 0.425 {
      let r = 0.180625 - q * q
      var num = r * 2509.0809287301226727 + 33430.575583588128105
      num =
        ((((num * r + 67265.770927008700853) * r + 45921.953931549871457) * r + 13731.693765509461125) * r
          + 1971.5909503065514427)
      num = (num * r + 133.14166789178437745) * r + 3.387132872796366608
      var den = r * 5226.495278852545925 + 28729.085735721942674
      den =
        ((((den * r + 39307.89580009271061) * r + 21213.794301586595867) * r + 5394.1960214247511077) * r
          + 687.1870074920579083)
      den = (den * r + 42.313330701600911252) * r + 1
      return q * num / den
    }
    var r = (-log(q < 0 ? p : 1 - p)).squareRoot()
    var value: Double
    if r <= 5 {
      r -= 1.6
      var num = r * 7.7454501427834140764e-4 + 0.0227238449892691845833
      num = (((num * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r + 3.64784832476320460504) * r
      num = ((num + 5.7694972214606914055) * r + 4.6303378461565452959) * r + 1.42343711074968357734
      var den = r * 1.05075007164441684324e-9 + 5.475938084995344946e-4
      den = (((den * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r + 0.68976733498510000455) * r
      den = ((den + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1
      value = num / den
    } else {
      r -= 5
      var num = r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5
      num = (((num * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r + 0.29656057182850489123) * r
      num = ((num + 1.7848265399172913358) * r + 5.4637849111641143699) * r + 6.6579046435011037772
      var den = r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7
      den = (((den * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r
      den = ((den + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1
      value = num / den
    }
    return q < 0 ? -value : value
  }
}
