import CLIP
import Datasets
import SyntheticData
import Foundation
import NN
import Tensor
import TestSupport
import Testing
@testable import Training

/// A tiny synthetic HAM10000-layout folder (32×32 images), written once per process.
enum TinyDerm {
  static let directory: String = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-tiny-derm-\(getpid())").path
    var c = DermSynthConfig()
    c.count = 96
    c.width = 32
    c.height = 32
    c.seed = 3
    _ = try! SynthDerm.write(c, to: dir)
    return dir
  }()

  static func config(method: MethodName = .erm, epochs: Int = 2) -> RunConfig {
    var c = RunConfig(data: "ham10000:" + directory)
    c.fromScratch = .tiny
    c.imageSize = 32
    c.method = method
    // One run (λ chosen on validation is LambdaPathTests'); GroupDRO's λ is its step size η.
    c.lambda = method.takesLambda ? (method == .groupDRO ? 0.01 : 1) : nil
    c.epochs = epochs
    c.batchSize = 16
    c.sampler = .shuffle  // 16 cannot hold 2 of each of 12 subgroup × label cells
    c.learningRate = 1e-3
    c.seed = 5
    c.loaderThreads = 2
    return c
  }

  static func runDirectory(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-test-\(name)-\(UUID().uuidString)")
      .path
    return dir
  }
}

/// The bytes of a run's saved model weights.
func modelBytes(_ run: String, _ folder: String = "checkpoint") throws -> Data {
  try Data(contentsOf: URL(fileURLWithPath: "\(run)/\(folder)/model.safetensors"))
}

@Suite(.serialized, .tags(.slow))
struct TrainerTests {
  @Test func killAndResumeReachesTheSameWeightsAsAnUninterruptedRun() throws {
    let config = TinyDerm.config(method: .cmacMMD, epochs: 2)
    let straight = TinyDerm.runDirectory("straight"), resumed = TinyDerm.runDirectory("resumed")
    _ = try Trainer(config: config, runDirectory: straight, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let first = Trainer(config: config, runDirectory: resumed, log: try TrainingLog(metricsPath: nil, quiet: true))
    first.stopAfterEpochs = 1
    let partial = try first.run()
    #expect(partial.state.epoch == 1)
    let summary = try Trainer(
      config: config, runDirectory: resumed, log: TrainingLog(metricsPath: resumed + "/metrics.jsonl", quiet: true)
    ).run(resume: true)
    #expect(summary.state.epoch == 2)
    #expect(try modelBytes(straight) == modelBytes(resumed))
    #expect(try modelBytes(straight, "best") == modelBytes(resumed, "best"))
    // The resumed run really trained: its weights differ from the epoch-1 state of a fresh run.
    let again = TinyDerm.runDirectory("again")
    let t = Trainer(config: config, runDirectory: again, log: try TrainingLog(metricsPath: nil, quiet: true))
    t.stopAfterEpochs = 1
    _ = try t.run()
    #expect(try modelBytes(again) != modelBytes(resumed))
  }

  @Test func aRunFolderIsNeverReplacedOrMixedSilently() throws {
    let config = TinyDerm.config(epochs: 2)
    let run = TinyDerm.runDirectory("folder")
    let first = Trainer(
      config: config, runDirectory: run, log: try TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true))
    first.stopAfterEpochs = 1
    _ = try first.run()
    let runJSON = try Data(contentsOf: URL(fileURLWithPath: run + "/run.json"))
    let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
    // Without --resume or --overwrite the folder is refused, and nothing in it changes.
    var other = config
    other.batchSize = 8
    do {
      _ = try Trainer(
        config: other, runDirectory: run, log: TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true)
      ).run()
      Issue.record("a second run into the folder was accepted")
    } catch let e as TrainingError {
      #expect(e.description.contains("--resume") && e.description.contains("--overwrite"))
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/run.json")) == runJSON)
    #expect(try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8) == metrics)
    // --resume with a different batch size names the difference.
    do {
      _ = try Trainer(
        config: other, runDirectory: run, log: TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true)
      ).run(resume: true)
      Issue.record("a resume with another batch size was accepted")
    } catch let e as TrainingError {
      #expect(e.description.contains("--batch-size (16 → 8)"), "\(e)")
    }
    // Resuming logs every step once; --overwrite starts the log again.
    _ = try Trainer(
      config: config, runDirectory: run, log: TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true)
    ).run(resume: true)
    func steps() throws -> [Int] {
      try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
        let r = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        return r?["kind"] as? String == "step" ? r?["step"] as? Int : nil
      }
    }
    let resumed = try steps()
    #expect(!resumed.isEmpty && resumed == Array(1...resumed.count))
    _ = try Trainer(
      config: other, runDirectory: run, log: TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true)
    ).run(overwrite: true)
    let replaced = try steps()
    #expect(replaced == Array(1...replaced.count) && replaced.count > resumed.count)
    #expect(try RunConfig.load(run + "/run.json").batchSize == 8)
    // The epoch selection is incremental: --selection may not change on --resume.
    var reselect = other
    reselect.selection = .valWorstTPR
    #expect {
      try Trainer(config: reselect, runDirectory: run, log: TrainingLog(metricsPath: nil, quiet: true)).run(
        resume: true)
    } throws: { "\($0)".contains("--selection") }
  }

  /// A feature cache built for other images or image-tower weights is built again, never read.
  @Test func aFeatureCacheOfOtherWeightsOrImagesIsBuiltAgain() throws {
    var config = TinyDerm.config(epochs: 1)
    config.mode = .imageFrozen
    let cache = TinyDerm.runDirectory("shared-cache"), a = TinyDerm.runDirectory("cache-a")
    let b = TinyDerm.runDirectory("cache-b")
    config.featureCache = cache
    defer { for d in [cache, a, b] { try? FileManager.default.removeItem(atPath: d) } }
    _ = try Trainer(config: config, runDirectory: a, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let first = try SafetensorsFile(path: cache + "/0.safetensors")
    let (key, features) = (first.metadata[FeatureCache.keyName], try first.tensor("features").scalars)
    var other = config
    other.seed = 1  // from scratch: another image tower (and another validation split)
    _ = try Trainer(config: other, runDirectory: b, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let second = try SafetensorsFile(path: cache + "/0.safetensors")
    #expect(key != nil && second.metadata[FeatureCache.keyName] != key)
    #expect(try second.tensor("features").scalars != features)
  }

  /// Entries named as a run's (best/, checkpoint/) without a run.json are another tool's: neither
  /// removed by --overwrite nor replaced by the run's own.
  @Test func anotherToolsBestFolderIsNeverRemoved() throws {
    let dir = TinyDerm.runDirectory("foreign-best")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.createDirectory(atPath: dir + "/best", withIntermediateDirectories: true)
    try "mine".write(toFile: dir + "/best/notes.txt", atomically: true, encoding: .utf8)
    for overwrite in [false, true] {
      #expect {
        try Trainer(
          config: TinyDerm.config(epochs: 1), runDirectory: dir, log: TrainingLog(metricsPath: nil, quiet: true)
        )
        .run(overwrite: overwrite)
      } throws: { "\($0)".contains("holds best but no run.json") }
    }
    #expect(try String(contentsOfFile: dir + "/best/notes.txt", encoding: .utf8) == "mine")
  }

  /// `resume` continues only a run the folder holds (issue 24: `--resume` into a dataset folder
  /// trained from scratch into it): a folder without run.json — missing, empty, or holding other
  /// files — is refused, naming the folder and the file looked for. A non-empty folder holding
  /// no run needs `overwrite`. A run killed before its first checkpoint (run.json only) resumes.
  @Test func resumeNeedsARunAndAFolderOfOtherFilesNeedsOverwrite() throws {
    let config = TinyDerm.config(epochs: 1)
    func trainer(_ dir: String) throws -> Trainer {
      Trainer(config: config, runDirectory: dir, log: try TrainingLog(metricsPath: nil, quiet: true))
    }
    let empty = TinyDerm.runDirectory("empty")
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    for dir in [TinyDerm.runDirectory("missing"), empty, TinyDerm.directory] {
      do {
        _ = try trainer(dir).run(resume: true)
        Issue.record("--resume into \(dir) was accepted")
      } catch let e as TrainingError {
        let text = e.description
        #expect(
          text.contains(dir) && text.contains("holds no FairMed run to resume") && text.contains("run.json")
            && text.contains("drop --resume"), "\(text)")
      }
    }
    #expect(!FileManager.default.fileExists(atPath: TinyDerm.directory + "/run.json"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
    // Without resume, a folder holding other files is refused unless overwrite.
    let other = TinyDerm.runDirectory("other")
    try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
    try "mine".write(toFile: other + "/notes.txt", atomically: true, encoding: .utf8)
    do {
      _ = try trainer(other).run()
      Issue.record("a run into a folder of other files was accepted")
    } catch let e as TrainingError {
      #expect(e.description.contains("'notes.txt'") && e.description.contains("--overwrite"), "\(e)")
    }
    _ = try trainer(other).run(overwrite: true)
    #expect(
      FileManager.default.fileExists(atPath: other + "/notes.txt")
        && FileManager.default.fileExists(atPath: other + "/best"))
    // Killed after run.json was written but before the first checkpoint: resume starts it again.
    let early = TinyDerm.runDirectory("early")
    try FileManager.default.createDirectory(atPath: early, withIntermediateDirectories: true)
    try config.write(to: early + "/run.json")
    #expect(try trainer(early).run(resume: true).state.epoch == 1)
  }

  @Test func sameSeedSameWeightsOtherSeedOtherWeights() throws {
    var config = TinyDerm.config(epochs: 1)
    let a = TinyDerm.runDirectory("a"), b = TinyDerm.runDirectory("b"), c = TinyDerm.runDirectory("c")
    _ = try Trainer(config: config, runDirectory: a, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    _ = try Trainer(config: config, runDirectory: b, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    config.seed = 6
    _ = try Trainer(config: config, runDirectory: c, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    #expect(try modelBytes(a) == modelBytes(b))
    #expect(try modelBytes(a) != modelBytes(c))
  }

  @Test(arguments: MethodName.allCases)
  func everyMethodTrainsAnEpochAndResumesIdentically(_ method: MethodName) throws {
    var config = TinyDerm.config(method: method, epochs: 2)
    config.logEvery = 1
    let straight = TinyDerm.runDirectory("m-\(method)"), resumed = TinyDerm.runDirectory("r-\(method)")
    _ = try Trainer(
      config: config, runDirectory: straight, log: TrainingLog(metricsPath: straight + "/metrics.jsonl", quiet: true)
    ).run()
    let t = Trainer(config: config, runDirectory: resumed, log: try TrainingLog(metricsPath: nil, quiet: true))
    t.stopAfterEpochs = 1
    _ = try t.run()
    _ = try Trainer(config: config, runDirectory: resumed, log: TrainingLog(metricsPath: nil, quiet: true)).run(
      resume: true)
    #expect(try modelBytes(straight) == modelBytes(resumed), "\(method): resumed weights differ")
    // metrics.jsonl has step and epoch records with the method's loss terms.
    let lines = try String(contentsOfFile: straight + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    #expect(records.contains { $0["kind"] as? String == "epoch" && $0["val_auc"] != nil })
    #expect(records.contains { $0["kind"] as? String == "step" && $0["l_clip"] != nil })
  }

  @Test func savedModelLoadsAndPredictsWithoutDemographics() throws {
    let run = TinyDerm.runDirectory("predict")
    _ = try Trainer(
      config: TinyDerm.config(epochs: 1), runDirectory: run, log: TrainingLog(metricsPath: nil, quiet: true)
    ).run()
    let preds = try Predictor.run(
      model: run, data: "ham10000:" + TinyDerm.directory, prompts: nil, groups: nil, split: nil)
    #expect(preds.ids.count == preds.scores.count && preds.scores.allSatisfy { (0...1).contains($0) })
    #expect(preds.margins.allSatisfy { $0.isFinite && abs($0) <= 2 })
    // Demographics only pass through: changing them changes no prediction.
    let data = try DatasetKind.load("ham10000:" + TinyDerm.directory)
    var altered = data
    altered.samples = data.samples.map { s in
      var t = s
      t.attributes["sex"] = s.attributes["sex"] == "female" ? "male" : "female"
      t.attributes["age"] = "85"
      return t
    }
    #expect(altered.samples.map(\.attributes) != data.samples.map(\.attributes))
    let prompts = try TrainingData.defaultPrompts(
      dataSpec: "ham10000:" + TinyDerm.directory, classNames: data.classNames)
    let classifier = try CLIPClassifier.load(directory: run + "/best", prompts: prompts)
    let a = try Predictions.compute(
      classifier: classifier, dataset: data, groupSpec: .sexAge, transform: classifier.preprocessing)
    let b = try Predictions.compute(
      classifier: classifier, dataset: altered, groupSpec: .sexAge, transform: classifier.preprocessing)
    #expect(a.scores == b.scores && a.margins == b.margins && a.scores == preds.scores)
    #expect(a.groups != b.groups)
    let csv = run + "/preds.csv"
    try preds.writeCSV(to: csv)
    let header = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")[0]
    #expect(header.hasPrefix("id,label,prob,pred,margin,group"))
    // The saved threshold was chosen on the validation predictions, and `pred` decides at it.
    let threshold = try #require(try DecisionThreshold.load(modelDirectory: run))
    #expect(threshold.policy == .youden && threshold.validationRows > 0 && preds.threshold == threshold)
    let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst().map {
      $0.split(separator: ",")
    }
    for (i, r) in rows.enumerated() { #expect(r[3] == (preds.scores[i] >= threshold.value ? "1" : "0")) }
    let best = try CLIPModel(directory: run + "/best")
    #expect(best.parameterCount > 0)
    for file in [
      "vocab.json", "merges.txt", "preprocessor_config.json", "tokenizer_config.json", "special_tokens_map.json",
    ] {
      #expect(FileManager.default.fileExists(atPath: run + "/best/" + file), "best/ lacks \(file)")
    }
  }

  final class ExplodingMethod: TrainingMethod {
    let name = "exploding"
    func loss(_ batch: MethodBatch) throws -> MethodLoss {
      MethodLoss(total: try batch.perSampleLoss.mean() * .nan, logs: [:])
    }
  }

  @Test func nonFiniteLossStopsWithAClearErrorAndKeepsTheLastCheckpoint() throws {
    let run = TinyDerm.runDirectory("nan")
    let config = TinyDerm.config(epochs: 2)
    let first = Trainer(config: config, runDirectory: run, log: try TrainingLog(metricsPath: nil, quiet: true))
    first.stopAfterEpochs = 1
    _ = try first.run()
    let before = try modelBytes(run)
    do {
      _ = try Trainer(
        config: config, runDirectory: run, log: TrainingLog(metricsPath: nil, quiet: true), method: ExplodingMethod()
      ).run(resume: true)
      Issue.record("a NaN loss must stop the run")
    } catch let e as TrainingError {
      #expect(
        e.description.contains("loss is nan") && e.description.contains("the checkpoint of epoch 1 is kept"), "\(e)")
    }
    #expect(try modelBytes(run) == before)
  }

  @Test(arguments: [FineTuningMode.imageFrozen, .lastK, .textFrozen])
  func fineTuningModesTrainOnlyWhatTheyShould(_ mode: FineTuningMode) throws {
    var config = TinyDerm.config(epochs: 1)
    config.mode = mode
    config.lastK = 1
    let run = TinyDerm.runDirectory("mode-\(mode)")
    _ = try Trainer(config: config, runDirectory: run, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let initial = CLIPModel(config: ModelPresets.config(named: "tiny", imageSize: 32)!, seed: config.seed)
    let trained = try CLIPModel(directory: run + "/checkpoint")
    func changed(_ prefix: String) -> Bool {
      trained.namedParameters().filter { $0.path.hasPrefix(prefix) }.contains { p in
        initial.parameter(p.path)!.scalars != p.tensor.scalars
      }
    }
    switch mode {
    case .imageFrozen:
      #expect(!changed("vision_model.") && changed("visual_projection") && changed("text_model."))
      #expect(FileManager.default.fileExists(atPath: run + "/feature_cache/0.safetensors"))
    case .lastK:
      #expect(!changed("vision_model.encoder.layers.0.") && changed("vision_model.encoder.layers.2."))
      #expect(!changed("text_model.embeddings.") && changed("text_model.encoder.layers.1."))
    default:
      #expect(!changed("text_model.") && !changed("text_projection") && changed("vision_model."))
    }
  }
}

/// Run configurations refused before anything trains (fast, unlike TrainerTests).
@Suite struct RunConfigValidationTests {
  @Test func badConfigurationsListEveryProblem() throws {
    var c = RunConfig(data: "ham10000:/nowhere")
    c.epochs = 0
    c.batchSize = 1
    do {
      try c.validate()
      Issue.record("expected an error")
    } catch let e as TrainingError {
      let text = e.description
      #expect(text.contains("--epochs") && text.contains("--batch-size") && text.contains("--from-scratch"))
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-run-\(UUID().uuidString).json").path
    try "{\"data\": 3}".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(throws: TrainingError.self) { try RunConfig.load(path) }
    // Options with a fixed set of values are types: an unknown spelling is refused at load.
    try "{\"data\": \"manifest:x.csv\", \"method\": \"magic\"}".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(throws: TrainingError.self) { try RunConfig.load(path) }
    try
      "{\"data\": \"manifest:x.csv\", \"method\": \"cmac-mmd\", \"sampler\": \"balanced-cells\", \"mode\": \"image-frozen\"}"
      .write(toFile: path, atomically: true, encoding: .utf8)
    let spelled = try RunConfig.load(path)
    #expect(spelled.method == .cmacMMD && spelled.sampler == .balancedCells && spelled.mode == .imageFrozen)
  }
}
