import Foundation
import Support

/// Where an audit came from, recorded in every output: FairMed's version and commit, when it ran,
/// the exact command, the predictions file (as given) with its SHA-256 and row count, and the
/// file the threshold came from (as given).
public struct AuditProvenance: Sendable, Equatable {
  /// `FairMedVersion.string`.
  public var version: String
  /// The commit of the checkout the binary lies in; nil outside a checkout.
  public var commit: String?
  /// `FairMedVersion.description`: "0.9.0 (commit 1c11476…)".
  public var versionDescription: String
  /// ISO 8601, UTC, to the second ("2025-12-05T10:59:00Z").
  public var dateUTC: String
  /// `CommandLine.arguments` as given (nil for an audit run in memory, without a command).
  public var commandLine: [String]?
  /// The predictions file as given.
  public var inputFile: String
  /// SHA-256 of the predictions file's bytes (nil for an audit of data in memory).
  public var inputSHA256: String?
  /// Data rows in the predictions file.
  public var inputRows: Int
  /// The file the threshold was read or chosen from, as given; nil for a fixed or argmax threshold
  /// or one chosen on the audited data.
  public var thresholdSource: String?

  public init(
    inputFile: String, inputRows: Int, thresholdSource: String?, commandLine: [String]? = nil,
    inputSHA256: String? = nil, date: Date = Date()
  ) {
    version = FairMedVersion.string
    commit = FairMedVersion.commit
    versionDescription = FairMedVersion.description
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(identifier: "UTC")
    f.formatOptions = [.withInternetDateTime]
    dateUTC = f.string(from: date)
    self.commandLine = commandLine
    self.inputFile = inputFile
    self.inputSHA256 = inputSHA256
    self.inputRows = inputRows
    self.thresholdSource = thresholdSource
  }
}

/// Logistic recalibration of one group (or all rows): slope and intercept of the joint fit, and
/// calibration-in-the-large (slope fixed at 1), each with its Wald interval, or the reason it is
/// undefined.
public struct SubgroupCalibration: Sendable {
  public var fit: LogisticCalibration?
  /// Why `fit` is nil (one class, separation, a constant score, …).
  public var fitReason: String?
  public var calibrationInTheLarge: WaldEstimate?
  public var calibrationInTheLargeReason: String?
}

/// ECE and Brier of one group before and after temperature scaling.
public struct TemperatureEffect: Sendable {
  public var eceBefore: Double?
  public var eceAfter: Double?
  public var brierBefore: Double?
  public var brierAfter: Double?
}

/// Temperature scaling fitted on validation predictions, and what it does to the audited groups'
/// calibration. It is monotone, so the ranking (AUC) is unchanged, and so are the decisions when
/// the threshold moves with it (t → σ(logit(t)/T)).
public struct TemperatureDiagnostic: Sendable {
  public var scaling: TemperatureScaling?
  /// The validation file T was fitted on.
  public var source: String?
  /// Why there is no diagnostic.
  public var reason: String?
  /// The audit's threshold mapped by the scaling, σ(logit(t)/T).
  public var scaledThreshold: Double?
  public var groups: [TemperatureEffect] = []
  public var overall: TemperatureEffect?
}

/// Calibration per subgroup beyond ECE and Brier.
public struct CalibrationReport: Sendable {
  public var groups: [SubgroupCalibration]
  public var overall: SubgroupCalibration
  public var temperature: TemperatureDiagnostic
}

/// One group's test against the reference group.
public struct GroupTest: Sendable {
  public var group: Int
  /// The group's value minus the reference's.
  public var difference: Double?
  public var z: Double?
  public var pValue: Double?
  /// Holm-adjusted over the tests of its family.
  public var adjustedPValue: Double?
  /// Why there is no test.
  public var reason: String?
}

/// Which differences are real: DeLong intervals of every group's AUC, tests of AUC and TPR
/// against the reference group with Holm's correction, and Holm over the MMD² pairs.
public struct SignificanceReport: Sendable {
  /// DeLong estimate per group (nil: fewer than two positives or negatives) and of all rows.
  public var auc: [AUCEstimate?]
  public var overallAUC: AUCEstimate?
  /// The group every other is tested against, and how it was chosen.
  public var reference: Int?
  public var referenceRule: String
  /// Unpaired DeLong test of AUC_g − AUC_ref, one entry per group (the reference's has a reason).
  public var aucTests: [GroupTest]
  /// Two-proportion z-test (pooled) of TPR_g − TPR_ref.
  public var tprTests: [GroupTest]
  /// Holm-adjusted MMD² permutation p-values, in `CertaintyReport.pairs` order.
  public var mmdAdjusted: [Double]
  /// Whether the MMD permutation count was chosen for the number of pairs.
  public var automaticPermutations: Bool

  public var aucTestCount: Int { aucTests.filter { $0.pValue != nil }.count }
  public var tprTestCount: Int { tprTests.filter { $0.pValue != nil }.count }
}

/// The folder of a training run that holds its kept model (`RUN/best/`): a model folder may be
/// given as the run folder, and its files are then read from there.
public enum ModelFolderLayout {
  public static let best = "best"
}

/// The validation predictions a trained model folder carries (`validation_predictions.json`,
/// written by training next to its threshold): only its `labels` and `scores` keys are read.
public enum ModelValidationFile {
  public static let fileName = "validation_predictions.json"
  /// The keys read (training writes them as ``Training/ValidationPredictions``' properties).
  public enum Key: String, CaseIterable, Sendable {
    case labels, scores
  }

  /// `dir/validation_predictions.json`, else `dir/best/validation_predictions.json`; nil when neither exists.
  public static func path(inModelDirectory dir: String) -> String? {
    [dir + "/" + fileName, dir + "/" + ModelFolderLayout.best + "/" + fileName].first {
      FileManager.default.fileExists(atPath: $0)
    }
  }

  /// Labels (0/1) and scores of the file; throws naming the file when it is not such a JSON object.
  public static func load(_ path: String) throws -> (labels: [UInt8], scores: [Double]) {
    let data = try readFile(path)
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let labels = object[Key.labels.rawValue] as? [Any], let scores = object[Key.scores.rawValue] as? [Any]
    else {
      throw AuditError.io(
        "\(path): not a JSON object with '\(Key.labels.rawValue)' and '\(Key.scores.rawValue)' arrays")
    }
    guard labels.count == scores.count, !labels.isEmpty else {
      throw AuditError.io("\(path): \(labels.count) labels and \(scores.count) scores (expected as many, at least one)")
    }
    var l: [UInt8] = [], s: [Double] = []
    l.reserveCapacity(labels.count); s.reserveCapacity(scores.count)
    for (i, (y, p)) in zip(labels, scores).enumerated() {
      guard let yn = y as? NSNumber, !isJSONBoolean(y), yn.doubleValue == 0 || yn.doubleValue == 1 else {
        throw AuditError.io("\(path): label \(i) is not 0 or 1")
      }
      guard let score = jsonDouble(p) else {
        throw AuditError.io("\(path): score \(i) is not a number")
      }
      l.append(yn.doubleValue == 1 ? 1 : 0)
      s.append(score)
    }
    return (l, s)
  }
}

/// The reviewer statistics of an audit (calibration per group, temperature diagnostic, DeLong
/// and TPR tests with Holm, Holm over MMD²).
enum ReviewerAnalysis {
  /// The rows of each group (and all rows last), in score order.
  static func partition(_ ranked: RankedScores) -> [(labels: [UInt8], scores: [Double])] {
    let G = ranked.groupCount
    var parts = [(labels: [UInt8], scores: [Double])](repeating: ([], []), count: G + 1)
    for i in ranked.score.indices {
      let g = Int(ranked.group[i])
      parts[g].labels.append(ranked.label[i]); parts[g].scores.append(ranked.score[i])
    }
    parts[G] = (ranked.label, ranked.score)
    return parts
  }

  static func message(_ error: Error) -> String {
    if case AuditError.badOption(let m) = error { return m }
    if case AuditError.io(let m) = error { return m }
    return "\(error)"
  }

  static func calibration(
    _ parts: [(labels: [UInt8], scores: [Double])], probabilities: Bool
  ) -> [SubgroupCalibration] {
    guard probabilities else {
      let why = "scores are not probabilities in [0, 1]"
      return parts.map { _ in SubgroupCalibration(fitReason: why, calibrationInTheLargeReason: why) }
    }
    return concurrentMap(parts.count) { g in
      let (labels, scores) = parts[g]
      guard !labels.isEmpty else {
        return SubgroupCalibration(fitReason: "empty group", calibrationInTheLargeReason: "empty group")
      }
      var c = SubgroupCalibration()
      do { c.fit = try Calibration.logistic(labels: labels, scores: scores) } catch {
        c.fitReason = message(error)
      }
      if let fit = c.fit {
        c.calibrationInTheLarge = fit.calibrationInTheLarge
      } else {
        do { c.calibrationInTheLarge = try Calibration.calibrationInTheLarge(labels: labels, scores: scores) } catch {
          c.calibrationInTheLargeReason = message(error)
        }
      }
      return c
    }
  }

  /// The validation (labels, scores) for temperature scaling, with its file, or why there is none.
  static func validation(
    _ threshold: ResolvedThreshold, rule: ThresholdRule, configuration: AuditConfiguration
  ) -> (data: (labels: [UInt8], scores: [Double])?, source: String?, reason: String?) {
    if threshold.chosenOnAuditedLabels {
      return (
        nil, nil,
        "the threshold was chosen on the audited labels; temperature scaling is fitted on validation rows only"
      )
    }
    switch rule {
    case .model(let dir):
      guard let path = ModelValidationFile.path(inModelDirectory: dir) else {
        return (
          nil, nil,
          "no \(ModelValidationFile.fileName) in \(dir) or \(dir)/best: the diagnostic needs the model's validation predictions"
        )
      }
      do { return (try ModelValidationFile.load(path), path, nil) } catch { return (nil, path, message(error)) }
    case .youden(let path), .sensitivity(_, .some(let path)):
      guard let load = configuration.loadValidation else { return (nil, path, "no validation loader") }
      do { return (try load(path), path, nil) } catch { return (nil, path, message(error)) }
    default:
      return (
        nil, nil,
        "the diagnostic needs validation predictions: --threshold model:RUN_DIR (its validation_predictions.json), youden:VAL.csv or sensitivity:T:VAL.csv"
      )
    }
  }

  static func temperature(
    _ input: AuditInput, grouping: Grouping, tally: GroupTally, threshold: ResolvedThreshold, rule: ThresholdRule,
    configuration: AuditConfiguration
  ) -> TemperatureDiagnostic {
    let v = validation(threshold, rule: rule, configuration: configuration)
    var d = TemperatureDiagnostic(source: v.source, reason: v.reason)
    guard let data = v.data else { return d }
    guard tally.probabilities else {
      d.reason = "the audited scores are not probabilities in [0, 1]"
      return d
    }
    do {
      let t = try TemperatureScaling.fit(labels: data.labels, scores: data.scores)
      d.scaling = t
      let scaled = try t.apply(input.scores)
      let tt = threshold.value
      let mapped = tt > 0 && tt < 1 ? LogisticFit.sigmoid(Calibration.logit(tt) / t.temperature) : tt
      d.scaledThreshold = mapped
      let after = GroupTally(
        scores: scaled, labels: input.labels, rowGroup: grouping.rowGroup, groupCount: grouping.groupCount,
        threshold: mapped, eceBins: configuration.eceBins)
      func effect(_ g: Int?) -> TemperatureEffect {
        TemperatureEffect(
          eceBefore: tally.ece(g).value, eceAfter: after.ece(g).value, brierBefore: tally.brier(g).value,
          brierAfter: after.brier(g).value)
      }
      d.groups = (0..<grouping.groupCount).map { effect($0) }
      d.overall = effect(nil)
    } catch {
      d.reason = message(error)
    }
    return d
  }

  static func significance(
    _ audit: GroupAudit, ranked: RankedScores, reference given: Int?, certainty: CertaintyReport?,
    configuration: AuditConfiguration, automaticPermutations: Bool
  ) -> SignificanceReport {
    let G = audit.groups.count
    let estimates =
      (try? DeLong.groups(labels: ranked.label, scores: ranked.score, rowGroup: ranked.group, groupCount: G))
      ?? [AUCEstimate?](repeating: nil, count: G)
    let overall = try? DeLong.auc(labels: ranked.label, scores: ranked.score)
    let tested = audit.groups.indices.filter { audit.groups[$0].isEligible || configuration.includeSmallGroups }
    var reference = given
    var rule = "the --reference group"
    if reference == nil {
      reference = tested.filter { estimates[$0] != nil }.max { estimates[$0]!.auc < estimates[$1]!.auc }
      rule = "the eligible group with the highest AUC (no --reference)"
    }
    func tests(_ test: (Int, Int) -> GroupTest) -> [GroupTest] {
      var out = audit.groups.indices.map { g -> GroupTest in
        guard let ref = reference else { return GroupTest(group: g, reason: "no reference group") }
        if g == ref { return GroupTest(group: g, reason: "reference group") }
        guard tested.contains(g) else { return GroupTest(group: g, reason: "flagged: left out of the tests") }
        return test(g, ref)
      }
      let defined = out.indices.filter { out[$0].pValue != nil }
      if let adjusted = try? MultipleTesting.holm(defined.map { out[$0].pValue! }) {
        for (i, p) in zip(defined, adjusted) { out[i].adjustedPValue = p }
      }
      return out
    }
    let aucTests = tests { g, ref in
      guard let a = estimates[g] else {
        return GroupTest(group: g, reason: "fewer than two positives or two negatives: no DeLong variance")
      }
      guard let b = estimates[ref] else {
        return GroupTest(group: g, reason: "the reference group has fewer than two positives or two negatives")
      }
      do {
        let c = try DeLong.unpaired(a, b)
        return GroupTest(group: g, difference: c.difference, z: c.z, pValue: c.pValue)
      } catch {
        return GroupTest(group: g, difference: a.auc - b.auc, reason: message(error))
      }
    }
    let tprTests = tests { g, ref in
      // A group flagged for too few positives (--min-cell-count) is not tested on TPR, as it is
      // left out of the TPR gaps: a z-test on a handful of positives is not a test.
      if !configuration.includeSmallGroups {
        if audit.groups[g].tooFewCells(for: .tpr) {
          return GroupTest(group: g, reason: "flagged few_positives: left out of the TPR tests")
        }
        if audit.groups[ref].tooFewCells(for: .tpr) {
          return GroupTest(group: g, reason: "the reference group has too few positives for a TPR test")
        }
      }
      let a = audit.groups[g].counts, b = audit.groups[ref].counts
      guard a.positives > 0, b.positives > 0 else {
        return GroupTest(group: g, reason: "no positives in the group or the reference: TPR undefined")
      }
      let p1 = Double(a.tp) / Double(a.positives), p2 = Double(b.tp) / Double(b.positives)
      let pooled = Double(a.tp + b.tp) / Double(a.positives + b.positives)
      let se = (pooled * (1 - pooled) * (1 / Double(a.positives) + 1 / Double(b.positives))).squareRoot()
      guard se > 0 else {
        return GroupTest(group: g, difference: p1 - p2, reason: "both TPRs are 0 or both are 1: no variance")
      }
      let z = (p1 - p2) / se
      return GroupTest(group: g, difference: p1 - p2, z: z, pValue: StandardNormal.twoSidedPValue(z))
    }
    let mmd = (try? MultipleTesting.holm(certainty?.pairs.map(\.pValue) ?? [])) ?? []
    return SignificanceReport(
      auc: estimates, overallAUC: overall, reference: reference, referenceRule: rule, aucTests: aucTests,
      tprTests: tprTests, mmdAdjusted: mmd, automaticPermutations: automaticPermutations)
  }
}

/// Gaps and net benefit over a grid of thresholds (0.01…0.99): TPR per group from one pass
/// (``DecisionCurve/grouped(labels:scores:rowGroup:groupCount:thresholds:)``), so ΔTPR,
/// worst-group TPR and overall TPR as curves, and the decision curves overall and per group.
public struct ThresholdCurves: Sendable {
  public var thresholds: [Double]
  /// max − min TPR over the groups that enter ΔTPR at the audit's threshold (nil: fewer than two defined).
  public var deltaTPR: [Double?]
  public var worstGroupTPR: [Double?]
  public var overallTPR: [Double?]
  public var decision: (groups: [DecisionCurve?], overall: DecisionCurve)
}

/// Net benefit at the audit's threshold t: TP/n − FP/n·t/(1 − t), against treating all.
public struct NetBenefit: Sendable {
  public var model: Double
  public var treatAll: Double

  /// Net benefit of a group (or all rows) at threshold t in (0, 1); nil otherwise or when empty.
  public static func at(_ c: ConfusionCounts, threshold t: Double) -> NetBenefit? {
    guard t > 0, t < 1, c.n > 0 else { return nil }
    let n = Double(c.n), odds = t / (1 - t), prevalence = Double(c.positives) / n
    return NetBenefit(
      model: Double(c.tp) / n - Double(c.fp) / n * odds, treatAll: prevalence - (1 - prevalence) * odds)
  }
}

extension ReviewerAnalysis {
  static func curves(_ audit: GroupAudit, ranked: RankedScores) -> ThresholdCurves? {
    guard audit.tally.probabilities,
      let d = try? DecisionCurve.grouped(
        labels: ranked.label, scores: ranked.score, rowGroup: ranked.group, groupCount: audit.groups.count)
    else { return nil }
    let members = audit.members[.tpr] ?? []
    let T = d.overall.thresholds.count
    var delta = [Double?](repeating: nil, count: T), worst = delta, overall = delta
    for k in 0..<T {
      var lo = Double.infinity, hi = -Double.infinity
      for g in members {
        guard let c = d.groups[g], c.positives > 0 else { continue }
        let tpr = Double(c.truePositives[k]) / Double(c.positives)
        lo = min(lo, tpr); hi = max(hi, tpr)
      }
      if lo <= hi {
        worst[k] = lo
        if members.count >= 2 { delta[k] = hi - lo }
      }
      if d.overall.positives > 0 { overall[k] = Double(d.overall.truePositives[k]) / Double(d.overall.positives) }
    }
    return ThresholdCurves(
      thresholds: d.overall.thresholds, deltaTPR: delta, worstGroupTPR: worst, overallTPR: overall, decision: d)
  }

}
