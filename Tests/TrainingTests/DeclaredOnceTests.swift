import Fairness
import Foundation
import Support
import Testing
@testable import Training

/// Issue 23, every fact written once: the predictions CSV and the decision threshold file are
/// declared by their reader in Fairness and written through those declarations; σ, λ's range
/// and the learning-rate rule each have one declaration that the others agree with.
struct DeclaredOnceTests {
  static func temporary(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  /// The file the writer makes has the bytes it always had, and the audit reads it with its
  /// default columns (`fairmed audit` without --label/--score).
  @Test func thePredictionsFileIsWhatTheAuditReadsByDefault() throws {
    var p = Predictions()
    p.ids = ["a", "b", "c", "d"]
    p.labels = [1, 0, 1, 0]
    p.classProbabilities = [[0.2, 0.8], [0.7, 0.3], [0.45, 0.55], [0.9, 0.1]]
    p.scores = p.classProbabilities.map { $0[1] }
    p.margins = [0.3, 0.2, -0.05, 0.4]
    p.groups = ["female", "male", "female", "male"]
    p.attributes = p.groups.map { ["sex": $0] }
    let path = try Self.temporary("preds") + "/preds.csv"
    try p.writeCSV(to: path)
    #expect(
      try String(contentsOfFile: path, encoding: .utf8) == """
        id,label,prob,pred,margin,group,sex
        a,1,0.800000,1,0.300000,female,female
        b,0,0.300000,0,0.200000,male,male
        c,1,0.550000,1,-0.050000,female,female
        d,0,0.100000,0,0.400000,male,male

        """)
    #expect(AuditColumns() == AuditColumns(label: PredictionsCSV.label, score: PredictionsCSV.score, margin: nil))
    let input = try AuditInput.load(
      URL(fileURLWithPath: path), columns: .predictions,
      groups: GroupingSpec(attributes: [AttributeSpec(column: "sex")]))
    #expect(input.labels == [1, 0, 1, 0] && input.scores == p.scores && input.margins == p.margins)
    #expect(
      PredictionsCSV.header(attributes: ["age", "sex"], classes: 3)
        == ["id", "label", "prob", "pred", "margin", "group", "age", "sex", "prob_0", "prob_1", "prob_2"])
  }

  /// Training writes the keys and the file name that the audit's reader declares, and never a
  /// value that reader would refuse.
  @Test func theThresholdFileHasTheKeysItsReaderDeclares() throws {
    let dir = try Self.temporary("thr")
    func keys() throws -> Set<String> {
      let data = try #require(FileManager.default.contents(atPath: dir + "/" + StoredThreshold.fileName))
      return Set(try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys)
    }
    try DecisionThreshold(policy: .youden, value: 0.3125, validationRows: 40, youdenJ: 0.5).write(toDirectory: dir)
    #expect(try keys() == Set(StoredThreshold.Key.allCases.map(\.rawValue)))
    #expect(try StoredThreshold.load(modelDirectory: dir)?.value == 0.3125)
    try DecisionThreshold.argmax.write(toDirectory: dir)
    #expect(try keys() == Set(StoredThreshold.Key.allCases.filter { $0 != .youdenJ }.map(\.rawValue)))
    #expect(try DecisionThreshold.load(modelDirectory: dir) == .argmax)
    #expect(throws: TrainingError.self) {
      try DecisionThreshold(policy: .youden, value: 1, validationRows: 4, youdenJ: 0).write(toDirectory: dir)
    }
    #expect(try DecisionThreshold.load(modelDirectory: dir) == .argmax)
  }

  @Test func sigmaLambdaAndTheLearningRateRuleAgreeWithTheirDeclarations() {
    #expect(
      CMACMMD().bandwidth == .fixed(CMACMMD.defaultSigma) && RunConfig.defaults.cmac.sigma == CMACMMD.defaultSigma)
    #expect(CMACMMD.defaultSigma == 0.1 && AuditConfiguration().certainty.sigma == CertaintyOptions.defaultSigma)
    #expect(MethodName.lambdaCheck.rule == "a finite number in 0…1000")
    var c = RunConfig(data: "x")
    for (lambda, ok) in [(Float(0), true), (1000, true), (1000.5, false), (-1, false), (.nan, false)] {
      c.lambda = lambda
      #expect(MethodName.lambdaCheck.accepts(lambda) == ok)
      #expect(
        c.settingProblems().contains { $0.hasPrefix("--lambda must be \(MethodName.lambdaCheck.rule)") } == !ok,
        "λ \(lambda)")
    }
    for mode in FineTuningMode.allCases {
      for lora in [false, true] {
        var r = RunConfig(data: "x")
        r.model = "/m"
        r.mode = mode
        r.loraRank = lora ? 4 : nil
        #expect(r.effectiveLearningRate == DefaultLearningRate.value(fromScratch: false, mode: mode, lora: lora))
      }
    }
    var scratch = RunConfig(data: "x")
    scratch.fromScratch = .tiny
    #expect(scratch.effectiveLearningRate == DefaultLearningRate.fromScratch)
    #expect(
      DefaultLearningRate.summary
        == "1e-3 from scratch, 1e-5 for full and text-frozen fine-tuning, 1e-4 for last-k and image-frozen fine-tuning and for --lora"
    )
  }
}
