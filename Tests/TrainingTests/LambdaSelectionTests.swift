import Foundation
import TestSupport
import Testing
@testable import Training

/// Validation predictions of two subgroups, 20 positives and 20 negatives each, at threshold 0.5:
/// `hits[g]` of group g's positives score above it, the rest just below (0.4), negatives at 0.1
/// except `falseAlarms` of them at 0.95 (which lowers the AUC). The hits are positives
/// `shift`, `shift + 1`, … of each group (two models hit different positives); `nearMisses` of
/// group 0's negatives score 0.5, above the missed positives only (a small AUC loss).
func validation(hits: [Int], falseAlarms: Int = 0, nearMisses: Int = 0, shift: Int = 0, epoch: Int = 1)
  -> ValidationPredictions
{
  var labels: [Int] = [], scores: [Double] = [], groups: [String] = []
  for (g, h) in hits.enumerated() {
    for i in 0..<20 {
      labels.append(1); scores.append((i - shift + 20) % 20 < h ? 0.9 : 0.4); groups.append("g\(g)")
    }
    for i in 0..<20 {
      labels.append(0)
      scores.append(g == 0 && i < falseAlarms ? 0.95 : g == 0 && i < falseAlarms + nearMisses ? 0.5 : 0.1)
      groups.append("g\(g)")
    }
  }
  return ValidationPredictions(epoch: epoch, labels: labels, scores: scores, groups: groups, threshold: 0.5)
}

@Suite struct LambdaSelectionTests {
  func select(_ members: [(Float, ValidationPredictions)], delta: Double = 0.01, minPositives: Int = 5) throws
    -> LambdaSelection.Outcome
  {
    try LambdaSelection.select(members.map { ($0.0, $0.1) }, delta: delta, minPositives: minPositives, seed: 7)
  }

  @Test func keepsTheHighestWorstGroupTPRWithinTheAUCBudget() throws {
    let o = try select([
      (0, validation(hits: [18, 6])), (0.01, validation(hits: [18, 8])), (0.1, validation(hits: [18, 16])),
      (1, validation(hits: [18, 19], falseAlarms: 8)),  // the best worst group, but AUC far below the bar
    ])
    #expect(o.chosenLambda == 0.1)
    #expect(!o.fellBack)
    #expect(o.members.map(\.withinBudget) == [true, true, true, false])
    #expect(o.members[2].worstGroupTPR == 16.0 / 20 && o.members[2].worstGroup == "g1")
    #expect(o.members[3].note.hasPrefix("validation AUC"))
    #expect(o.reason.hasPrefix("chose λ 0.1"))
    // Deterministic: the same inputs and seed give the same table.
    #expect(
      try select([
        (0, validation(hits: [18, 6])), (0.01, validation(hits: [18, 8])), (0.1, validation(hits: [18, 16])),
        (1, validation(hits: [18, 19], falseAlarms: 8)),
      ]) == o)
  }

  @Test func aLiftThatCostsMoreThanTheBudgetFallsBackToLambdaZeroAndSaysSo() throws {
    let o = try select([(0, validation(hits: [18, 6])), (1, validation(hits: [18, 18], falseAlarms: 6))])
    #expect(o.chosenLambda == 0 && o.fellBack)
    #expect(o.reason.contains("did not keep validation AUC within 0.010"), "\(o.reason)")
    #expect(o.markdown.contains("| 0 | 1 |") && o.markdown.contains("**yes**"))
  }

  @Test func anAUCLossWithinTheBudgetOnlyByNoiseDoesNotCount() throws {
    // Two negatives above the 8 missed positives: AUC 1 − 16/1600 = 0.99, a loss of 0.01.
    let members: [(Float, ValidationPredictions)] = [
      (0, validation(hits: [16, 4])), (1, validation(hits: [16, 16], nearMisses: 2, shift: 3)),
    ]
    let lenient = try select(members, delta: 0.02)
    #expect(lenient.chosenLambda == 1)
    let se = try #require(lenient.members[1].aucStandardError)
    #expect(se > 0 && abs((lenient.members[0].auc ?? 0) - (lenient.members[1].auc ?? 0) - 0.01) < 1e-9)
    // δ above the loss but below loss + one standard error: not within the budget.
    let strict = try select(members, delta: 0.01 + se / 2)
    #expect(strict.chosenLambda == 0 && !strict.members[1].withinBudget)
    #expect(strict.members[1].note.contains("one standard error"))
  }

  @Test func nearTiesGoToTheSmallerLambda() throws {
    // One more hit of 20, on other positives, is well within one bootstrap standard error (≈ 0.15 here).
    let o = try select([(0, validation(hits: [18, 10])), (1, validation(hits: [18, 11], shift: 6))])
    #expect(o.chosenLambda == 0)
    #expect(o.members[0].standardErrorVsBest.map { $0 > 0.05 } == true)
    #expect(o.members[1].note.contains("within one bootstrap standard error"))
    #expect(o.reason.contains("within one bootstrap standard error"))
    // A lift far beyond it is kept.
    #expect(
      try select([(0, validation(hits: [18, 4])), (1, validation(hits: [18, 17], shift: 6))]).chosenLambda == 1)
    // λ 0.1 is within one standard error of λ 1 while λ 0 is not (paired errors differ), but λ 0
    // is as good as λ 0.1 on the worst group: λ 0 is kept.
    let tied = try select([
      (0, validation(hits: [18, 10])), (0.1, validation(hits: [18, 10], shift: 4)), (1, validation(hits: [18, 12])),
    ])
    #expect(tied.chosenLambda == 0, "\(tied.markdown)")
    #expect(tied.reason.contains("has none higher than λ 0's"), "\(tied.reason)")
    // Each note says what happened to that member.
    #expect(tied.members[0].note == "chosen")
    #expect(
      tied.members[1].note.contains("within one standard error")
        && tied.members[1].note.contains("λ 0 is at least as high"), "\(tied.members[1].note)")
    #expect(
      tied.members[2].note.contains(
        "λ 0.1 is within one bootstrap standard error of it and the smaller λ 0 is as high"), "\(tied.members[2].note)")
    // Paired: a model that hits every positive the other hits, and one more, leads beyond the noise.
    #expect(try select([(0, validation(hits: [18, 10])), (1, validation(hits: [18, 11]))]).chosenLambda == 1)
  }

  @Test func theKeptLambdaIsTheSmallestWithinOneStandardErrorOfTheBest() throws {
    // λ 1 leads λ 0 by 0.2, beyond one standard error (λ 1 hits every positive λ 0 hits); λ 0.1,
    // hitting other positives, is 0.1 below λ 1, within one (the paired error is larger). λ 0.1 is
    // kept: the rule compares each smaller λ with the best, not with one another (METHOD.md §11).
    let o = try select([
      (0, validation(hits: [18, 10])), (0.1, validation(hits: [18, 12], shift: 6)), (1, validation(hits: [18, 14])),
    ])
    #expect(o.chosenLambda == 0.1, "\(o.markdown)")
    let se0 = try #require(o.members[0].standardErrorVsBest), se1 = try #require(o.members[1].standardErrorVsBest)
    #expect(0.2 > se0 && 0.1 <= se1, "\(se0) \(se1)")
    #expect(o.members[0].note.contains("0.200 below λ 1's, more than one standard error"), "\(o.members[0].note)")
    #expect(
      o.members[2].note.contains("λ 0.1 is smaller and within one bootstrap standard error"), "\(o.members[2].note)")
  }

  @Test func aDivergedMemberIsListedAndLeftOut() throws {
    let o = try LambdaSelection.select(
      [(0, validation(hits: [18, 6])), (0.1, validation(hits: [18, 16]))], delta: 0.01, minPositives: 5, seed: 7,
      diverged: [.init(lambda: 1, error: "epoch 2, step 30: loss is nan")])
    #expect(o.chosenLambda == 0.1 && o.members.map(\.lambda) == [0, 0.1] && o.diverged?.map(\.lambda) == [1])
    #expect(o.reason.hasSuffix("(λ 1 diverged in training and was left out)"), "\(o.reason)")
    #expect(
      o.markdown.contains("| 1 | – |") && o.markdown.contains("diverged, left out: epoch 2, step 30: loss is nan"))
    // λ 0 is the comparison itself: its divergence is an error, not a choice.
    #expect(throws: TrainingError.self) {
      try LambdaSelection.select(
        [(0.1, validation(hits: [18, 16]))], delta: 0.01, minPositives: 5, seed: 7,
        diverged: [.init(lambda: 0, error: "loss is nan")])
    }
  }

  @Test func groupsWithTooFewValidationPositivesAreListedNotUsed() throws {
    let members: [(Float, ValidationPredictions)] = [(0, validation(hits: [18, 6])), (1, validation(hits: [18, 18]))]
    let none = try select(members, minPositives: 21)
    #expect(none.chosenLambda == 0 && none.fellBack && none.countedGroups.isEmpty)
    #expect(none.smallGroups == ["g0": 20, "g1": 20])
    #expect(none.reason.contains("no subgroup has 21 validation positives"))
    #expect(none.members[1].note == "not compared: no subgroup has 21 validation positives")
    #expect(try select(members, minPositives: 20).chosenLambda == 1)
    // A subgroup without a single validation positive is listed too.
    func withNegatives(_ v: ValidationPredictions) -> ValidationPredictions {
      var v = v
      for _ in 0..<5 { v.labels.append(0); v.scores.append(0.1); v.groups.append("g2") }
      return v
    }
    let listed = try select(members.map { ($0.0, withNegatives($0.1)) })
    #expect(listed.smallGroups == ["g2": 0] && listed.countedGroups == ["g0", "g1"])
    #expect(listed.markdown.contains("not counted (positives): g2 (0)"))
    // Validation with one class: nothing to hold the AUC to, and the notes say so.
    let positivesOnly = members.map { m -> (Float, ValidationPredictions) in
      var v = m.1
      let keep = v.labels.indices.filter { v.labels[$0] == 1 }
      v.labels = keep.map { v.labels[$0] }; v.scores = keep.map { v.scores[$0] }; v.groups = keep.map { v.groups[$0] }
      return (m.0, v)
    }
    let oneClass = try select(positivesOnly)
    #expect(oneClass.chosenLambda == 0 && oneClass.reason.contains("one class"))
    #expect(oneClass.members[1].note == "not compared: validation has one class", "\(oneClass.members[1].note)")
  }

  @Test func aPathWithoutZeroOrWithDifferentRowsIsRefused() throws {
    #expect(throws: TrainingError.self) {
      try select([(0.1, validation(hits: [18, 6])), (1, validation(hits: [18, 8]))])
    }
    var other = validation(hits: [18, 6])
    other.groups[0] = "g1"
    #expect(throws: TrainingError.self) { try select([(0, validation(hits: [18, 6])), (1, other)]) }
  }

  @Test func aBrokenValidationPredictionsFileIsAnErrorNamingIt() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-vp-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/" + ValidationPredictions.fileName
    // Missing, not JSON, a missing key, and columns of different lengths: each names the file.
    for text in [
      nil, "not json", #"{"epoch": 1, "labels": [1], "scores": [0.5], "threshold": 0.5}"#,
      #"{"epoch": 1, "labels": [1, 0], "scores": [0.5], "groups": ["a", "a"], "threshold": 0.5}"#,
    ] {
      if let text { try text.write(toFile: path, atomically: true, encoding: .utf8) }
      #expect {
        _ = try ValidationPredictions.load(modelDirectory: dir)
      } throws: { error in "\(error)".contains(path) }
    }
    let good = validation(hits: [3, 4])
    try good.write(toDirectory: dir)
    #expect(try ValidationPredictions.load(modelDirectory: dir) == good)
  }

  @Test func theLambdaOptionsAreParsedAndRangeChecked() throws {
    var c = try RunConfig.resolve(
      file: nil, arguments: ["--data", "ham10000:/x", "--lambda-path", "0,0.001,0.5", "--lambda-delta", "0.02"])
    #expect(c.lambdaPath == [0, 0.001, 0.5] && c.lambdaDelta == 0.02 && c.lambda == nil && c.selectsLambda)
    c.lambda = 0.5
    #expect(!c.selectsLambda)
    c.lambda = nil
    c.method = .erm
    #expect(!c.selectsLambda)
    for bad in [
      ["--lambda-path", "0.1,1"], ["--lambda-path", "0,1,1"], ["--lambda-path", "0,x"], ["--lambda-delta", "2"],
      ["--lambda-path", "0,0.1,0.1000001"],  // one folder name, lambda/0.1, for two members
    ] {
      let problems = try? RunConfig.resolve(
        file: nil, arguments: ["--data", "ham10000:/x", "--from-scratch", "tiny"] + bad
      )
      .settingProblems()
      #expect(problems == nil || problems!.contains { $0.contains(bad[0]) }, "\(bad)")
      #expect(problems == nil || !problems!.isEmpty, "\(bad) accepted")
    }
  }
}

@Suite(.serialized, .tags(.slow)) struct LambdaPathTests {
  func quiet(_ dir: String) throws -> TrainingLog { try TrainingLog(metricsPath: dir + "/metrics.jsonl", quiet: true) }

  /// CMAC-MMD on the tiny benchmark with λ chosen from `path`, every subgroup counted.
  func pathConfig(_ path: [Float], epochs: Int) -> RunConfig {
    var config = TinyDerm.config(method: .cmacMMD, epochs: epochs)
    config.lambda = nil
    config.lambdaPath = path
    config.lambdaMinPositives = 1
    return config
  }

  @Test func thePathTrainsEveryMemberKeepsTheChosenOneAndResumesWithoutRetraining() throws {
    let config = pathConfig([0, 1], epochs: 1)
    let run = TinyDerm.runDirectory("lambda-path")
    defer { try? FileManager.default.removeItem(atPath: run) }
    let summary = try Trainer(config: config, runDirectory: run, log: quiet(run)).run()
    let outcome = try #require(summary.selection)
    #expect(outcome.members.map(\.lambda) == [0, 1])
    #expect(outcome.members.allSatisfy { $0.seconds != nil })
    let chosen = run + "/lambda/" + LambdaSelection.memberName(outcome.chosenLambda)
    #expect(try modelBytes(run, "best") == modelBytes(chosen, "best"))
    for file in ["run.json", LambdaSelection.tableFile, LambdaSelection.markdownFile, "best/decision_threshold.json"] {
      #expect(FileManager.default.fileExists(atPath: run + "/" + file), "\(file)")
    }
    let stored = try decodeJSONFile(LambdaSelection.Outcome.self, run + "/" + LambdaSelection.tableFile, "selection")
    #expect(stored.chosenLambda == outcome.chosenLambda && stored.reason == outcome.reason)
    // λ 0 is the method without its term: the same weights as ERM on the same batches.
    var erm = config
    erm.method = .erm
    let ermRun = TinyDerm.runDirectory("lambda-path-erm")
    defer { try? FileManager.default.removeItem(atPath: ermRun) }
    _ = try Trainer(config: erm, runDirectory: ermRun, log: quiet(ermRun)).run()
    #expect(try modelBytes(ermRun) == modelBytes(run + "/lambda/0"))
    #expect(try modelBytes(run + "/lambda/0") != modelBytes(run + "/lambda/1"))
    // Resuming a finished path trains nothing and chooses the same λ.
    let again = try Trainer(config: config, runDirectory: run, log: quiet(run)).run(resume: true)
    #expect(again.selection?.chosenLambda == outcome.chosenLambda)
    #expect(again.selection?.members.allSatisfy { $0.seconds == nil } == true)
    // Without --resume or --overwrite the folder is refused; --overwrite clears the members too.
    #expect(throws: TrainingError.self) { try Trainer(config: config, runDirectory: run, log: quiet(run)).run() }
    // A given λ trains exactly one run.
    var one = config
    one.lambda = 1
    _ = try Trainer(config: one, runDirectory: run, log: quiet(run)).run(overwrite: true)
    #expect(!FileManager.default.fileExists(atPath: run + "/lambda"))
    #expect(!FileManager.default.fileExists(atPath: run + "/" + LambdaSelection.tableFile))
  }

  /// λ 0 is ERM for every method whose term it scales, adversaries included: an adversary's
  /// gradients are clipped by their own norm, so they never rescale the model's step (with a
  /// clip of 0.05, tight enough to act on every step, they did before).
  @Test(arguments: [MethodName.dann, .cdann, .meanMatch, .cmacMMD])
  func lambdaZeroTrainsTheModelAsERMDoes(_ method: MethodName) throws {
    var erm = TinyDerm.config(method: .erm, epochs: 1)
    erm.gradClip = 0.05
    var zero = erm
    zero.method = method
    zero.lambda = 0
    let a = TinyDerm.runDirectory("lambda0-erm"), b = TinyDerm.runDirectory("lambda0-\(method.rawValue)")
    defer {
      try? FileManager.default.removeItem(atPath: a)
      try? FileManager.default.removeItem(atPath: b)
    }
    _ = try Trainer(config: erm, runDirectory: a, log: quiet(a)).run()
    _ = try Trainer(config: zero, runDirectory: b, log: quiet(b)).run()
    #expect(try modelBytes(a) == modelBytes(b), "\(method.rawValue) at λ 0 trained other weights than ERM")
  }

  @Test func aDivergedMemberIsLeftOutAndTheOthersCompared() throws {
    let config = pathConfig([0, 1], epochs: 1)
    let run = TinyDerm.runDirectory("lambda-path-diverged")
    defer { try? FileManager.default.removeItem(atPath: run) }
    for resume in [false, true] {  // a resumed path meets the same divergence and makes the same choice
      let trainer = Trainer(config: config, runDirectory: run, log: try quiet(run))
      trainer.memberMethod = { $0 == 0 ? nil : TrainerTests.ExplodingMethod() }
      let outcome = try #require(try trainer.run(resume: resume).selection)
      #expect(outcome.chosenLambda == 0 && outcome.members.map(\.lambda) == [0])
      #expect(outcome.diverged?.map(\.lambda) == [1] && outcome.diverged?[0].error.contains("loss is nan") == true)
      #expect(try modelBytes(run, "best") == modelBytes(run + "/lambda/0", "best"))
      let stored = try String(contentsOfFile: run + "/" + LambdaSelection.markdownFile, encoding: .utf8)
      #expect(stored.contains("diverged, left out"))
    }
  }

  @Test func aStoppedPathResumesToTheSameChoice() throws {
    let config = pathConfig([0, 0.5], epochs: 2)
    let straight = TinyDerm.runDirectory("path-straight"), stopped = TinyDerm.runDirectory("path-stopped")
    defer {
      try? FileManager.default.removeItem(atPath: straight)
      try? FileManager.default.removeItem(atPath: stopped)
    }
    let a = try Trainer(config: config, runDirectory: straight, log: quiet(straight)).run()
    let first = Trainer(config: config, runDirectory: stopped, log: try quiet(stopped))
    first.stopAfterEpochs = 1
    let partial = try first.run()
    #expect(partial.selection == nil && partial.state.epoch == 1)
    let b = try Trainer(config: config, runDirectory: stopped, log: quiet(stopped)).run(resume: true)
    #expect(b.selection?.chosenLambda == a.selection?.chosenLambda)
    #expect(try modelBytes(straight, "best") == modelBytes(stopped, "best"))
    #expect(try modelBytes(straight + "/lambda/0.5") == modelBytes(stopped + "/lambda/0.5"))
  }
}
