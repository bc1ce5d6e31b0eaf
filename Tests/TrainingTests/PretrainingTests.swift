import CLIP
import Datasets
import Distributed
import Foundation
import NN
@testable import SyntheticData
import Tensor
import TestSupport
import Testing
@testable import Training

/// A small captioned corpus (`fairmed synth derm --corpus`), written once per process.
enum TinyCorpus {
  static let directory: String = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-tiny-corpus-\(getpid())").path
    _ = try! SynthDerm.writeCorpus(SynthDerm.corpusConfig(count: 480, size: 32, seed: 1000), to: dir)
    return dir
  }()

  static func config(epochs: Int = 2) -> RunConfig {
    var c = RunConfig(data: "manifest:" + directory + "/corpus.csv")
    c.objective = .pretrain
    c.fromScratch = .tiny
    c.imageSize = 32
    c.epochs = epochs
    c.batchSize = 32
    c.learningRate = 1e-3
    c.seed = 4
    c.loaderThreads = 2
    return c
  }
}

struct PretrainingLossTests {
  /// `fairmed pretrain`'s loss on the path training runs (``Trainer/pretrainingLoss``: the
  /// classifier's encoders, then ``CLIPLoss``), against open_clip's `ClipLoss` on the tiny
  /// transformers CLIP (Scripts/fixtures/make_pretrain_fixtures.py): the loss and the gradients
  /// of parameters in both towers, the projections and the temperature.
  @Test func lossAndGradientsEqualOpenCLIPsClipLoss() throws {
    let reference = try SafetensorsFile(path: fixturePath("pretrain_loss.safetensors"))
    let meta = try jsonObject(atPath: fixturePath("pretrain_loss.json"))
    let texts = try #require(meta["texts"] as? [String]), names = try #require(meta["grad_params"] as? [String])
    let classifier = try CLIPClassifier.load(directory: fixturePath("tiny_clip", of: "CLIPTests"), prompts: [])
    let loss = try Trainer.pretrainingLoss(
      classifier: classifier, images: reference.tensor("pixel_values"), texts: texts, pooled: false,
      parallel: DataParallel(world: SingleProcess()))
    let expected = try reference.tensor("loss").scalars[0]
    #expect(abs(loss.item() - expected) <= 1e-5 * max(1, abs(expected)), "loss \(loss.item()) vs \(expected)")
    try loss.backward()
    let params = Dictionary(uniqueKeysWithValues: classifier.model.namedParameters().map { ($0.path, $0.tensor) })
    for name in names {
      let p = try #require(params[name], "no parameter \(name)")
      let grad = try #require(p.grad, "no gradient for \(name)").scalars
      let want = try reference.tensor("grad." + name).scalars
      let scale = want.map(abs).max() ?? 0
      let diff = zip(grad, want).map { abs($0 - $1) }.max() ?? .infinity
      #expect(grad.count == want.count && diff <= 1e-4 * scale + 1e-7, "\(name): max |Δ| \(diff) at scale \(scale)")
    }
  }

  /// Over 2 and 3 ranks, every rank's loss and the summed gradients equal one process's on the
  /// whole batch (the `mpirun` data parallelism `train` uses).
  @Test func lossOverRanksEqualsOneProcess() throws {
    let n = 12
    var g = SeededGenerator(seed: 2)
    let pixels = Tensor.randn([n, 3, 32, 32], using: &g).scalars
    let texts = (0..<n).map { "lesion \($0) " + ($0 % 2 == 0 ? "irregular border" : "regular") }
    @Sendable func model() throws -> CLIPClassifier {
      let config = try #require(ModelPresets.config(named: "tiny", imageSize: 32))
      return CLIPClassifier(
        model: CLIPModel(config: config, seed: 9),
        tokenizer: try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength), prompts: [])
    }
    @Sendable func images(_ rows: [Int]) throws -> Tensor {
      let size = 3 * 32 * 32
      return try Tensor(rows.flatMap { pixels[($0 * size)..<(($0 + 1) * size)] }, shape: [rows.count, 3, 32, 32])
    }
    let one = try model()
    let whole = try Parallel.withThreadCount(1) {
      try Trainer.pretrainingLoss(
        classifier: one, images: images(Array(0..<n)), texts: texts, pooled: false,
        parallel: DataParallel(world: SingleProcess()))
    }
    try whole.backward()
    let expected = one.model.trainableParameters().map { $0.tensor.grad?.scalars ?? [] }
    for ranks in [2, 3] {
      let out = try ThreadedWorld.run(size: ranks) { world -> (Float, [[Float]]) in
        try Parallel.withThreadCount(1) {
          let dp = DataParallel(world: world)
          let c = try model()
          let rows = Array(DataParallel.rows(of: n, rank: world.rank, size: ranks))
          let loss = try Trainer.pretrainingLoss(
            classifier: c, images: images(rows), texts: rows.map { texts[$0] }, pooled: false, parallel: dp)
          try loss.backward()
          let p = c.model.trainableParameters().map(\.tensor)
          try dp.reduceGradients(summed: p, averaged: [])
          return (loss.item(), p.map { $0.grad?.scalars ?? [] })
        }
      }
      for (r, (loss, grads)) in out.enumerated() {
        #expect(abs(loss - whole.item()) <= 1e-5 * max(1, abs(whole.item())), "ranks \(ranks) rank \(r) loss")
        for (k, (a, b)) in zip(grads, expected).enumerated() {
          let scale = b.map(abs).max() ?? 0
          let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
          #expect(a.count == b.count && diff <= 1e-4 * scale + 1e-7, "ranks \(ranks) rank \(r) tensor \(k): \(diff)")
        }
      }
    }
  }
}

struct OpenCLIPExportTests {
  /// `--open-clip` writes best/open_clip/, an open_clip folder (`open_clip_config.json` and
  /// OpenAI-named weights, the layout FairMed's loader reads as open_clip's, checked against
  /// open_clip itself in tests of the loader and once by Scripts/fixtures/check_open_clip_export.py):
  /// loaded back, it encodes images and texts as the model did.
  @Test func theOpenCLIPCopyEncodesAsTheModelDoes() throws {
    let config = try #require(ModelPresets.config(named: "tiny", imageSize: 32))
    let classifier = CLIPClassifier(
      model: CLIPModel(config: config, seed: 3),
      tokenizer: try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength), prompts: ["a", "b"],
      preprocessing: ImageTransform(size: 32, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3]))
    classifier.openCLIPOnSave = true
    let dir = freshDirectory("open-clip-export")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try classifier.save(directory: dir)
    let copy = try CLIPClassifier.load(directory: dir + "/" + CLIPClassifier.openCLIPFolder, prompts: ["a", "b"])
    let cfg = try jsonObject(atPath: dir + "/open_clip/open_clip_config.json")
    #expect((cfg["model_cfg"] as? [String: Any])?["quick_gelu"] as? Bool == true)
    #expect(copy.preprocessing.mean == [0.5, 0.4, 0.3] && copy.preprocessing.std == [0.2, 0.25, 0.3])
    var g = SeededGenerator(seed: 4)
    let pixels = Tensor.randn([3, 3, 32, 32], using: &g)
    let texts = ["a dermoscopy image of a malignant lesion", "benign naevus, 4 mm", "x"]
    let a = try withNoGrad { try classifier.encode(images: pixels, pooled: false, texts: texts) }
    let b = try withNoGrad { try copy.encode(images: pixels, pooled: false, texts: texts) }
    #expect(isClose(a.images.scalars, b.images.scalars, atol: 1e-5))
    #expect(isClose(try #require(a.texts).scalars, try #require(b.texts).scalars, atol: 1e-5))
    #expect(copy.model.logitScale.item() == classifier.model.logitScale.item())
    // A model open_clip cannot express is refused by field.
    var odd = config
    odd.text.layerNormEps = 1e-6
    #expect {
      try CLIPModel(config: odd, seed: 0).saveOpenCLIP(
        directory: dir + "/odd", mean: [0, 0, 0], std: [1, 1, 1], bilinear: false)
    } throws: {
      "\($0)".contains("text layer_norm_eps")
    }
  }
}

struct PretrainingOptionTests {
  /// `fairmed pretrain` takes only the options that apply to pretraining; a classification
  /// option, by flag or in a configuration file, is refused by name.
  @Test func classificationOptionsAreRefusedByName() throws {
    let base = ["--data", "manifest:corpus.csv", "--from-scratch", "tiny"]
    for flag in [["--method", "erm"], ["--prompts", "a", "b"], ["--groups", "sex"], ["--cmac-sigma", "0.2"]] {
      #expect {
        _ = try RunConfig.resolve(file: nil, arguments: base + flag, objective: .pretrain)
      } throws: { "\($0)".contains("\(flag[0]) does not apply to pretraining") }
    }
    var c = TinyCorpus.config()
    c.method = .groupDRO
    c.selection = .last
    #expect { try c.validate() } throws: {
      "\($0)".contains("--method applies to classification")
        && "\($0)".contains("--selection applies to classification")
    }
    // The objective is the command's, not a flag, and a file of the other kind is refused.
    #expect { _ = try RunConfig.resolve(file: nil, arguments: base + ["--objective", "pretrain"]) } throws: {
      "\($0)".contains("--objective does not apply")
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("pretrain-\(UUID()).json").path
    try TinyCorpus.config().write(to: file)
    defer { try? FileManager.default.removeItem(atPath: file) }
    #expect { _ = try RunConfig.resolve(file: file, arguments: []) } throws: {
      "\($0)".contains("is a pretrain run's configuration; use fairmed pretrain")
    }
    #expect(try RunConfig.resolve(file: file, arguments: [], objective: .pretrain) == TinyCorpus.config())
  }

  /// A manifest needs a label column to train a classifier, not to pretrain; every pair needs
  /// its caption, and a captionless one is named.
  @Test func labelsAreOptionalAndCaptionsRequiredForPretraining() throws {
    let dir = freshDirectory("pretrain-manifest")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let image = TinyCorpus.directory + "/images/ISIC_1000000.jpg"
    let rows = (0..<20).map { "\(image),\($0 == 7 ? "" : "caption \($0)"),id\($0)" }
    try (["path,text,id"] + rows).joined(separator: "\n").write(
      toFile: dir + "/m.csv", atomically: true, encoding: .utf8)
    #expect(throws: (any Error).self) { _ = try Manifest.load(file: dir + "/m.csv") }
    let unlabelled = try Manifest.load(file: dir + "/m.csv", options: LoadOptions(requireLabels: false))
    #expect(unlabelled.count == 20 && unlabelled.classNames.isEmpty)
    var c = TinyCorpus.config()
    c.data = "manifest:" + dir + "/m.csv"
    c.val = "manifest:" + dir + "/m.csv"
    #expect { _ = try TrainingData(config: c) } throws: { "\($0)".contains("sample 'id7' has no caption") }
  }
}

@Suite(.serialized, .tags(.slow))
struct PretrainingRunTests {
  /// A pretraining run selects by validation InfoNCE, and its best/ is a model folder that
  /// classification fine-tuning (`train --model`) loads and trains.
  @Test func aPretrainedFolderIsSelectedByInfoNCEAndFineTunes() throws {
    let run = TinyDerm.runDirectory("pretrain")
    defer { try? FileManager.default.removeItem(atPath: run) }
    let summary = try Trainer(
      config: TinyCorpus.config(epochs: 6), runDirectory: run,
      log: TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true)
    ).run()
    let history = summary.state.pretrainingHistory
    #expect(history.count == 6 && summary.state.history.isEmpty)
    let best = try #require(summary.state.bestEpoch)
    #expect(history[best - 1].loss == history.map(\.loss).min())
    // The validation pairs in whole chunks of the batch size.
    #expect(history.allSatisfy { $0.chunk == 32 && $0.pairs >= 64 && $0.pairs % 32 == 0 && $0.loss.isFinite })
    // It learns: validation InfoNCE falls clearly below chance among 32 candidates (ln 32).
    #expect(history.map(\.loss).min()! < Foundation.log(32.0) - 0.05, "\(history.map(\.loss))")
    let saved = try jsonObject(atPath: run + "/best/" + Trainer.pretrainingValidationFile)
    #expect((saved["epoch"] as? Double) == Double(best))
    let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    #expect(lines.filter { $0.contains("\"val_infonce\"") }.count == 6)

    var fine = TinyDerm.config(epochs: 1)
    fine.fromScratch = nil
    fine.model = run + "/best"
    let tuned = TinyDerm.runDirectory("from-pretrained")
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    let out = try Trainer(config: fine, runDirectory: tuned, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    #expect(out.state.history.count == 1 && out.state.history[0].auc != nil)
  }

  @Test func killAndResumeReachesTheSameWeightsAsAnUninterruptedRun() throws {
    let config = TinyCorpus.config(epochs: 2)
    let straight = TinyDerm.runDirectory("pre-straight"), resumed = TinyDerm.runDirectory("pre-resumed")
    defer { for d in [straight, resumed] { try? FileManager.default.removeItem(atPath: d) } }
    _ = try Trainer(config: config, runDirectory: straight, log: TrainingLog(metricsPath: nil, quiet: true)).run()
    let first = Trainer(config: config, runDirectory: resumed, log: try TrainingLog(metricsPath: nil, quiet: true))
    first.stopAfterEpochs = 1
    #expect(try first.run().state.epoch == 1)
    let summary = try Trainer(config: config, runDirectory: resumed, log: TrainingLog(metricsPath: nil, quiet: true))
      .run(resume: true)
    #expect(summary.state.epoch == 2)
    #expect(try modelBytes(straight) == modelBytes(resumed))
    #expect(try modelBytes(straight, "best") == modelBytes(resumed, "best"))
  }
}

struct CorpusTests {
  /// The corpus is balanced over the six sex × age groups and the two classes, its captions are
  /// varied, deterministic, never name a demographic, and say what the image shows.
  @Test func corpusIsBalancedVariedAndSaysNothingOfDemographics() throws {
    let config = SynthDerm.corpusConfig(count: 3000, size: 32, seed: 1000)
    let records = SynthDerm.plan(config)
    for g in DermSynthConfig.groups {
      let share = Double(records.filter { $0.group == g }.count) / Double(records.count)
      #expect(abs(share - 1.0 / 6) < 0.03, "\(g) share \(share)")
    }
    let malignant = Double(records.filter { $0.recordedLabel == 1 }.count) / Double(records.count)
    #expect(abs(malignant - 0.5) < 0.04)
    let captions = (0..<600).map { SynthDerm.caption(records, $0, config: config) }
    #expect(captions == (0..<600).map { SynthDerm.caption(records, $0, config: config) })
    #expect(Set(captions).count > 580, "\(Set(captions).count) distinct of 600")
    for word in ["female", "male", "woman", "women", " man", "year", " aged", "sex"] {
      #expect(!captions.contains { $0.lowercased().contains(word) }, "a caption says '\(word)'")
    }
    // The fundus and chest corpora: balanced, and their captions never name a demographic.
    let fundus = SynthFundus.corpusConfig(count: 3000, size: 32, seed: 1000)
    let eyes = SynthFundus.plan(fundus)
    func share(_ n: Int, of total: Int) -> Double { Double(n) / Double(total) }
    for race in 0..<3 {
      let n = eyes.filter { $0.race == race }.count
      #expect(abs(share(n, of: 3000) - 1.0 / 3) < 0.03, "race \(race): \(n)")
    }
    let glaucoma = eyes.filter { $0.glaucoma == 1 }.count
    #expect(abs(share(glaucoma, of: 3000) - 0.5) < 0.04)
    let chest = SynthChest.corpusConfig(count: 3000, size: 32, seed: 1000)
    let films = SynthChest.plan(chest)
    for g in ChestSynthConfig.groups {
      let mine = films.filter { $0.group == g }
      let portable = mine.filter(\.portable).count
      #expect(abs(share(mine.count, of: 3000) - 1.0 / 6) < 0.03, "\(g)")
      #expect(abs(share(portable, of: mine.count) - 0.3) < 0.07, "\(g) portable")
    }
    var rng = SeededRNG(seed: 0, stream: 1, 1)
    let texts =
      eyes.prefix(300).map { SynthFundus.caption($0, config: fundus) }
      + films.prefix(300).map { SynthChest.report($0, anatomy: SynthChest.anatomy($0, config: chest), rng: &rng) }
    #expect(Set(texts.prefix(300)).count > 250)
    for word in ["female", "male", "woman", "women", " man", "year", "y/o", "asian", "black", "white", "race"] {
      #expect(!texts.contains { $0.lowercased().contains(word) }, "a caption says '\(word)'")
    }
    // Subtle and obvious malignant cues in every group.
    for g in DermSynthConfig.groups {
      let cues = records.filter { $0.group == g && $0.trueLabel == 1 }.map(\.cue)
      #expect(cues.min()! < 0.3 && cues.max()! > 0.8, "\(g) cues \(cues.min()!)…\(cues.max()!)")
    }
  }
}
