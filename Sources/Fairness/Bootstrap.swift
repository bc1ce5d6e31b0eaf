import Foundation
import Support

/// Which metrics the bootstrap resamples (`fairmed audit --bootstrap-metrics`).
public enum BootstrapScope: String, CaseIterable, Sendable, Equatable {
  /// Every metric: the count-based ones by per-cell counts, AUC, Brier and ECE by resampling rows.
  case all
  /// The count-based metrics and their gaps only (per-cell counts; cost independent of the rows).
  case counts
  /// `all` up to ``BootstrapOptions/autoRowLimit`` audited rows, `counts` above; AUC then takes
  /// DeLong's analytic interval instead.
  case auto
}

/// Options of the percentile bootstrap. The default (1,000 stratified replicates, 95%, scope
/// `auto`) is what every audit runs unless told otherwise.
public struct BootstrapOptions: Sendable, Equatable {
  public var replicates: Int
  public var seed: UInt64
  /// Resample within each group (group sizes fixed) instead of over all rows.
  public var stratified: Bool
  /// Central coverage of the percentile interval.
  public var level: Double
  /// Which metrics are resampled.
  public var scope: BootstrapScope

  /// Above this many audited rows, scope `auto` resamples counts only: the row bootstrap costs
  /// about 11 ns per row and replicate on 2 cores (1,000 replicates of 1M rows: 12 s), the
  /// per-cell one nothing that grows with the rows.
  public static let autoRowLimit = 250_000

  public init(
    replicates: Int = 1000, seed: UInt64 = 7, stratified: Bool = true, level: Double = 0.95,
    scope: BootstrapScope = .auto
  ) {
    self.replicates = replicates; self.seed = seed; self.stratified = stratified; self.level = level;
    self.scope = scope
  }

  /// Whether AUC, Brier and ECE are bootstrapped (by resampling rows) in an audit of `rows` rows.
  public func resamplesRows(_ rows: Int) -> Bool {
    switch scope {
    case .all: return true
    case .counts: return false
    case .auto: return rows <= Self.autoRowLimit
    }
  }
}

/// Bootstrap intervals for every per-group metric, the overall metrics and every aggregate.
public struct BootstrapResult: Sendable {
  public var groups: [[MetricKey: Interval]]
  public var overall: [MetricKey: Interval]
  public var aggregates: [AggregateKey: Interval]
}

/// The bootstrap. Count-based metrics resample per-cell counts (a multinomial draw per group,
/// exactly the distribution of the confusion counts under row resampling); AUC, Brier and ECE
/// resample rows as multiplicities over the once-sorted scores, so no replicate sorts again.
/// Replicates are seeded per index, so results do not depend on thread scheduling.
public enum Bootstrap {
  public static func run(
    options: BootstrapOptions, tally: GroupTally, ranked: RankedScores,
    threshold: Double, eceBins: Int, members: [MetricKey: [Int]],
    progress: (@Sendable (Int, Int) -> Void)? = nil
  ) -> BootstrapResult {
    let G = tally.counts.count
    let R = options.replicates
    let countKeys = MetricKey.allCases.filter(\.isCountBased)
    let rowMetrics = options.resamplesRows(ranked.score.count)
    let rowKeys: [MetricKey] = rowMetrics ? [.auc, .brier, .ece] : []
    let aggCount = AggregateKey.allCases.filter(\.isCountBased)
    let aggRow = rowMetrics ? AggregateKey.allCases.filter { !$0.isCountBased } : []
    let keys = countKeys + rowKeys
    let aggs = aggCount + aggRow
    // Slots: groups × keys, overall × keys, aggregates; each slot holds its R replicates contiguously.
    let slots = (G + 1) * keys.count + aggs.count
    var buffer = [Double](repeating: .nan, count: R * slots)
    let groupPositions: [[Int32]] = {
      var p = [[Int32]](repeating: [], count: G)
      for (i, g) in ranked.group.enumerated() { p[Int(g)].append(Int32(i)) }
      return p
    }()
    let done = SharedCounter()
    buffer.withUnsafeMutableBufferPointer { out in
      guard let out = DisjointWrites(out) else { return }  // no replicates or no slots: nothing to draw
      let workers = min(R, max(1, ProcessInfo.processInfo.activeProcessorCount))
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var cells = [Int](repeating: 0, count: 4 * G)
        var weights = [Int32](repeating: 0, count: ranked.score.count)
        for r in stride(from: worker, to: R, by: workers) {
          // Count-based: per-cell multinomial.
          var rng = SeededRandom(seed: options.seed, stream: UInt64(2 * r))
          drawCells(tally.counts, stratified: options.stratified, rng: &rng, into: &cells)
          let counts = (0..<G).map {
            ConfusionCounts(tp: cells[4 * $0], fp: cells[4 * $0 + 1], tn: cells[4 * $0 + 2], fn: cells[4 * $0 + 3])
          }
          let all = counts.reduce(ConfusionCounts(), +)
          var aucs: (groups: [Double?], overall: Double?) = ([], nil)
          var rowTally: GroupTally?
          if rowMetrics {
            var rng2 = SeededRandom(seed: options.seed, stream: UInt64(2 * r + 1))
            drawRows(
              groupPositions, total: ranked.score.count, stratified: options.stratified, rng: &rng2, into: &weights)
            aucs = ranked.auc(weights: weights)
            rowTally = GroupTally(
              scores: ranked.score, labels: ranked.label, rowGroup: ranked.group, groupCount: G,
              threshold: threshold, eceBins: eceBins, weights: weights)
          }
          func value(_ k: MetricKey, _ g: Int?) -> Double? {
            switch k {
            case .auc: return g.map { aucs.groups[$0] } ?? aucs.overall
            case .brier: return rowTally?.brier(g).value
            case .ece: return rowTally?.ece(g).value
            default: return g.map { counts[$0].value(k) } ?? all.value(k)
            }
          }
          for (ki, k) in keys.enumerated() {
            for g in 0..<G { out[(g * keys.count + ki) * R + r] = value(k, g) ?? .nan }
            out[(G * keys.count + ki) * R + r] = value(k, nil) ?? .nan
          }
          for (ai, a) in aggs.enumerated() {
            let v = AggregateCalculator.compute(
              a, members: members, value: { value($0, $1) }, overall: { value($0, nil) })
            out[((G + 1) * keys.count + ai) * R + r] = v.value ?? .nan
          }
          if let progress { progress(done.increment(), R) }
        }
      }
    }
    // Percentiles per slot by selection (no full sort), slots in parallel.
    var intervals = [Interval?](repeating: nil, count: slots)
    buffer.withUnsafeMutableBufferPointer { all in
      guard let all = DisjointWrites(all) else { return }  // no replicates: every interval stays nil
      intervals.withUnsafeMutableBufferPointer { result in
        guard let result = DisjointWrites(result) else { return }
        DispatchQueue.concurrentPerform(iterations: slots) { slot in
          var values: [Double] = []
          values.reserveCapacity(R)
          for r in 0..<R where !all[slot * R + r].isNaN { values.append(all[slot * R + r]) }
          guard !values.isEmpty else { return }
          let alpha = (1 - options.level) / 2
          result[slot] = Interval(
            lower: selectPercentile(&values, alpha), upper: selectPercentile(&values, 1 - alpha),
            level: options.level, replicates: values.count, skipped: R - values.count)
        }
      }
    }
    func interval(_ slot: Int) -> Interval? { intervals[slot] }
    var groups = [[MetricKey: Interval]](repeating: [:], count: G)
    var overall: [MetricKey: Interval] = [:]
    for (ki, k) in keys.enumerated() {
      for g in 0..<G { if let iv = interval(g * keys.count + ki) { groups[g][k] = iv } }
      overall[k] = interval(G * keys.count + ki)
    }
    var aggregates: [AggregateKey: Interval] = [:]
    for (ai, a) in aggs.enumerated() { aggregates[a] = interval((G + 1) * keys.count + ai) }
    return BootstrapResult(groups: groups, overall: overall, aggregates: aggregates)
  }

  /// Percentile with linear interpolation between order statistics (NumPy's default).
  public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
    let pos = q * Double(sorted.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
  }

  /// The same percentile as `percentile(sorted(values), q)`, by quickselect (reorders `values`).
  public static func selectPercentile(_ values: inout [Double], _ q: Double) -> Double {
    let pos = q * Double(values.count - 1)
    let lo = Int(pos.rounded(.down))
    let a = select(&values, lo)
    guard lo + 1 < values.count, pos > Double(lo) else { return a }
    var b = Double.infinity
    for i in (lo + 1)..<values.count where values[i] < b { b = values[i] }  // the next order statistic
    return a + (b - a) * (pos - Double(lo))
  }

  /// Puts the k-th smallest element at index k, smaller ones before, larger ones after (Hoare quickselect).
  static func select(_ v: inout [Double], _ k: Int) -> Double {
    var lo = 0, hi = v.count - 1
    while lo < hi {
      let pivot = v[(lo + hi) / 2]
      var i = lo, j = hi
      while i <= j {
        while v[i] < pivot { i += 1 }
        while v[j] > pivot { j -= 1 }
        if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
      }
      if k <= j { hi = j } else if k >= i { lo = i } else { break }
    }
    return v[k]
  }

  /// Per-cell counts of one replicate, laid out [tp, fp, tn, fn] per group.
  static func drawCells(_ counts: [ConfusionCounts], stratified: Bool, rng: inout SeededRandom, into cells: inout [Int])
  {
    if stratified {
      var draw = [0, 0, 0, 0]
      for (g, c) in counts.enumerated() {
        let n = Double(c.n)
        guard n > 0 else { for j in 0..<4 { cells[4 * g + j] = 0 }; continue }
        rng.multinomial(c.n, [Double(c.tp) / n, Double(c.fp) / n, Double(c.tn) / n, Double(c.fn) / n], into: &draw)
        for j in 0..<4 { cells[4 * g + j] = draw[j] }
      }
    } else {
      let total = counts.reduce(0) { $0 + $1.n }
      let p = counts.flatMap { [Double($0.tp), Double($0.fp), Double($0.tn), Double($0.fn)] }.map { $0 / Double(total) }
      rng.multinomial(total, p, into: &cells)
    }
  }

  /// Row multiplicities (over sorted positions) of one replicate.
  static func drawRows(
    _ positions: [[Int32]], total: Int, stratified: Bool, rng: inout SeededRandom, into weights: inout [Int32]
  ) {
    for i in weights.indices { weights[i] = 0 }
    if stratified {
      for p in positions where !p.isEmpty {
        for _ in 0..<p.count { weights[Int(p[rng.below(p.count)])] += 1 }
      }
    } else {
      for _ in 0..<total { weights[rng.below(total)] += 1 }
    }
  }
}
