/// Rows sorted by score once (LSD radix sort, O(n)), shared by AUC, ROC curves, threshold search
/// and the row bootstrap.
public struct RankedScores: Sendable {
  /// Scores in ascending order, with the group and label of each.
  public let score: [Double]
  public let group: [Int32]
  public let label: [UInt8]
  public let groupCount: Int

  /// Sorts the rows with `rowGroup >= 0`.
  public init(scores: [Double], labels: [UInt8], rowGroup: [Int32], groupCount: Int) {
    var keys: [UInt64] = []
    var rows: [UInt32] = []
    keys.reserveCapacity(scores.count); rows.reserveCapacity(scores.count)
    for i in scores.indices where rowGroup[i] >= 0 {
      keys.append(RankedScores.orderedBits(scores[i]))
      rows.append(UInt32(i))
    }
    RadixSort.sort(keys: &keys, payload: &rows)
    score = keys.map(RankedScores.value)
    keys = []
    group = rows.map { rowGroup[Int($0)] }
    label = rows.map { labels[Int($0)] }
    self.groupCount = groupCount
  }

  private init(score: [Double], group: [Int32], label: [UInt8], groupCount: Int) {
    self.score = score; self.group = group; self.label = label; self.groupCount = groupCount
  }

  /// The same sorted rows under a coarser grouping (`map[g]` = new group of group g), without
  /// sorting again; scores and labels are shared.
  public func regrouped(_ map: [Int32], groupCount: Int) -> RankedScores {
    RankedScores(score: score, group: group.map { map[Int($0)] }, label: label, groupCount: groupCount)
  }

  /// Maps a Double to a UInt64 with the same order (-0 and +0 equal).
  @inline(__always)
  static func orderedBits(_ x: Double) -> UInt64 {
    let bits = (x + 0.0).bitPattern
    return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
  }

  /// Inverse of `orderedBits`.
  @inline(__always)
  static func value(_ key: UInt64) -> Double {
    Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
  }

  /// Exact Mann–Whitney AUC (ties count one half) per group and overall, in one O(n) walk.
  /// `weights` (row multiplicities in sorted order) supports the bootstrap; nil = all ones.
  /// A group without both classes gets nil.
  public func auc(weights: [Int32]? = nil) -> (groups: [Double?], overall: Double?) {
    if let weights { return weights.withUnsafeBufferPointer { aucWalk($0) } }
    return aucWalk(nil)
  }

  private func aucWalk(_ weights: UnsafeBufferPointer<Int32>?) -> (groups: [Double?], overall: Double?) {
    let G = groupCount
    // Scratch per group: numerator, negatives below, positives, block positives, block negatives.
    let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5 * G)
    scratch.initialize(repeating: 0)
    defer { scratch.deallocate() }
    let numerator = scratch.baseAddress!, negBelow = numerator + G, positives = numerator + 2 * G
    let posBlock = numerator + 3 * G, negBlock = numerator + 4 * G
    let touched = UnsafeMutableBufferPointer<Int>.allocate(capacity: G)
    defer { touched.deallocate() }
    var touchedCount = 0
    var allNumerator = 0.0, allNegBelow = 0.0, allPositives = 0.0
    let n = score.count
    score.withUnsafeBufferPointer { s in
      group.withUnsafeBufferPointer { g in
        label.withUnsafeBufferPointer { y in
          var i = 0
          while i < n {
            let v = s[i]
            if i + 1 == n || s[i + 1] != v {  // a block of one row: no tie to split
              let w = weights.map { Double($0[i]) } ?? 1
              if w != 0 {
                let k = Int(g[i])
                if y[i] != 0 {
                  numerator[k] += w * negBelow[k]; positives[k] += w
                  allNumerator += w * allNegBelow; allPositives += w
                } else {
                  negBelow[k] += w; allNegBelow += w
                }
              }
              i += 1
              continue
            }
            var j = i
            var blockPos = 0.0, blockNeg = 0.0
            while j < n && s[j] == v {
              let w = weights.map { Double($0[j]) } ?? 1
              if w != 0 {
                let k = Int(g[j])
                if posBlock[k] == 0 && negBlock[k] == 0 { touched[touchedCount] = k; touchedCount += 1 }
                if y[j] != 0 { posBlock[k] += w; blockPos += w } else { negBlock[k] += w; blockNeg += w }
              }
              j += 1
            }
            for t in 0..<touchedCount {
              let k = touched[t]
              numerator[k] += posBlock[k] * (negBelow[k] + 0.5 * negBlock[k])
              negBelow[k] += negBlock[k]
              positives[k] += posBlock[k]
              posBlock[k] = 0; negBlock[k] = 0
            }
            touchedCount = 0
            allNumerator += blockPos * (allNegBelow + 0.5 * blockNeg)
            allNegBelow += blockNeg
            allPositives += blockPos
            i = j
          }
        }
      }
    }
    var out = [Double?](repeating: nil, count: G)
    for k in 0..<G where positives[k] > 0 && negBelow[k] > 0 { out[k] = numerator[k] / (positives[k] * negBelow[k]) }
    let overall = allPositives > 0 && allNegBelow > 0 ? allNumerator / (allPositives * allNegBelow) : nil
    return (out, overall)
  }

  /// ROC curves of every group and, last, of all rows, as (FPR, TPR) points from the highest
  /// threshold down, in one pass, for plotting: a point is kept at a distinct-score boundary once
  /// the group has advanced by 1/(2·maxPoints) of its rows (and at the end), then thinned to at
  /// most `maxPoints`; empty for a group that lacks a class.
  public func rocCurves(maxPoints: Int = 200) -> [[(fpr: Double, tpr: Double)]] {
    let G = groupCount
    var P = [Double](repeating: 0, count: G + 1), N = P
    for j in score.indices {
      let g = Int(group[j])
      if label[j] != 0 { P[g] += 1; P[G] += 1 } else { N[g] += 1; N[G] += 1 }
    }
    var tp = [Double](repeating: 0, count: G + 1), fp = tp
    var points = [[(Double, Double)]](repeating: [(0, 0)], count: G + 1)
    var last = [Double](repeating: 0, count: G + 1)
    var touched: [Int] = []
    var isTouched = [Bool](repeating: false, count: G)
    var j = score.count - 1
    while j >= 0 {
      let v = score[j]
      while j >= 0 && score[j] == v {
        let g = Int(group[j])
        if label[j] != 0 { tp[g] += 1; tp[G] += 1 } else { fp[g] += 1; fp[G] += 1 }
        if !isTouched[g] { isTouched[g] = true; touched.append(g) }
        j -= 1
      }
      touched.append(G)
      for g in touched {
        if g < G { isTouched[g] = false }
        // Keep a point when the group has advanced by a 1/(2·maxPoints) share of its rows, and at the end.
        let seen = tp[g] + fp[g], n = P[g] + N[g]
        if P[g] > 0 && N[g] > 0 && (seen >= last[g] + n / Double(2 * maxPoints) || seen == n) {
          points[g].append((fp[g] / N[g], tp[g] / P[g]))
          last[g] = seen
        }
      }
      touched.removeAll(keepingCapacity: true)
    }
    return (0...G).map { g in
      guard P[g] > 0, N[g] > 0 else { return [] }
      let p = points[g]
      guard p.count > maxPoints else { return p.map { (fpr: $0.0, tpr: $0.1) } }
      let step = Double(p.count - 1) / Double(maxPoints - 1)
      return (0..<maxPoints).map { k in
        let q = p[min(p.count - 1, Int((Double(k) * step).rounded()))]
        return (fpr: q.0, tpr: q.1)
      }
    }
  }

  /// (threshold, TPR, FPR) at every distinct score, from the highest down; predicted positive iff score ≥ threshold.
  public func operatingPoints() -> [(threshold: Double, tpr: Double, fpr: Double)] {
    var P = 0.0, N = 0.0
    for y in label { if y != 0 { P += 1 } else { N += 1 } }
    var out: [(Double, Double, Double)] = []
    var tp = 0.0, fp = 0.0
    var j = score.count - 1
    while j >= 0 {
      let v = score[j]
      while j >= 0 && score[j] == v {
        if label[j] != 0 { tp += 1 } else { fp += 1 }
        j -= 1
      }
      out.append((v, P > 0 ? tp / P : 0, N > 0 ? fp / N : 0))
    }
    return out.map { (threshold: $0.0, tpr: $0.1, fpr: $0.2) }
  }
}
