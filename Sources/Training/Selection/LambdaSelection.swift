import Fairness
import Foundation
import Support

/// The validation predictions of a run's selected epoch, saved with its model
/// (`best/validation_predictions.json`): what ``LambdaSelection`` chooses on, and what a later
/// calibration or threshold fitted on validation needs. Scores are the full-precision values the
/// decision threshold was chosen on.
public struct ValidationPredictions: Codable, Equatable, Sendable {
  public static let fileName = ModelValidationFile.fileName
  /// The epoch (1-based) the predictions come from.
  public var epoch: Int
  public var labels: [Int]
  /// P(class 1).
  public var scores: [Double]
  /// Subgroup key of each row (for metrics only).
  public var groups: [String]
  /// The decision threshold saved with the model (P(class 1) ≥ it is positive).
  public var threshold: Double

  public init(epoch: Int, labels: [Int], scores: [Double], groups: [String], threshold: Double) {
    self.epoch = epoch; self.labels = labels; self.scores = scores; self.groups = groups; self.threshold = threshold
  }

  public func write(toDirectory dir: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    try AtomicWrite.file(try enc.encode(self), to: dir + "/" + Self.fileName)
  }

  /// The file in model folder `dir`; an error names it when it is missing or malformed.
  public static func load(modelDirectory dir: String) throws -> ValidationPredictions {
    let path = dir + "/" + fileName
    let v = try decodeJSONFile(ValidationPredictions.self, path, "validation predictions file")
    guard v.scores.count == v.labels.count, v.groups.count == v.labels.count else {
      throw TrainingError.file(
        path,
        "holds \(v.labels.count) labels, \(v.scores.count) scores and \(v.groups.count) groups: expected as many of each"
      )
    }
    return v
  }
}

/// How a method's strength λ is chosen when `--lambda` is not given (docs/METHOD.md §11): every
/// λ of the path is trained with the same data, batches and seed (λ 0 is the method without its
/// term: ERM on the same batches), and the member kept is the one with the highest validation
/// worst-group TPR, each at its own decision threshold, among those whose validation AUC is at
/// least λ 0's − δ by more than one bootstrap standard error of the paired AUC difference (the
/// burden of proof is on λ > 0: a loss within δ only by noise does not count as within). Near-ties
/// go to the smaller λ (the one-standard-error rule of model selection): the kept member is the
/// smallest eligible λ whose worst-group TPR is at most one bootstrap standard error of the paired
/// difference (validation positives resampled within each counted subgroup) below the best
/// eligible member's, or a still smaller eligible λ whose worst-group TPR is at least that high.
/// λ 0 is the smallest, so a λ > 0 is kept only when λ 0 falls more than one standard error below
/// the best. Only subgroups with at least `minPositives` validation positives count; the others
/// are listed. When no subgroup counts, or λ 0 has no validation AUC, λ 0 is kept and the reason
/// said. A member whose training diverged (λ > 0 only) is listed and left out. No test data is
/// ever read.
public enum LambdaSelection {
  /// λ 0 (the method's term off), then three orders of magnitude.
  public static let defaultPath: [Float] = [0, 0.01, 0.1, 1]
  public static let defaultDelta = 0.01
  public static let defaultMinPositives = 5
  /// Bootstrap replicates of the paired worst-group TPR difference.
  public static let replicates = 1000
  /// A larger λ is kept only when it beats a smaller eligible one by more than this many standard errors.
  public static let tieStandardErrors = 1.0
  /// The run folder's sub-folder holding one complete run per λ (`lambda/0.01/`).
  public static let membersFolder = "lambda"
  /// The selection table, as JSON and as Markdown, in the run folder.
  public static let tableFile = "selection.json", markdownFile = "selection.md"

  /// The rule in one sentence (the training log, the study tables); `delta` nil names the option.
  public static func rule(delta: Double?, minPositives: Int?) -> String {
    let d = delta.map { fmt($0) } ?? "δ (--lambda-delta, default \(fmt(defaultDelta)))"
    let n = minPositives.map(String.init) ?? "--lambda-min-positives (default \(defaultMinPositives))"
    return
      "kept: the λ with the highest validation worst-group TPR (subgroups with at least \(n) validation positives) among those whose validation AUC minus one bootstrap standard error reaches λ 0's − \(d), or the smallest λ within one bootstrap standard error of it; λ 0 is the method without its term"
  }

  /// The folder name of a member: λ as `%g` prints it (−0 as 0).
  public static func memberName(_ lambda: Float) -> String { String(format: "%g", lambda == 0 ? 0 : lambda) }

  /// One member's validation figures and what the selection made of it.
  public struct Member: Codable, Equatable, Sendable {
    public var lambda: Float
    public var epoch: Int
    public var auc: Double?
    public var threshold: Double
    public var tpr: Double?
    public var worstGroupTPR: Double?
    public var worstGroup: String?
    public var deltaTPR: Double?
    /// One bootstrap standard error of λ 0's validation AUC − this member's (validation rows
    /// resampled within each class, the same draw for both); nil for λ 0.
    public var aucStandardError: Double?
    /// Whether its AUC is at least λ 0's − δ + ``aucStandardError``.
    public var withinBudget: Bool
    /// One bootstrap standard error of (best − this) worst-group TPR, for the smaller eligible λ compared with the best.
    public var standardErrorVsBest: Double?
    public var chosen: Bool
    /// Why it was or was not chosen, in words.
    public var note: String
    /// Seconds it trained in the invocation that finished it (nil: finished earlier).
    public var seconds: Double?
  }

  /// The outcome of one selection: every member, the choice and the rule's settings.
  public struct Outcome: Codable, Equatable, Sendable {
    public var members: [Member]
    public var chosenLambda: Float
    public var delta: Double
    public var minPositives: Int
    /// λ 0's validation AUC − δ.
    public var aucBar: Double?
    /// Subgroups with enough validation positives to count, and those without (positives).
    public var countedGroups: [String]
    public var smallGroups: [String: Int]
    /// True when λ 0 was kept: the method's term did not help on validation within the budget.
    public var fellBack: Bool
    /// The choice in one sentence (log, model card, study tables).
    public var reason: String
    public var validationRows: Int
    /// Members whose training stopped on a non-finite loss or score, left out of the choice (nil: none).
    public var diverged: [Diverged]?
  }

  /// A path member whose training diverged: its λ and the trainer's error.
  public struct Diverged: Codable, Equatable, Sendable {
    public var lambda: Float
    public var error: String
    public init(lambda: Float, error: String) {
      self.lambda = lambda
      self.error = error
    }
  }

  /// Chooses among `members` (λ and validation predictions, every λ on the same rows), seeded;
  /// `diverged` members (λ > 0 whose training stopped on a non-finite value) are listed, not compared.
  public static func select(
    _ members: [(lambda: Float, predictions: ValidationPredictions)], delta: Double, minPositives: Int,
    seed: UInt64, diverged: [Diverged] = []
  ) throws -> Outcome {
    if let d = diverged.first(where: { $0.lambda == 0 }) {
      throw TrainingError.nonFinite("λ 0, the method without its term, diverged: \(d.error)")
    }
    let sorted = members.sorted { $0.lambda < $1.lambda }
    guard let base = sorted.first, base.lambda == 0 else {
      throw TrainingError.invalidConfig(["--lambda-path must include 0 (the method without its term)"])
    }
    let rows = base.predictions.labels.count
    for m in sorted
    where m.predictions.labels != base.predictions.labels || m.predictions.groups != base.predictions.groups {
      throw TrainingError.data(
        "λ \(memberName(m.lambda)): its validation rows differ from λ 0's; every member of a λ path must be validated on the same rows"
      )
    }
    // Positives per subgroup (every validation subgroup, those without positives too); the subgroups that count.
    var positives: [String: [Int]] = Dictionary(uniqueKeysWithValues: Set(base.predictions.groups).map { ($0, []) })
    for i in 0..<rows where base.predictions.labels[i] == 1 {
      positives[base.predictions.groups[i], default: []].append(i)
    }
    let counted = positives.filter { $0.value.count >= minPositives }.keys.sorted()
    let small = positives.filter { $0.value.count < minPositives }.mapValues(\.count)
    let countedRows = counted.map { positives[$0]! }

    func worst(_ p: ValidationPredictions) -> (tpr: Double, group: String, gap: Double)? {
      guard !counted.isEmpty else { return nil }
      let tprs = countedRows.map { idx in Double(idx.filter { p.scores[$0] >= p.threshold }.count) / Double(idx.count) }
      let i = tprs.indices.min { tprs[$0] < tprs[$1] }!
      return (tprs[i], counted[i], tprs.max()! - tprs[i])
    }
    var table: [Member] = []
    for m in sorted {
      let p = m.predictions
      let metrics = try EvalMetrics.compute(
        labels: p.labels, scores: p.scores, groups: p.groups, threshold: p.threshold)
      let w = worst(p)
      table.append(
        Member(
          lambda: m.lambda, epoch: p.epoch, auc: metrics.auc, threshold: p.threshold, tpr: metrics.tpr,
          worstGroupTPR: w?.tpr, worstGroup: w?.group, deltaTPR: w?.gap, aucStandardError: nil, withinBudget: false,
          standardErrorVsBest: nil, chosen: false, note: "", seconds: nil))
    }
    let bar = table[0].auc.map { $0 - delta }
    var aucRNG = SplitMix64(seed: seed, stream: 0xA0C5_E11D)
    let base0 = WeightedAUC(base.predictions)
    for i in table.indices.dropFirst() {
      guard let bar, let auc = table[i].auc else { continue }
      let se = pairedAUCStandardError(base0, WeightedAUC(sorted[i].predictions), rng: &aucRNG)
      table[i].aucStandardError = se
      table[i].withinBudget = auc - se >= bar
    }
    table[0].withinBudget = true

    var chosen = 0, bestIndex = 0
    var reason: String
    var fallback: String? = nil  // why nothing was compared
    if counted.isEmpty {
      fallback = "not compared: no subgroup has \(minPositives) validation positives"
      reason =
        "kept λ 0: no subgroup has \(minPositives) validation positives, so the worst group's TPR cannot be measured on validation"
    } else if bar == nil {
      fallback = "not compared: validation has one class"
      reason = "kept λ 0: the validation data has one class, so there is no AUC to hold the others to"
    } else {
      // The highest worst-group TPR within the budget (the smaller λ on an exact tie) ...
      let eligible = table.indices.filter { table[$0].withinBudget }
      let best = eligible.max { (table[$0].worstGroupTPR ?? -1, -$0) < (table[$1].worstGroupTPR ?? -1, -$1) }!
      chosen = best
      // ... unless a smaller eligible λ is within one standard error of it.
      var rng = SplitMix64(seed: seed, stream: 0x1A3B_DA5E)
      for i in eligible where i < best {
        let se = pairedStandardError(
          sorted[best].predictions, sorted[i].predictions, groups: countedRows, rng: &rng)
        table[i].standardErrorVsBest = se
        let lead = (table[best].worstGroupTPR ?? 0) - (table[i].worstGroupTPR ?? 0)
        if lead <= tieStandardErrors * se {
          chosen = i
          break
        }
      }
      // Paired standard errors differ from pair to pair: a smaller eligible λ as good as the one
      // kept on the worst group is kept instead.
      var equalled: Int? = nil  // the member within one standard error of the best that a smaller λ equals
      if let smaller = eligible.first(where: {
        $0 < chosen && (table[$0].worstGroupTPR ?? -1) >= (table[chosen].worstGroupTPR ?? -1)
      }) {
        equalled = chosen
        chosen = smaller
      }
      bestIndex = best
      let c = table[chosen]
      if chosen == 0 {
        let over = table.indices.filter {
          !table[$0].withinBudget && (table[$0].worstGroupTPR ?? -1) > (c.worstGroupTPR ?? -1)
        }
        reason =
          best == 0
          ? (over.isEmpty
            ? "kept λ 0: no λ > 0 raised the validation worst-group TPR"
            : "kept λ 0: the λ that raised the validation worst-group TPR (\(over.map { memberName(table[$0].lambda) }.joined(separator: ", "))) did not keep validation AUC within \(fmt(delta)) of λ 0's by more than one standard error")
          : equalled.map {
            "kept λ 0: λ \(memberName(table[$0].lambda)), within one bootstrap standard error of λ \(memberName(table[best].lambda))'s validation worst-group TPR, has none higher than λ 0's (\(fmt(c.worstGroupTPR)))"
          }
            ?? "kept λ 0: λ \(memberName(table[best].lambda))'s validation worst-group TPR lead (\(fmt((table[best].worstGroupTPR ?? 0) - (c.worstGroupTPR ?? 0)))) is within one bootstrap standard error"
      } else {
        reason = String(
          format: "chose λ %@: validation worst-group TPR %@ against λ 0's %@, AUC %@ against %@ (budget −%@)",
          memberName(c.lambda), fmt(c.worstGroupTPR), fmt(table[0].worstGroupTPR), fmt(c.auc), fmt(table[0].auc),
          fmt(delta))
      }
    }
    for i in table.indices {
      table[i].chosen = i == chosen
      table[i].note = i == chosen ? "chosen" : fallback ?? note(table, i, chosen: chosen, best: bestIndex, bar: bar)
    }
    let left = diverged.sorted { $0.lambda < $1.lambda }
    if !left.isEmpty {
      reason +=
        " (λ \(left.map { memberName($0.lambda) }.joined(separator: ", ")) diverged in training and \(left.count == 1 ? "was" : "were") left out)"
    }
    return Outcome(
      members: table, chosenLambda: table[chosen].lambda, delta: delta, minPositives: minPositives, aucBar: bar,
      countedGroups: counted, smallGroups: small, fellBack: table[chosen].lambda == 0, reason: reason,
      validationRows: rows, diverged: left.isEmpty ? nil : left)
  }

  /// One bootstrap standard error of worst-group TPR(a) − worst-group TPR(b), resampling each
  /// counted subgroup's validation positives (the same draw for both).
  static func pairedStandardError(
    _ a: ValidationPredictions, _ b: ValidationPredictions, groups: [[Int]], rng: inout SplitMix64
  ) -> Double {
    let hitsA = groups.map { $0.map { a.scores[$0] >= a.threshold } }
    let hitsB = groups.map { $0.map { b.scores[$0] >= b.threshold } }
    var diffs: [Double] = []
    diffs.reserveCapacity(replicates)
    for _ in 0..<replicates {
      var worstA = Double.infinity, worstB = Double.infinity
      for g in groups.indices {
        let n = groups[g].count
        var ha = 0, hb = 0
        for _ in 0..<n {
          let j = Int.random(in: 0..<n, using: &rng)
          if hitsA[g][j] { ha += 1 }
          if hitsB[g][j] { hb += 1 }
        }
        worstA = min(worstA, Double(ha) / Double(n))
        worstB = min(worstB, Double(hb) / Double(n))
      }
      diffs.append(worstA - worstB)
    }
    return standardDeviation(diffs)
  }

  /// One bootstrap standard error of AUC(a) − AUC(b) on the same rows, resampling positives and
  /// negatives separately (their counts fixed), the same draw for both.
  static func pairedAUCStandardError(_ a: WeightedAUC, _ b: WeightedAUC, rng: inout SplitMix64) -> Double {
    let pos = a.positives, neg = a.negatives
    var weights = [Double](repeating: 0, count: a.count)
    var diffs: [Double] = []
    diffs.reserveCapacity(replicates)
    for _ in 0..<replicates {
      for i in weights.indices { weights[i] = 0 }
      for _ in pos.indices { weights[pos[Int.random(in: 0..<pos.count, using: &rng)]] += 1 }
      for _ in neg.indices { weights[neg[Int.random(in: 0..<neg.count, using: &rng)]] += 1 }
      diffs.append(a.auc(weights) - b.auc(weights))
    }
    return standardDeviation(diffs)
  }

  /// The sample standard deviation of bootstrap replicates.
  static func standardDeviation(_ x: [Double]) -> Double {
    let mean = x.reduce(0, +) / Double(x.count)
    return (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(x.count - 1, 1))).squareRoot()
  }

  /// Why member `i` (not the chosen one) was passed over, when the members were compared.
  static func note(_ t: [Member], _ i: Int, chosen: Int, best: Int, bar: Double?) -> String {
    let m = t[i], c = t[chosen], b = t[best]
    if !m.withinBudget {
      return
        "validation AUC \(fmt(m.auc)) − one standard error (\(fmt(m.aucStandardError))) below the bar \(fmt(bar))"
    }
    func lead(_ k: Int) -> Double { (b.worstGroupTPR ?? 0) - (t[k].worstGroupTPR ?? 0) }
    if i == best {
      // The smallest λ within one standard error of the best; the kept one, or a smaller one as high.
      let within = t.indices.first { k in t[k].standardErrorVsBest.map { lead(k) <= tieStandardErrors * $0 } ?? false }
      if let w = within, w != chosen {
        return
          "highest worst-group TPR, but λ \(memberName(t[w].lambda)) is within one bootstrap standard error of it and the smaller λ \(memberName(c.lambda)) is as high as λ \(memberName(t[w].lambda))"
      }
      return
        "highest worst-group TPR, but λ \(memberName(c.lambda)) is smaller and within one bootstrap standard error of it"
    }
    let gap = lead(i)
    if let se = m.standardErrorVsBest {
      if gap > tieStandardErrors * se {
        return
          "worst-group TPR \(fmt(gap)) below λ \(memberName(b.lambda))'s, more than one standard error (\(fmt(se)))"
      }
      return
        "within one standard error (\(fmt(se))) of λ \(memberName(b.lambda))'s worst-group TPR, but the smaller λ \(memberName(c.lambda)) is at least as high"
    }
    if i > best { return "worst-group TPR not above λ \(memberName(b.lambda))'s" }
    return "a smaller λ within one standard error of λ \(memberName(b.lambda))'s worst-group TPR was kept"
  }

  static func fmt(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
}

/// The AUC of one prediction set under row weights (a bootstrap draw's multiplicities): the
/// Mann–Whitney statistic, ties counted one half, in one pass over the rows sorted once by score.
struct WeightedAUC {
  let order: [Int]
  let scores: [Double]
  let isPositive: [Bool]
  let positives: [Int], negatives: [Int]
  var count: Int { scores.count }

  init(_ p: ValidationPredictions) {
    let s = p.scores, positive = p.labels.map { $0 == 1 }
    scores = s
    isPositive = positive
    order = s.indices.sorted { s[$0] < s[$1] }
    positives = s.indices.filter { positive[$0] }
    negatives = s.indices.filter { !positive[$0] }
  }

  /// Σ w_i w_j ([s_i > s_j] + ½[s_i = s_j]) over positives i and negatives j, over Σ w_i · Σ w_j.
  func auc(_ w: [Double]) -> Double {
    var negBelow = 0.0, pairs = 0.0, posTotal = 0.0
    var k = 0
    while k < order.count {
      var end = k
      var pos = 0.0, neg = 0.0
      while end < order.count && scores[order[end]] == scores[order[k]] {
        let i = order[end]
        if isPositive[i] { pos += w[i] } else { neg += w[i] }
        end += 1
      }
      pairs += pos * (negBelow + 0.5 * neg)
      negBelow += neg
      posTotal += pos
      k = end
    }
    return posTotal > 0 && negBelow > 0 ? pairs / (posTotal * negBelow) : .nan
  }
}

extension LambdaSelection.Outcome {
  /// The selection table in Markdown (the run folder's `selection.md` and the training log).
  public var markdown: String {
    var lines = [
      "| λ | epoch | val AUC | AUC SE vs λ 0 | threshold | val TPR | worst-group TPR | worst group | ΔTPR | within AUC budget | chosen | why |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    let f = LambdaSelection.fmt
    for m in members {
      lines.append(
        "| \(LambdaSelection.memberName(m.lambda)) | \(m.epoch) | \(f(m.auc)) | \(f(m.aucStandardError)) | \(f(m.threshold)) | \(f(m.tpr)) | \(f(m.worstGroupTPR)) | \((m.worstGroup ?? "–").replacingOccurrences(of: "|", with: "\\|")) | \(f(m.deltaTPR)) | \(m.withinBudget ? "yes" : "no") | \(m.chosen ? "**yes**" : "") | \(m.note) |"
      )
    }
    for d in diverged ?? [] {
      lines.append(
        "| \(LambdaSelection.memberName(d.lambda)) | – | – | – | – | – | – | – | – | – |  | diverged, left out: \(d.error.replacingOccurrences(of: "|", with: "\\|")) |"
      )
    }
    var text = lines.joined(separator: "\n") + "\n\n" + reason + ".\n\n"
    text +=
      "Validation: \(validationRows) rows; subgroups counted (≥ \(minPositives) positives): \(countedGroups.isEmpty ? "none" : countedGroups.joined(separator: ", "))"
    if !smallGroups.isEmpty {
      text +=
        "; not counted (positives): "
        + smallGroups.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    }
    text +=
      ". AUC budget: a member's validation AUC minus one bootstrap standard error of its paired difference to λ 0's must reach λ 0's − \(LambdaSelection.fmt(delta)).\n"
    return text
  }
}
