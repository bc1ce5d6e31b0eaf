/// One pass over the rows: confusion counts, Brier sums and calibration bins for every group.
public struct GroupTally: Sendable {
  public var counts: [ConfusionCounts]
  /// Σ (score − label)² per group.
  public var squaredError: [Double]
  /// Per group, per bin: (rows, Σ score, Σ label), bins of equal width on [0, 1].
  public var bins: [[(n: Double, score: Double, label: Double)]]
  /// Whether every score lies in [0, 1] (Brier and ECE need probabilities).
  public var probabilities: Bool

  /// Tallies rows (`rowGroup < 0` skipped) at `threshold` with `eceBins` calibration bins;
  /// `weights` gives row multiplicities (bootstrap), nil = 1.
  public init(
    scores: [Double], labels: [UInt8], rowGroup: [Int32], groupCount: Int,
    threshold: Double, eceBins: Int, weights: [Int32]? = nil
  ) {
    if let weights {
      self = weights.withUnsafeBufferPointer {
        GroupTally(scores, labels, rowGroup, groupCount, threshold, eceBins, $0)
      }
    } else {
      self = GroupTally(scores, labels, rowGroup, groupCount, threshold, eceBins, nil)
    }
  }

  private init(
    _ scores: [Double], _ labels: [UInt8], _ rowGroup: [Int32], _ groupCount: Int,
    _ threshold: Double, _ eceBins: Int, _ weights: UnsafeBufferPointer<Int32>?
  ) {
    var cells = [Int](repeating: 0, count: groupCount * 4)
    var sq = [Double](repeating: 0, count: groupCount)
    var binN = [Double](repeating: 0, count: groupCount * eceBins)
    var binS = binN, binY = binN
    var probabilities = true
    let B = Double(eceBins)
    for i in scores.indices {
      let g = Int(rowGroup[i])
      if g < 0 { continue }
      // Whether the scores are probabilities is a property of the data, not of a bootstrap draw:
      // a row out of [0, 1] keeps Brier and ECE undefined in every replicate, drawn or not.
      let s = scores[i], inRange = s >= 0 && s <= 1
      if !inRange { probabilities = false }
      let w = weights.map { Int($0[i]) } ?? 1
      if w == 0 { continue }
      let y = Int(labels[i])
      let predicted = s >= threshold ? 1 : 0
      cells[g * 4 + 2 * y + predicted] += w  // 0 tn, 1 fp, 2 fn, 3 tp
      let wd = Double(w)
      let e = s - Double(y)
      sq[g] += wd * e * e
      if !inRange { continue }
      let b = min(Int(s * B), eceBins - 1)
      binN[g * eceBins + b] += wd; binS[g * eceBins + b] += wd * s; binY[g * eceBins + b] += wd * Double(y)
    }
    counts = (0..<groupCount).map {
      ConfusionCounts(tp: cells[$0 * 4 + 3], fp: cells[$0 * 4 + 1], tn: cells[$0 * 4], fn: cells[$0 * 4 + 2])
    }
    squaredError = sq
    bins = (0..<groupCount).map { g in
      (0..<eceBins).map { b in (binN[g * eceBins + b], binS[g * eceBins + b], binY[g * eceBins + b]) }
    }
    self.probabilities = probabilities
  }

  /// Counts summed over all groups.
  public var overallCounts: ConfusionCounts { counts.reduce(ConfusionCounts(), +) }

  /// Brier score of group `g` (nil = all groups).
  public func brier(_ g: Int?) -> Metric {
    guard probabilities else { return Metric(undefined: "scores are not probabilities in [0, 1]") }
    let n = g.map { Double(counts[$0].n) } ?? Double(overallCounts.n)
    let s = g.map { squaredError[$0] } ?? squaredError.reduce(0, +)
    return .ratio(s, n, "empty group")
  }

  /// Expected calibration error of group `g` (nil = all): Σ_b (n_b/n)·|mean score_b − mean label_b|.
  public func ece(_ g: Int?) -> Metric {
    guard probabilities else { return Metric(undefined: "scores are not probabilities in [0, 1]") }
    let b = reliability(g)
    let n = b.reduce(0) { $0 + $1.n }
    guard n > 0 else { return Metric(undefined: "empty group") }
    return Metric(b.reduce(0) { $0 + abs($1.score - $1.label) } / n)
  }

  /// Per-bin sums for group `g` (nil = all groups).
  public func reliability(_ g: Int?) -> [(n: Double, score: Double, label: Double)] {
    if let g { return bins[g] }
    guard var total = bins.first else { return [] }
    for other in bins.dropFirst() {
      for b in total.indices {
        total[b].n += other[b].n; total[b].score += other[b].score; total[b].label += other[b].label
      }
    }
    return total
  }
}
