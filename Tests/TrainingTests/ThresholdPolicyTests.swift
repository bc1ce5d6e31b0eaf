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
    let ranked = RankedScores(scores: scores, labels: labels.map { UInt8($0) }, rowGroup: [Int32](repeating: 0, count: 8), groupCount: 1)
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
    #expect(throws: AuditError.self) { try ThresholdSelector.resolve(.model(directory: dir + "/none"), audited: empty) { _ in ([], []) } }
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
    #expect(w?.contains("near or below chance") == true && w?.contains("--lr 1e-05 is below the default for training from scratch (0.001)") == true)
    #expect(Trainer.chanceWarning(auc: 0.52, epoch: 3, epochs: 10, config: c) == nil)
    #expect(Trainer.chanceWarning(auc: 0.71, epoch: 2, epochs: 10, config: c) == nil)
    #expect(Trainer.chanceWarning(auc: 0.3, epoch: 1, epochs: 1, config: c) != nil)
  }
}
