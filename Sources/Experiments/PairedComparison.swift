import Fairness
import Foundation
import Support
import Training

/// Is a method's gain over ERM larger than seed noise? For every method × test split ×
/// threshold, the difference to ERM (same seeds, batch size, test rows) in ΔTPR, worst-group
/// TPR and AUC, with a 95 % percentile interval from a two-level bootstrap: each replicate draws
/// the seeds with replacement, then the test rows (stratified by subgroup, the *same* rows for
/// both methods), and averages the paired differences over the drawn seeds.
public enum PairedComparison {
  /// A difference (method − ERM) and its interval.
  public struct Interval: Sendable, Equatable {
    public let estimate: Double, lower: Double, upper: Double
    /// Whether the interval contains 0 (the difference is not distinguishable from noise).
    public var containsZero: Bool { lower <= 0 && upper >= 0 }
  }

  public struct Row: Sendable {
    public let method: String, split: String, threshold: Study.ThresholdKind, batchSize: Int
    public let seeds: Int
    public let deltaTPR: Interval?, worstTPR: Interval?, auc: Interval?
  }

  /// One seed's pair of prediction sets on the same test rows.
  struct Pair {
    let labels: [UInt8], groupRows: [[Int]]
    let a: Scored, b: Scored  // baseline, method
  }

  /// Scores of one run, sorted once for the weighted AUC, and its decisions.
  struct Scored {
    let order: [Int], sortedScores: [Double], decisions: [UInt8]
    init(scores: [Double], threshold: Double) {
      order = scores.indices.sorted { scores[$0] < scores[$1] }
      sortedScores = order.map { scores[$0] }
      decisions = scores.map { $0 >= threshold ? 1 : 0 }
    }
  }

  /// Every method's rows against ERM of the baseline variant (``StudyConfig/Variant/baseline``).
  public static func compare(
    _ results: [Study.Result], config: StudyConfig, replicates: Int = 1000, seed: UInt64 = 7,
    minGroupSize: Int = 10
  ) throws -> [Row] {
    let baselineOf = Dictionary(config.variants.map { ($0.name, $0.baseline ?? $0.name) }) { a, _ in a }
    var out: [Row] = []
    let keys = Study.summarise(results).map(\.key).filter { $0.method != MethodName.erm.rawValue }
    var cache: [String: (ids: [String], labels: [UInt8], groups: [String], scores: [Double])] = [:]
    func load(_ path: String) throws -> (ids: [String], labels: [UInt8], groups: [String], scores: [Double]) {
      if let c = cache[path] { return c }
      let c = PredictionsCSV.self
      let cols = try CSVReader.read(
        URL(fileURLWithPath: path),
        columns: [(c.id, .text), (c.label, .number()), (c.score, .number()), (c.group, .text)])
      guard let id = cols.texts[c.id], let g = cols.texts[c.group], let labels = cols.numbers[c.label],
        let scores = cols.numbers[c.score]
      else {
        throw TrainingError.file(path, "needs the columns \(c.id), \(c.label), \(c.score) and \(c.group)")
      }
      let v = (
        id.codes.map { id.levels[Int($0)] }, labels.map { $0 == 1 ? UInt8(1) : 0 }, g.codes.map { g.levels[Int($0)] },
        scores
      )
      cache[path] = v
      return v
    }
    for k in keys {
      let baseVariant = k.variant.flatMap { baselineOf[$0] }
      let mine = results.filter { Study.key($0) == k }
      var pairs: [Pair] = []
      for r in mine {
        guard
          let erm = results.first(where: {
            $0.method == .erm && $0.variant == baseVariant && $0.seed == r.seed
              && $0.batchSize == r.batchSize && $0.split == r.split && $0.threshold == r.threshold
          })
        else { continue }
        let (ea, eb) = (try load(erm.predictions), try load(r.predictions))
        guard ea.ids == eb.ids, ea.labels == eb.labels else {
          throw TrainingError.data(
            "\(erm.predictions) and \(r.predictions) do not hold the same test rows in the same order")
        }
        var byGroup: [String: [Int]] = [:]
        for (i, g) in ea.groups.enumerated() { byGroup[g, default: []].append(i) }
        pairs.append(
          Pair(
            labels: ea.labels, groupRows: byGroup.keys.sorted().map { byGroup[$0]! },
            a: Scored(scores: ea.scores, threshold: erm.metrics.threshold),
            b: Scored(scores: eb.scores, threshold: r.metrics.threshold)))
      }
      guard !pairs.isEmpty else { continue }
      let name = Study.methodName(k) + Study.lambdaSuffix(method: MethodName(rawValue: k.method), lambda: k.lambda)
      let iv = intervals(pairs, replicates: replicates, seed: seed, minGroupSize: minGroupSize)
      out.append(
        Row(
          method: name, split: k.split, threshold: k.threshold, batchSize: k.batchSize, seeds: pairs.count,
          deltaTPR: iv[0], worstTPR: iv[1], auc: iv[2]))
    }
    return out
  }

  /// Estimates and intervals of (ΔTPR, worst-group TPR, AUC) differences.
  static func intervals(_ pairs: [Pair], replicates: Int, seed: UInt64, minGroupSize: Int) -> [Interval?] {
    let full = pairs.map { p in
      differences(p, weights: [Int32](repeating: 1, count: p.labels.count), minGroupSize: minGroupSize)
    }
    var rng = Xoshiro256(seed: seed)
    var draws: [[Double]] = [[], [], []]
    for _ in 0..<replicates {
      var sums = [0.0, 0.0, 0.0], counts = [0, 0, 0]
      for _ in pairs.indices {
        let p = pairs[Int(rng.next() % UInt64(pairs.count))]
        var w = [Int32](repeating: 0, count: p.labels.count)
        for rows in p.groupRows { for _ in rows.indices { w[rows[Int(rng.next() % UInt64(rows.count))]] += 1 } }
        for (m, d) in differences(p, weights: w, minGroupSize: minGroupSize).enumerated() {
          if let d { sums[m] += d; counts[m] += 1 }
        }
      }
      for m in 0..<3 where counts[m] == pairs.count { draws[m].append(sums[m] / Double(counts[m])) }
    }
    return (0..<3).map { m in
      let est = full.compactMap { $0[m] }
      guard est.count == pairs.count, draws[m].count >= replicates / 2 else { return nil }
      let sorted = draws[m].sorted()
      func q(_ p: Double) -> Double {
        sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count - 1)).rounded())))]
      }
      return Interval(estimate: est.reduce(0, +) / Double(est.count), lower: q(0.025), upper: q(0.975))
    }
  }

  /// (method − baseline) of ΔTPR, worst-group TPR and AUC on rows weighted by `weights`.
  static func differences(_ p: Pair, weights: [Int32], minGroupSize: Int) -> [Double?] {
    let a = metrics(p.a, p, weights, minGroupSize), b = metrics(p.b, p, weights, minGroupSize)
    return (0..<3).map { m in
      guard let x = a[m], let y = b[m] else { return nil }
      return y - x
    }
  }

  /// ΔTPR, worst-group TPR (over groups with ≥ `minGroupSize` rows and a positive) and AUC.
  static func metrics(_ s: Scored, _ p: Pair, _ w: [Int32], _ minGroupSize: Int) -> [Double?] {
    var tprs: [Double] = []
    for rows in p.groupRows {
      var n = 0, pos = 0, tp = 0
      for i in rows {
        let wi = Int(w[i])
        n += wi
        if p.labels[i] == 1 { pos += wi; tp += wi * Int(s.decisions[i]) }
      }
      if n >= minGroupSize && pos > 0 { tprs.append(Double(tp) / Double(pos)) }
    }
    let gap = tprs.count >= 2 ? tprs.max()! - tprs.min()! : nil
    let worst = tprs.count >= 2 ? tprs.min() : nil
    return [gap, worst, weightedAUC(s, p.labels, w)]
  }

  /// Mann–Whitney AUC with row multiplicities (ties count one half).
  static func weightedAUC(_ s: Scored, _ labels: [UInt8], _ w: [Int32]) -> Double? {
    var negBelow = 0.0, num = 0.0, pos = 0.0, neg = 0.0
    var i = 0
    let n = s.order.count
    while i < n {
      var j = i, bp = 0.0, bn = 0.0
      while j < n && s.sortedScores[j] == s.sortedScores[i] {
        let r = s.order[j]
        if labels[r] == 1 { bp += Double(w[r]) } else { bn += Double(w[r]) }
        j += 1
      }
      num += bp * (negBelow + 0.5 * bn)
      negBelow += bn; pos += bp; neg += bn
      i = j
    }
    return pos > 0 && neg > 0 ? num / (pos * neg) : nil
  }

  /// `comparisons.csv`: one row per method, split and threshold.
  public static func csv(_ rows: [Row]) -> String {
    var lines = ["method,split,threshold,seeds,metric,difference,lower,upper,contains_zero"]
    for r in rows {
      for (name, iv) in [("delta_tpr", r.deltaTPR), ("worst_group_tpr", r.worstTPR), ("auc", r.auc)] {
        let v =
          iv.map {
            [
              String(format: "%.4f", $0.estimate), String(format: "%.4f", $0.lower), String(format: "%.4f", $0.upper),
              $0.containsZero ? "1" : "0",
            ]
          } ?? ["", "", "", ""]
        lines.append(
          ([r.method, r.split, r.threshold.rawValue, String(r.seeds), name] + v).map(csvField).joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The table: each difference with its interval, and whether it is distinguishable from 0.
  public static func markdown(_ rows: [Row]) -> String {
    guard !rows.isEmpty else { return "" }
    func cell(_ iv: Interval?) -> String {
      guard let iv else { return "–" }
      return String(
        format: "%+.3f [%+.3f, %+.3f]%@", iv.estimate, iv.lower, iv.upper, iv.containsZero ? " (contains 0)" : "")
    }
    var lines = [
      "| method | test set | threshold | seeds | ΔTPR − ERM | worst-group TPR − ERM | AUC − ERM |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows {
      lines.append(
        "| \(r.method) | \(r.split) | \(Study.thresholdName(r.threshold)) | \(r.seeds) | \(cell(r.deltaTPR)) | \(cell(r.worstTPR)) | \(cell(r.auc)) |"
      )
    }
    return lines.joined(separator: "\n")
      + "\n\nPaired differences to ERM with the same seeds, batch size and test rows: mean over seeds, and a 95 % interval from a two-level bootstrap (seeds drawn with replacement, then test rows stratified by subgroup, the same rows for both methods; 1,000 replicates). \"contains 0\": the difference is not distinguishable from seed and test-set noise.\n"
  }
}
