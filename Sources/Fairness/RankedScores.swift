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
    let G = groupCount
    var numerator = [Double](repeating: 0, count: G)
    var negBelow = [Double](repeating: 0, count: G)
    var posBlock = [Double](repeating: 0, count: G)
    var negBlock = [Double](repeating: 0, count: G)
    var touched = [Int](); touched.reserveCapacity(G)
    var isTouched = [Bool](repeating: false, count: G)
    var allNumerator = 0.0, allNegBelow = 0.0
    let n = score.count
    var i = 0
    score.withUnsafeBufferPointer { s in
      group.withUnsafeBufferPointer { g in
        label.withUnsafeBufferPointer { y in
          while i < n {
            var j = i
            var blockPos = 0.0, blockNeg = 0.0
            let v = s[i]
            while j < n && s[j] == v {
              let w = weights.map { Double($0[j]) } ?? 1
              if w != 0 {
                let k = Int(g[j])
                if !isTouched[k] { isTouched[k] = true; touched.append(k) }
                if y[j] != 0 { posBlock[k] += w; blockPos += w } else { negBlock[k] += w; blockNeg += w }
              }
              j += 1
            }
            for k in touched {
              numerator[k] += posBlock[k] * (negBelow[k] + 0.5 * negBlock[k])
              negBelow[k] += negBlock[k]
              posBlock[k] = 0; negBlock[k] = 0; isTouched[k] = false
            }
            touched.removeAll(keepingCapacity: true)
            allNumerator += blockPos * (allNegBelow + 0.5 * blockNeg)
            allNegBelow += blockNeg
            i = j
          }
        }
      }
    }
    // Positives per group: total weight of positive rows.
    var positives = [Double](repeating: 0, count: G)
    for j in 0..<n where label[j] != 0 { positives[Int(group[j])] += weights.map { Double($0[j]) } ?? 1 }
    let allPositives = positives.reduce(0, +)
    var out = [Double?](repeating: nil, count: G)
    for k in 0..<G where positives[k] > 0 && negBelow[k] > 0 { out[k] = numerator[k] / (positives[k] * negBelow[k]) }
    let overall = allPositives > 0 && allNegBelow > 0 ? allNumerator / (allPositives * allNegBelow) : nil
    return (out, overall)
  }

  /// The ROC curve of one group (nil = all rows) as (FPR, TPR) points from the highest threshold
  /// down, thinned to at most `maxPoints` points; empty if the group lacks a class.
  public func roc(group target: Int?, maxPoints: Int = 200) -> [(fpr: Double, tpr: Double)] {
    var P = 0.0, N = 0.0
    for j in score.indices where target == nil || Int(group[j]) == target! {
      if label[j] != 0 { P += 1 } else { N += 1 }
    }
    guard P > 0, N > 0 else { return [] }
    var points: [(Double, Double)] = [(0, 0)]
    var tp = 0.0, fp = 0.0
    var j = score.count - 1
    while j >= 0 {
      let v = score[j]
      var changed = false
      while j >= 0 && score[j] == v {
        if target == nil || Int(group[j]) == target! {
          if label[j] != 0 { tp += 1 } else { fp += 1 }
          changed = true
        }
        j -= 1
      }
      if changed { points.append((fp / N, tp / P)) }
    }
    guard points.count > maxPoints else { return points.map { (fpr: $0.0, tpr: $0.1) } }
    let step = Double(points.count - 1) / Double(maxPoints - 1)
    return (0..<maxPoints).map { k in
      let p = points[min(points.count - 1, Int((Double(k) * step).rounded()))]
      return (fpr: p.0, tpr: p.1)
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

/// LSD radix sort of 64-bit keys carrying a 32-bit payload (16-bit digits, constant digits skipped).
enum RadixSort {
  static func sort(keys: inout [UInt64], payload: inout [UInt32]) {
    let n = keys.count
    guard n > 1 else { return }
    if n < 256 {
      let order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
      keys = order.map { keys[$0] }; payload = order.map { payload[$0] }
      return
    }
    var keys2 = [UInt64](repeating: 0, count: n)
    var payload2 = [UInt32](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift in stride(from: 0, to: 64, by: 16) {
      for i in counts.indices { counts[i] = 0 }
      keys.withUnsafeBufferPointer { k in
        for x in k { counts[Int((x >> UInt64(shift)) & 0xFFFF)] += 1 }
      }
      if counts.contains(n) { continue }  // every key has the same digit here
      var total = 0
      for i in counts.indices { let c = counts[i]; counts[i] = total; total += c }
      keys.withUnsafeBufferPointer { k in
        payload.withUnsafeBufferPointer { p in
          keys2.withUnsafeMutableBufferPointer { k2 in
            payload2.withUnsafeMutableBufferPointer { p2 in
              for i in 0..<n {
                let d = Int((k[i] >> UInt64(shift)) & 0xFFFF)
                let at = counts[d]
                counts[d] = at + 1
                k2[at] = k[i]; p2[at] = p[i]
              }
            }
          }
        }
      }
      swap(&keys, &keys2); swap(&payload, &payload2)
    }
  }
}
