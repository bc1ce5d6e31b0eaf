import Fairness
import Foundation
import Testing
@testable import Training

/// The decision threshold training saves, the mode-aware learning rate and the chance warning.
struct ThresholdPolicyTests {
  @Test func youdenMatchesTheAuditsSelectorAndArgmaxIsHalf() throws {
    let labels = [0, 0, 1, 1, 0, 1, 1, 0]
    let scores = [0.1, 0.35, 0.3, 0.8, 0.2, 0.45, 0.6, 0.5]
    let t = try DecisionThreshold.choose(.youden, labels: labels, scores: scores)
    let ranked = RankedScores(
      scores: scores, labels: labels.map { UInt8($0) }, rowGroup: [Int32](repeating: 0, count: 8), groupCount: 1)
    #expect(t.value == (try ThresholdSelector.youden(ranked)).threshold && t.validationRows == 8 && t.policy == .youden)
    #expect(try DecisionThreshold.choose(.argmax, labels: labels, scores: scores) == .argmax)
    #expect(throws: TrainingError.self) { try DecisionThreshold.choose(.youden, labels: [1, 1], scores: [0.2, 0.4]) }
  }

  @Test func aSavedThresholdIsWhatTheAuditsModelRuleReads() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-thr-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir + "/best", withIntermediateDirectories: true)
    let t = DecisionThreshold(policy: .youden, value: 0.3125, validationRows: 40, youdenJ: 0.5)
    try t.write(toDirectory: dir + "/best")
    #expect(try DecisionThreshold.load(modelDirectory: dir) == t)
    let rule = try ThresholdRule.parse("model:" + dir)
    let empty = RankedScores(scores: [], labels: [], rowGroup: [], groupCount: 1)
    let resolved = try ThresholdSelector.resolve(rule, audited: empty) { _ in ([], []) }
    #expect(resolved.rule == "model" && resolved.value == 0.3125 && resolved.detail.contains(dir))
    #expect(throws: AuditError.self) {
      try ThresholdSelector.resolve(.model(directory: dir + "/none"), audited: empty) { _ in ([], []) }
    }
  }

  /// A saved threshold outside (0, 1), or not a number, is refused by the one reader that
  /// `fairmed predict` and the audit's `model:DIR` rule share, naming the file and the value
  /// (issue 24: 7.5 made every row negative and ΔTPR read 0).
  @Test(arguments: [
    ("7.5", "got the number 7.5"), ("1", "got the number 1"), ("0", "got the number 0"),
    ("-0.2", "got the number -0.2"),
    ("\"NaN\"", #"got the string "NaN""#), ("null", "got null"), ("true", "got the boolean true"),
  ])
  func aSavedThresholdOutsideTheUnitIntervalIsRefused(_ value: String, _ shown: String) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-thr-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir + "/best", withIntermediateDirectories: true)
    let path = dir + "/best/decision_threshold.json"
    try #"{"policy": "youden", "value": \#(value), "validationRows": 40, "youdenJ": 0.5}"#.write(
      toFile: path, atomically: true, encoding: .utf8)
    do {
      _ = try DecisionThreshold.load(modelDirectory: dir)
      Issue.record("value \(value) was accepted")
    } catch let e as TrainingError {
      #expect(
        e.description.contains(path) && e.description.contains("strictly inside (0, 1)")
          && e.description.contains(shown), "\(e)")
    }
    let empty = RankedScores(scores: [], labels: [], rowGroup: [], groupCount: 1)
    do {
      _ = try ThresholdSelector.resolve(.model(directory: dir), audited: empty) { _ in ([], []) }
      Issue.record("the audit accepted value \(value)")
    } catch let e as AuditError {
      #expect(
        e.description.contains(path) && e.description.contains("strictly inside (0, 1)")
          && e.description.contains(shown), "\(e)")
    }
  }

  /// Youden's J on saturated scores picks 1.0: training saves the largest Double below 1 (the
  /// same decisions for Float probabilities), which the reader accepts.
  @Test func aSaturatedYoudenThresholdIsSavedInsideTheUnitInterval() throws {
    let t = try DecisionThreshold.choose(.youden, labels: [0, 0, 1, 1], scores: [0.2, 0.4, 1.0, 1.0])
    #expect(t.value < 1 && t.value > 0.9999999)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-thr-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try t.write(toDirectory: dir)
    #expect(try DecisionThreshold.load(modelDirectory: dir) == t)
    #expect(try DecisionThreshold.choose(.youden, labels: [0, 1, 1, 0], scores: [0.2, 0.4, 0.6, 0.8]).value < 1)
  }

  /// With more than two classes `pred` is the most probable class, not P(class 1) ≥ 0.5
  /// (issue 24: zero-shot with three prompts wrote pred 0 for a row whose top class was 1).
  @Test func predIsTheArgmaxWithMoreThanTwoClasses() throws {
    var p = Predictions()
    p.ids = ["a", "b", "c"]
    p.labels = [1, 2, 0]
    p.classProbabilities = [[0.3, 0.4, 0.3], [0.1, 0.2, 0.7], [0.5, 0.45, 0.05]]
    p.scores = p.classProbabilities.map { $0[1] }
    p.margins = [0.1, 0.2, 0.3]
    p.groups = ["g", "g", "g"]
    p.attributes = [[:], [:], [:]]
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-pred-\(UUID().uuidString).csv")
      .path
    try p.writeCSV(to: path)
    let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map {
      $0.split(separator: ",")
    }
    #expect(rows.map { String($0[3]) } == ["1", "2", "0"])
    // Two classes: the decision at the threshold, as before.
    #expect(Predictions.decision([0.6, 0.4], score: 0.4, threshold: 0.3) == "1")
    #expect(Predictions.decision([0.6, 0.4], score: 0.4, threshold: 0.5) == "0")
  }

  @Test func learningRateDefaultsDependOnTheMode() throws {
    var c = RunConfig(data: "x")
    c.fromScratch = .tiny
    #expect(c.effectiveLearningRate == 1e-3 && c.resolved.learningRate == 1e-3)
    c.fromScratch = nil
    c.model = "/m"
    #expect(c.effectiveLearningRate == 1e-5)
    c.mode = .imageFrozen
    #expect(c.effectiveLearningRate == 1e-4)
    c.learningRate = 3e-4
    #expect(c.effectiveLearningRate == 3e-4)
  }

  @Test func nearChanceValidationAUCWarnsOnceAfterTheSecondEpoch() {
    var c = RunConfig(data: "x")
    c.fromScratch = .tiny
    c.learningRate = 1e-5
    let w = Trainer.chanceWarning(auc: 0.52, epoch: 2, epochs: 10, config: c)
    #expect(
      w?.contains("near or below chance") == true
        && w?.contains("--lr 1e-05 is below the default for training from scratch (0.001)") == true)
    #expect(Trainer.chanceWarning(auc: 0.52, epoch: 3, epochs: 10, config: c) == nil)
    #expect(Trainer.chanceWarning(auc: 0.71, epoch: 2, epochs: 10, config: c) == nil)
    #expect(Trainer.chanceWarning(auc: 0.3, epoch: 1, epochs: 1, config: c) != nil)
  }
}
