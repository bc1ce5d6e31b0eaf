import Foundation
import Support
import TestSupport
import Testing
@testable import Fairness

/// The reviewer statistics wired into the audit (issue 25): SHA-256 for provenance, calibration
/// per group, the temperature diagnostic, DeLong and TPR tests with Holm, Holm over MMD², the
/// optimistic-threshold flag, and the permutation count chosen for the number of pairs.
@Suite struct ReviewerAuditTests {
  // MARK: SHA-256

  /// FIPS 180-4 / NIST CSRC examples.
  @Test func sha256KnownVectors() throws {
    #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex(
        Data(
          "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
            .utf8)) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    // Fed in uneven pieces: the same digest.
    var h = SHA256Hasher()
    var offset = 0
    for size in [1, 63, 64, 65, 0, 127, 999_680] {
      h.update(million[offset..<(offset + size)])
      offset += size
    }
    #expect(offset == million.count)
    #expect(SHA256.hexString(h.finalize()) == SHA256.hex(million))
    // A file, and a missing one (an error naming it, no trap).
    let dir = freshDirectory("sha")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Data("abc".utf8).write(to: URL(fileURLWithPath: dir + "/f.txt"))
    #expect(try SHA256.hex(file: dir + "/f.txt") == SHA256.hex(Data("abc".utf8)))
    #expect(throws: FileReadError.self) { try SHA256.hex(file: dir + "/missing.txt") }
  }

  // MARK: The audit

  static func audit(
    threshold: ThresholdRule = .argmax, validation: (labels: [UInt8], scores: [Double])? = nil,
    reference: String? = nil, permutations: Int? = 30
  ) throws -> (AuditResult, Synthetic) {
    var d = Synthetic(n: 900, seed: 33)
    for i in [3, 50, 97] { d.age[i] = ">=90" }
    let input = try d.input()
    var c = AuditConfiguration()
    c.threshold = threshold
    c.referenceGroup = reference
    if let permutations { c.certainty.permutations = permutations } else { c.automaticPermutations = true }
    if let validation { c.loadValidation = { _ in validation } }
    return (try Audit.run(input, configuration: c), d)
  }

  /// Labels and scores of the rows of group `g`.
  static func rows(_ r: AuditResult, _ d: Synthetic, group g: Int) throws -> (labels: [UInt8], scores: [Double]) {
    let input = try d.input()
    let idx = input.grouping.rowGroup.indices.filter { input.grouping.rowGroup[$0] == Int32(g) }
    return (idx.map { d.labels[$0] }, idx.map { d.scores[$0] })
  }

  @Test func calibrationPerGroupIsTheLogisticFitOfItsRows() throws {
    let (r, d) = try Self.audit()
    let c = try #require(r.calibration)
    #expect(c.groups.count == r.intersectional.groups.count)
    for (g, x) in c.groups.enumerated() {
      let rows = try Self.rows(r, d, group: g)
      let positives = rows.labels.filter { $0 == 1 }.count
      if positives == 0 || positives == rows.labels.count {
        #expect(x.fit == nil && x.fitReason != nil && x.calibrationInTheLargeReason != nil)
        continue
      }
      if let expected = try? Calibration.logistic(labels: rows.labels, scores: rows.scores) {
        let fit = try #require(x.fit)
        #expect(abs(fit.slope.estimate - expected.slope.estimate) < 1e-9)
        #expect(abs(fit.intercept.interval.upper - expected.intercept.interval.upper) < 1e-9)
        #expect(abs(x.calibrationInTheLarge!.estimate - expected.calibrationInTheLarge.estimate) < 1e-9)
      } else {
        #expect(x.fit == nil && x.fitReason != nil)
        #expect(x.calibrationInTheLarge != nil || x.calibrationInTheLargeReason != nil)
      }
    }
    let all = try Calibration.logistic(labels: d.labels, scores: d.scores)
    #expect(abs(c.overall.fit!.slope.estimate - all.slope.estimate) < 1e-9)
    // No validation file: the diagnostic says it needs one.
    #expect(c.temperature.scaling == nil)
    #expect(c.temperature.reason?.contains("needs validation predictions") == true)
  }

  @Test func temperatureDiagnosticFitsOnValidationAndRescoresEveryGroup() throws {
    let v = Synthetic(n: 700, seed: 91)
    // Over-confident validation scores: T > 1.
    let sharp = v.scores.map { p in 1 / (1 + exp(-2 * Calibration.logit(p))) }
    let (r, d) = try Self.audit(threshold: .youden(validation: "val.csv"), validation: (v.labels, sharp))
    let t = try #require(r.calibration?.temperature)
    let expected = try TemperatureScaling.fit(labels: v.labels, scores: sharp)
    #expect(abs(try #require(t.scaling).temperature - expected.temperature) < 1e-12)
    #expect(t.source == "val.csv")
    let scaled = try expected.apply(d.scores)
    let ece = try Calibration.ece(labels: d.labels, scores: scaled, binning: .equalWidth(bins: 15))
    #expect(abs(try #require(t.overall?.eceAfter) - ece) < 1e-12)
    let brier = try Calibration.brier(labels: d.labels, scores: scaled)
    #expect(abs(try #require(t.overall?.brierAfter) - brier) < 1e-12)
    #expect(t.groups.count == r.intersectional.groups.count)
    #expect(t.overall?.eceBefore == r.intersectional.overall[.ece])
  }

  @Test func temperatureFromAModelFolderReadsItsValidationPredictions() throws {
    let dir = freshDirectory("model")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.createDirectory(atPath: dir + "/best", withIntermediateDirectories: true)
    try Data(#"{"policy":"youden","value":0.4,"validationRows":6}"#.utf8).write(
      to: URL(fileURLWithPath: dir + "/best/decision_threshold.json"))
    try Data(
      #"{"epoch":1,"labels":[0,1,0,1,1,0],"scores":[0.2,0.9,0.6,0.3,0.7,0.1],"groups":["a","a","a","b","b","b"],"threshold":0.4}"#
        .utf8
    ).write(to: URL(fileURLWithPath: dir + "/best/validation_predictions.json"))
    let (r, _) = try Self.audit(threshold: .model(directory: dir))
    let t = try #require(r.calibration?.temperature)
    let expected = try TemperatureScaling.fit(labels: [0, 1, 0, 1, 1, 0], scores: [0.2, 0.9, 0.6, 0.3, 0.7, 0.1])
    #expect(abs(try #require(t.scaling).temperature - expected.temperature) < 1e-12)
    #expect(t.source == dir + "/best/validation_predictions.json")
    #expect(r.provenance?.thresholdSource == dir + "/best/decision_threshold.json")
    // A malformed file: a reason, not a failed audit.
    try Data("[1,2]".utf8).write(to: URL(fileURLWithPath: dir + "/best/validation_predictions.json"))
    let (bad, _) = try Self.audit(threshold: .model(directory: dir))
    #expect(bad.calibration?.temperature.scaling == nil)
    #expect(bad.calibration?.temperature.reason?.contains("labels") == true)
  }

  @Test func deLongAndTPRTestsAgainstTheReferenceWithHolm() throws {
    let (r, d) = try Self.audit()
    let s = try #require(r.significance)
    let a = r.intersectional
    // Per-group DeLong equals DeLong on the group's rows.
    for g in a.groups.indices {
      let rows = try Self.rows(r, d, group: g)
      let expected = try? DeLong.auc(labels: rows.labels, scores: rows.scores)
      #expect((s.auc[g] == nil) == (expected == nil))
      if let e = expected, let got = s.auc[g] {
        #expect(abs(e.auc - got.auc) < 1e-12 && abs(e.variance - got.variance) < 1e-12)
        #expect(abs(got.auc - a.groups[g][.auc]!) < 1e-12)
      }
    }
    // The reference: the eligible group with the highest AUC.
    let ref = try #require(s.reference)
    let eligible = a.groups.indices.filter { a.groups[$0].isEligible && s.auc[$0] != nil }
    #expect(eligible.allSatisfy { s.auc[$0]!.auc <= s.auc[ref]!.auc })
    #expect(s.aucTests[ref].reason == "reference group")
    // Unpaired DeLong p-values, then Holm over the defined ones.
    var raw: [Double] = []
    for g in a.groups.indices where s.aucTests[g].pValue != nil {
      let c = try DeLong.unpaired(s.auc[g]!, s.auc[ref]!)
      #expect(abs(c.pValue - s.aucTests[g].pValue!) < 1e-15)
      raw.append(c.pValue)
    }
    #expect(s.aucTestCount == raw.count && raw.count >= 3)
    let holm = try MultipleTesting.holm(raw)
    #expect(zip(holm, s.aucTests.compactMap(\.adjustedPValue)).allSatisfy { abs($0 - $1) < 1e-15 })
    // Flagged groups are not tested.
    for g in a.groups.indices where !a.groups[g].isEligible {
      #expect(s.aucTests[g].pValue == nil && s.tprTests[g].reason?.contains("flagged") == true)
    }
    // TPR: the pooled two-proportion z-test.
    for g in a.groups.indices where s.tprTests[g].pValue != nil {
      let x = a.groups[g].counts, y = a.groups[ref].counts
      let p1 = Double(x.tp) / Double(x.positives), p2 = Double(y.tp) / Double(y.positives)
      let p = Double(x.tp + y.tp) / Double(x.positives + y.positives)
      let z = (p1 - p2) / (p * (1 - p) * (1 / Double(x.positives) + 1 / Double(y.positives))).squareRoot()
      #expect(abs(s.tprTests[g].z! - z) < 1e-12)
      #expect(abs(s.tprTests[g].pValue! - erfc(abs(z) / 2.0.squareRoot())) < 1e-15)
    }
    // A named reference is used as given.
    let (named, _) = try Self.audit(reference: "male|40-59")
    #expect(named.significance?.reference == named.intersectional.groups.firstIndex { $0.name == "male|40-59" })
  }

  @Test func mmdPValuesAreHolmAdjustedAndPermutationsFitThePairs() throws {
    let d = Synthetic(n: 600, seed: 5)
    var input = try d.input()
    input.margins = d.margins
    var c = AuditConfiguration()
    c.automaticPermutations = true
    c.certainty.maxPerGroup = 40
    let r = try Audit.run(input, configuration: c)
    let cert = try #require(r.certainty)
    let pairs = cert.pairs.count
    #expect(pairs == 15)
    #expect(cert.options.permutations == (try MultipleTesting.permutationsNeeded(tests: pairs, alpha: 0.05)))
    #expect(r.configuration.certainty.permutations == cert.options.permutations)
    let holm = try MultipleTesting.holm(cert.pairs.map(\.pValue))
    #expect(r.significance?.mmdAdjusted == holm)
    #expect(r.significance?.automaticPermutations == true)
  }

  @Test func aThresholdChosenOnTheAuditedLabelsIsFlagged() throws {
    let (plain, _) = try Self.audit()
    #expect(!plain.threshold.chosenOnAuditedLabels)
    let (sens, _) = try Self.audit(threshold: .sensitivity(0.9, validation: nil))
    #expect(sens.threshold.chosenOnAuditedLabels)
    #expect(sens.warnings.contains { $0.contains(ResolvedThreshold.optimisticNote) })
    #expect(sens.calibration?.temperature.reason?.contains("audited labels") == true)
    // youden: pointing at the audited file itself.
    let d = Synthetic(n: 300, seed: 8)
    let labels = d.labels, scores = d.scores
    var input = try d.input()
    input.source = "preds/./same.csv"
    var c = AuditConfiguration()
    c.threshold = .youden(validation: "preds/same.csv")
    c.loadValidation = { _ in (labels, scores) }
    let r = try Audit.run(input, configuration: c)
    #expect(r.threshold.chosenOnAuditedLabels && r.threshold.sourceFile == "preds/same.csv")
    #expect(r.provenance?.thresholdSource == "preds/same.csv")
    #expect(r.provenance?.inputRows == 300 && r.provenance?.version == FairMedVersion.string)
  }

  @Test func thresholdCurvesAgreeWithAuditsAtThoseThresholds() throws {
    let (r, d) = try Self.audit()
    let c = try #require(r.curves)
    #expect(c.thresholds == DecisionCurve.defaultThresholds)
    for k in [9, 29, 49, 79] {
      let t = c.thresholds[k]
      let (fixed, _) = try Self.audit(threshold: .fixed(t))
      let gap = fixed.intersectional.aggregates[.deltaTPR]!.value
      #expect(c.deltaTPR[k] == gap, "ΔTPR at \(t)")
      #expect(c.worstGroupTPR[k] == fixed.intersectional.aggregates[.worstGroupTPR]!.value)
      #expect(c.overallTPR[k] == fixed.intersectional.overall[.tpr])
      let nb = try #require(NetBenefit.at(fixed.intersectional.overall.counts, threshold: t))
      let curve = try DecisionCurve.compute(labels: d.labels, scores: d.scores)
      #expect(abs(nb.model - curve.model[k]) < 1e-15 && abs(nb.treatAll - curve.treatAll[k]) < 1e-15)
    }
    #expect(NetBenefit.at(r.intersectional.overall.counts, threshold: 1) == nil)
  }

  @Test func minCellCountFlagsByWhatDecidesEachGap() throws {
    let d = Synthetic(n: 900, seed: 33)
    var labels = d.labels
    // One group keeps only three positives.
    let input0 = try d.input()
    let target = Int32(0)
    var kept = 0
    for i in labels.indices where input0.grouping.rowGroup[i] == target && labels[i] == 1 {
      kept += 1
      if kept > 3 { labels[i] = 0 }
    }
    var input = input0
    input.labels = labels
    var c = AuditConfiguration()
    #expect(c.minCellCount == 5)  // on by default
    c.minCellCount = nil
    let off = try Audit.run(input, configuration: c)
    c.minCellCount = 5
    let on = try Audit.run(input, configuration: c)
    let g = Int(target)
    #expect(off.intersectional.groups[g].flags.isEmpty)
    #expect(on.intersectional.groups[g].flags == ["few_positives"])
    #expect(on.intersectional.members[.tpr]?.contains(g) == false)
    #expect(on.intersectional.members[.fpr]?.contains(g) == true)
    #expect(off.intersectional.members[.tpr]?.contains(g) == true)
    // ΔTPR without the group; ΔFPR unchanged.
    let others = (on.intersectional.members[.tpr] ?? []).map { on.intersectional.groups[$0][.tpr]! }
    #expect(on.intersectional.aggregates[.deltaTPR]?.value == others.max()! - others.min()!)
    #expect(on.intersectional.aggregates[.deltaFPR]?.value == off.intersectional.aggregates[.deltaFPR]?.value)
    #expect(on.warnings.contains { $0.contains("few_positives and left out of the TPR gaps") })
    c.minCellCount = 0
    #expect(throws: AuditError.self) { try Audit.run(input, configuration: c) }
  }
}
