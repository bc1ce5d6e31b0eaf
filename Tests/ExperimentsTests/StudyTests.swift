import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import Support
import Tensor
import NN
import TestSupport
import Testing
@testable import Experiments
import Training

struct StudyTests {
  static func tinyStudy() throws -> StudyConfig {
    let json = """
      {"name": "tiny", "synth": {"kind": "derm", "train": 96, "test": 64, "external": 48, "size": 32, "seed": 1},
       "methods": ["erm", "cmac-mmd"], "lambdas": [0.5, 1], "seeds": [0], "batchSizes": [16],
       "base": {"fromScratch": "tiny", "imageSize": 32, "epochs": 1, "learningRate": 0.001, "loaderThreads": 2, "sampler": "shuffle"}}
      """
    return try JSONDecoder().decode(StudyConfig.self, from: Data(json.utf8))
  }

  /// The test and external sets are drawn with seeds 1 and 2 after the study's: the largest
  /// seed wraps around instead of trapping.
  @Test(arguments: [StudyConfig.SynthKind.derm, .fundus, .chest])
  func theLargestSynthSeedWraps(_ kind: StudyConfig.SynthKind) throws {
    var c = try Self.tinyStudy()
    c.synth = StudyConfig.SynthSpec(kind: kind, train: 24, test: 16, external: 8, size: 16, seed: .max)
    let dir = freshDirectory("seed-max")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (train, tests) = try Study(config: c, directory: dir, quiet: true).prepareData()
    #expect(!train.isEmpty && tests.count == 2)
  }

  @Test(arguments: ["synthetic-derm", "synthetic-fundus", "ham10000-to-bcn20000", "fairvlmed-glaucoma"])
  func shippedExamplesParseAndTheirBaseOptionsAreValid(_ name: String) throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "../../Examples/\(name).json"
    ).standardized.path
    let config = try StudyConfig.load(path)
    try config.validate()
    let run = try Study(config: config, directory: "/nonexistent", quiet: true).baseRunConfig(train: "ham10000:x")
    #expect(run.epochs >= 4 && run.groups == config.groups)
  }

  /// A study with `pretrained` builds the recipe's model once into the cache, fine-tunes it in
  /// every run, and scores it zero-shot at a threshold chosen on validation.
  @Test(.tags(.slow)) func aStudyFineTunesTheCachedPretrainedModelAndScoresItZeroShot() throws {
    var c = try Self.tinyStudy()
    c.methods = [.erm]
    c.lambdas = []
    c.base["fromScratch"] = nil
    var recipe = PretrainingRecipe(kind: .derm)
    (recipe.images, recipe.size, recipe.epochs, recipe.batchSize) = (200, 32, 1, 32)
    c.pretrained = recipe
    let root = freshDirectory("study-pretrained")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let cache = root + "/cache", dir = root + "/study"
    _ = try Study(config: c, directory: dir, quiet: true, cache: cache).run()
    let model = cache + "/pretrained/" + recipe.key + "/best"
    let run = try jsonObject(
      atPath: dir + "/runs/\(Study.Cell(method: .erm, lambda: nil, batchSize: 16, seed: 0).id)/run.json")
    #expect(run["model"] as? String == model && run["fromScratch"] is NSNull)
    let entryPath = cache + "/pretrained/" + recipe.key + "/recipe.json"
    var entry = try jsonObject(atPath: entryPath)
    #expect((entry["commands"] as? [String])?.count == 2)
    #expect(entry["kernels"] as? String == BLAS.kernelFamily)
    // A cache entry built with other kernels is used, and the run says so.
    entry["kernels"] = "OpenBLAS core Elsewhere, vector kernels portable"
    try JSONSerialization.data(withJSONObject: entry).write(to: URL(fileURLWithPath: entryPath))
    var said: [String] = []
    #expect(try recipe.ensure(cache: cache, log: { said.append($0) }) == model)
    #expect(said.count == 1 && said[0].contains("cached from a machine with OpenBLAS core Elsewhere"), "\(said)")
    #expect(!FileManager.default.fileExists(atPath: cache + "/pretrained/" + recipe.key + ".building"))
    let stamp =
      try FileManager.default.attributesOfItem(atPath: model + "/model.safetensors")[.modificationDate] as? Date
    #expect(try recipe.ensure(cache: cache) == model)  // cached: not rebuilt
    #expect(
      try FileManager.default.attributesOfItem(atPath: model + "/model.safetensors")[.modificationDate] as? Date
        == stamp)
    let zeroShot = try String(contentsOfFile: dir + "/zero-shot.csv", encoding: .utf8).split(separator: "\n")
    #expect(zeroShot.count == 1 + 2 * 2)  // header, internal and external at two thresholds
    let summary = try String(contentsOfFile: dir + "/summary.md", encoding: .utf8)
    #expect(summary.components(separatedBy: "| pretrained, before fine-tuning |").count - 1 == 2)  // internal, external
    c.base["fromScratch"] = .string("tiny")
    #expect { try c.validate() } throws: { "\($0)".contains("base.fromScratch: the model is the pretrained recipe's") }
    // Groups the data lacks are refused before anything is pretrained.
    c.base["fromScratch"] = nil
    c.groups = "race"
    recipe.seed = 9
    c.pretrained = recipe
    #expect { _ = try Study(config: c, directory: root + "/bad-groups", quiet: true, cache: cache).run() } throws: {
      "\($0)".contains("race")
    }
    #expect(!FileManager.default.fileExists(atPath: cache + "/pretrained/" + recipe.key))
    #expect(!FileManager.default.fileExists(atPath: cache + "/pretrained/" + recipe.key + ".building"))
  }

  /// A cached pretrained model built with other options than the recipe's run now has (a
  /// default that changed) is refused, naming the option, not used as the recipe's.
  @Test func aCachedPretrainedModelOfOtherOptionsIsRefused() throws {
    let cache = freshDirectory("pretrained-cache")
    defer { try? FileManager.default.removeItem(atPath: cache) }
    let recipe = PretrainingRecipe(kind: .derm)
    let entry = cache + "/pretrained/" + recipe.key
    try FileManager.default.createDirectory(atPath: entry + "/best", withIntermediateDirectories: true)
    try JSONEncoder().encode(PretrainingRecipe.Entry(recipe: recipe, commands: recipe.commands, kernels: nil))
      .write(to: URL(fileURLWithPath: entry + "/recipe.json"))
    var run = recipe.runConfig(corpus: "/elsewhere/corpus")
    try run.write(to: entry + "/run.json")
    #expect(try recipe.ensure(cache: cache) == entry + "/best")  // the same options: reused
    run.learningRate = 0.5
    try run.write(to: entry + "/run.json")
    #expect {
      try recipe.ensure(cache: cache)
    } throws: { "\($0)".contains("was pretrained with other options") && "\($0)".contains("--lr") }
  }

  @Test func summaryIsMeanAndSampleStdOverSeeds() {
    let s = Study.stat([0.5, 0.7, nil, 0.9])
    #expect(s.n == 3 && abs(s.mean! - 0.7) < 1e-12 && abs(s.std! - 0.2) < 1e-12)
    #expect(Study.stat([nil]).mean == nil)
  }

  @Test func badStudiesListEveryProblem() throws {
    var c = try Self.tinyStudy()
    c.methods = []
    c.seeds = []
    #expect(throws: (any Error).self) { try c.validate() }
    do { try c.validate() } catch { #expect("\(error)".contains("methods") && "\(error)".contains("seeds")) }
    // An unknown method name is refused when the study file is read.
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-study-\(UUID().uuidString).json").path
    try "{\"methods\": [\"erm\", \"magic\"], \"synth\": {\"kind\": \"derm\"}}".write(
      toFile: path, atomically: true, encoding: .utf8)
    do { _ = try StudyConfig.load(path); Issue.record("expected an error") } catch {
      #expect("\(error)".contains("magic"))
    }
  }

  /// Synthetic sizes are range-checked before anything is written (issue 24: a negative
  /// `train` was skipped, and training then failed on `data/train`, a folder the user never named).
  @Test func synthSizesOutOfRangeAreRefusedNamingTheKey() throws {
    var c = try Self.tinyStudy()
    c.synth?.train = -5
    c.synth?.test = 0
    c.synth?.external = -1
    c.synth?.size = 4
    do { try c.validate(); Issue.record("expected an error") } catch {
      let text = "\(error)"
      #expect(text.contains("synth.train must be in 1…10000000 images, got -5"), "\(text)")
      #expect(text.contains("synth.test must be in 1…10000000 images, got 0"), "\(text)")
      #expect(text.contains("synth.external must be in 0…10000000 images (0: no external test set), got -1"), "\(text)")
      #expect(text.contains("synth.size must be in 8…4096 pixels for derm, got 4"), "\(text)")
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-study-neg-\(UUID().uuidString)")
      .path
    #expect(throws: (any Error).self) { try Study(config: c, directory: dir, quiet: true).run() }
    #expect(!FileManager.default.fileExists(atPath: dir))
  }

  /// The folder rule of `experiment` and `demo`: a non-empty folder needs --resume (of a study)
  /// or --overwrite (which removes what a study wrote, and nothing else).
  @Test func aStudyFolderIsContinuedOrReplacedOnlyWhenAsked() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-study-folder-\(UUID().uuidString)")
      .path
    try Study.prepareFolder(dir, resume: false, overwrite: false)  // new: fine
    try FileManager.default.createDirectory(atPath: dir + "/runs/x", withIntermediateDirectories: true)
    try "mine".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
    #expect(throws: (any Error).self) { try Study.prepareFolder(dir, resume: false, overwrite: false) }
    #expect(throws: (any Error).self) { try Study.prepareFolder(dir, resume: true, overwrite: true) }
    try Study.prepareFolder(dir, resume: true, overwrite: false)
    try Study.prepareFolder(dir, resume: false, overwrite: true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["notes.txt"])
    do {
      try Study.prepareFolder(dir, resume: true, overwrite: false); Issue.record("resumed a folder without a study")
    } catch {
      #expect(
        "\(error)".contains("holds no FairMed study to resume") && "\(error)".contains("drop --resume"), "\(error)")
    }
  }

  @Test func badVariantsAndPerMethodLambdasAreRefusedNamingThem() throws {
    var c = try Self.tinyStudy()
    c.variants = [.init(name: "a"), .init(name: "a"), .init(name: "b", baseline: "nowhere")]
    c.methodLambdas = ["erm": [1], "dann": [.nan]]
    do { try c.validate(); Issue.record("expected an error") } catch {
      let text = "\(error)"
      #expect(text.contains("variant names must be distinct") && text.contains("baseline 'nowhere'"), "\(text)")
      #expect(
        text.contains("methodLambdas: 'erm' is not a method with a λ") && text.contains("methodLambdas.dann"), "\(text)"
      )
    }
    // Variant options merge over the base key by key, and give each cell its own id.
    c.variants = [
      .init(name: "pairs", options: ["cmac": .object([("comparison", .string("pairs"))])], methods: [.cmacMMD])
    ]
    c.methodLambdas = ["cmac-mmd": [2]]
    c.base["cmac"] = .object([("conditioning", .string("none"))])
    let study = Study(config: c, directory: "/nonexistent", quiet: true)
    #expect(study.cells.map(\.id) == ["cmac-mmd-pairs-l2-b16-s0"])
    let run = try study.baseRunConfig(train: "ham10000:x", variant: "pairs")
    #expect(run.cmac.comparison == .pairs && run.cmac.conditioning == CMACMMD.Conditioning.none)
  }
}

/// Studies that train their cells (slow: `Scripts/test --fast` skips them).
@Suite(.tags(.slow)) struct StudyRunTests {
  @Test func gridRunsWritesTablesAndResumesWithoutRerunningDoneCells() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-study-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let study = Study(config: try StudyTests.tinyStudy(), directory: dir, quiet: true)
    #expect(study.cells.map(\.id) == ["erm-b16-s0", "cmac-mmd-l0.5-b16-s0", "cmac-mmd-l1-b16-s0"])
    let results = try study.run()
    #expect(results.count == 12)  // 3 cells × (internal, external) × (validation threshold, 0.5)
    #expect(study.trainedCells.count == 3)
    let csv = try String(contentsOfFile: dir + "/results.csv", encoding: .utf8).split(separator: "\n")
    #expect(csv.count == 13)
    #expect(
      csv[0].hasPrefix(
        "method,variant,lambda,selected_lambda,seed,batch_size,split,threshold,threshold_value,n,auc,acc,tpr,delta_tpr,deodds,dpd,es_auc,worst_group,worst_group_tpr"
      ))
    // Each run's validation threshold is the one saved with its model; 0.5 is reported beside it.
    for r in results where r.threshold == .validation {
      let saved = try #require(
        try DecisionThreshold.load(
          modelDirectory:
            "\(dir)/runs/\(Study.Cell(method: r.method, lambda: r.lambda, batchSize: r.batchSize, seed: r.seed).id)"))
      #expect(r.metrics.threshold == saved.value)
    }
    #expect(results.filter { $0.threshold == .half }.allSatisfy { $0.metrics.threshold == 0.5 })
    let md = try String(contentsOfFile: dir + "/summary.md", encoding: .utf8)
    let tableRows = md.split(separator: "\n").filter { $0.hasPrefix("| erm |") || $0.hasPrefix("| cmac-mmd |") }
    #expect(tableRows.count == 12)
    #expect(tableRows[0].contains("| internal | validation (Youden) |") && tableRows[1].contains("| internal | 0.5 |"))
    // The paired comparison against ERM: one row per λ, split and threshold.
    #expect(md.split(separator: "\n").filter { $0.hasPrefix("| cmac-mmd λ=") }.count == 8)
    #expect(
      try String(contentsOfFile: dir + "/comparisons.csv", encoding: .utf8).split(separator: "\n").count == 1 + 8 * 3)
    #expect(try String(contentsOfFile: dir + "/summary.tex", encoding: .utf8).contains("\\begin{tabular}"))
    // The HTML report and its standalone figures are well-formed XML.
    let page = try Data(contentsOf: URL(fileURLWithPath: dir + "/report.html"))
    #expect(XMLParser(data: page).parse())
    let figures = try FileManager.default.contentsOfDirectory(atPath: dir + "/figures").filter { $0.hasSuffix(".svg") }
      .sorted()
    #expect(
      figures == [
        "batch_size.svg", "certainty_kde.svg", "frontier.svg", "group_tpr.svg", "training_loss.svg",
        "validation_auc.svg",
      ])
    for f in figures {
      #expect(XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: dir + "/figures/" + f))).parse(), "\(f)")
    }

    // Every run's predictions on every test set have a full audit at its validation threshold,
    // with default intervals and its provenance, linked from the report.
    let pageText = String(decoding: page, as: UTF8.self)
    for r in results {
      guard r.threshold == .validation else {
        #expect(r.audit == nil)
        continue
      }
      let folder = try #require(r.audit)
      let json = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(folder)/audit.json")))
          as? [String: Any])
      let threshold = try #require(json["threshold"] as? [String: Any])
      let value = threshold["value"].flatMap(jsonDouble)
      #expect(value == r.metrics.threshold && threshold["rule"] as? String == "model", "\(threshold)")
      let recalibration = try #require(json["recalibration"] as? [String: Any])
      let temperature = try #require(recalibration["temperature_scaling"] as? [String: Any])
      // Fitted on the run's validation predictions (this tiny model may rank them worse than
      // chance, and then the diagnostic gives its reason instead of a temperature).
      #expect(temperature["fitted_on"] is String, "no temperature diagnostic on the run's validation: \(temperature)")
      #expect(temperature["temperature"] is Double || temperature["reason"] is String)
      let settings = try #require(json["settings"] as? [String: Any])
      #expect((settings["bootstrap"] as? [String: Any])?["replicates"] as? Int == 1000)
      #expect(json["provenance"] is [String: Any])
      #expect(FileManager.default.fileExists(atPath: "\(dir)/\(folder)/audit.html"))
      #expect(pageText.contains("<a href=\"\(folder)/audit.html\">"), "\(folder) not linked")
    }

    let again = Study(config: try StudyTests.tinyStudy(), directory: dir, quiet: true)
    let second = try again.run()
    #expect(again.trainedCells.isEmpty)
    #expect(second.map(\.metrics) == results.map(\.metrics))

    // A study folder moved elsewhere keeps its finished cells (its data moved with it).
    let moved = dir + "-moved"
    try FileManager.default.moveItem(atPath: dir, toPath: moved)
    defer { try? FileManager.default.moveItem(atPath: moved, toPath: dir) }
    let there = Study(config: try StudyTests.tinyStudy(), directory: moved, quiet: true)
    #expect(try there.run().map(\.metrics) == results.map(\.metrics))
    #expect(there.trainedCells.isEmpty)
    try FileManager.default.moveItem(atPath: moved, toPath: dir)

    // A finished cell is not kept when the study file now gives it other options, nor data
    // generated from another synth: each is refused, naming what changed.
    var changed = try StudyTests.tinyStudy()
    changed.base["epochs"] = .number(2)
    #expect {
      try Study(config: changed, directory: dir, quiet: true).run()
    } throws: {
      "\($0)".contains("runs/erm-b16-s0 finished with other options") && "\($0)".contains("--epochs (1 → 2)")
    }
    var otherData = try StudyTests.tinyStudy()
    otherData.synth?.train = 80
    #expect {
      try Study(config: otherData, directory: dir, quiet: true).run()
    } throws: { "\($0)".contains("data/synth.json") && "\($0)".contains("another synth") }
  }

  @Test func imageFrozenCellsShareOneFeatureCachePerSeed() throws {
    var config = try StudyTests.tinyStudy()
    config.synth?.external = 0
    config.lambdas = [0.5]
    config.base["mode"] = .string("image-frozen")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-study-cache-\(UUID().uuidString)")
      .path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let study = Study(config: config, directory: dir, quiet: true)
    _ = try study.run()
    #expect(study.trainedCells.count == 2)
    #expect(FileManager.default.fileExists(atPath: dir + "/feature_cache/s0/0.safetensors"))
    for cell in study.cells { #expect(!FileManager.default.fileExists(atPath: "\(dir)/runs/\(cell.id)/feature_cache")) }
    // The cache carries the key of what its features depend on.
    let file = try SafetensorsFile(path: dir + "/feature_cache/s0/0.safetensors")
    #expect(file.metadata["fairmed_feature_key"]?.count == 64)
  }

  /// `--overwrite` never removes a study's own inputs kept in its folder.
  @Test func overwriteSparesAStudysInputsInItsFolder() throws {
    let dir = freshDirectory("study-inputs")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let json = """
      {"data": "ham10000:\(dir)/data/ham", "test": "ham10000:\(dir)/data/ham", "methods": ["erm"],
       "base": {"fromScratch": "tiny"}}
      """
    let study = Study(config: try JSONDecoder().decode(StudyConfig.self, from: Data(json.utf8)), directory: dir)
    #expect {
      try study.checkOverwriteSparesInputs()
    } throws: { "\($0)".contains("--overwrite would remove \(dir)/data, which holds the study's data") }
    var synthetic = try StudyTests.tinyStudy()
    synthetic.base["fromScratch"] = .string("tiny")
    try Study(config: synthetic, directory: dir).checkOverwriteSparesInputs()  // its data/ is its own output
  }
}

@Suite struct EngineDemoTests {
  @Test func demoLearnsXORAndIsDeterministic() throws {
    var losses: [Float] = []
    let a = try EngineDemo.run(seed: 3, steps: 300, learningRate: 0.5) { losses.append($1) }
    let b = try EngineDemo.run(seed: 3, steps: 300, learningRate: 0.5) { _, _ in }
    #expect(a.accuracy > 0.9 && a.finalLoss < losses[0])
    #expect(a.finalLoss == b.finalLoss && a.accuracy == b.accuracy)
  }
}

/// A study file's misspelled keys, at the top, in `synth`, in `base` or in a variant's options,
/// are refused before anything runs, each named with its path and the nearest known key.
@Suite struct StudyStrictKeyTests {
  func write(_ json: String) throws -> String {
    let path = NSTemporaryDirectory() + "fairmed-study-\(UUID().uuidString).json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func misspelledStudyKeysAreRefused() throws {
    let top = try write(#"{"methods": ["erm"], "seed": [0], "synth": {"kind": "derm"}}"#)
    #expect { _ = try StudyConfig.load(top) } throws: {
      "\($0)".contains("key 'seed'") && "\($0)".contains("did you mean 'seeds'")
    }
    let synth = try write(#"{"methods": ["erm"], "synth": {"kind": "derm", "trian": 10}}"#)
    #expect { _ = try StudyConfig.load(synth) } throws: {
      "\($0)".contains("synth.trian") && "\($0)".contains("did you mean 'train'")
    }
    let options = try write(
      #"""
      {"methods": ["erm"], "synth": {"kind": "derm"}, "base": {"epoch": 2},
       "variants": [{"name": "v", "options": {"cmac": {"sigmaa": 0.2}, "sampler": "balanced"}}]}
      """#)
    let config = try StudyConfig.load(options)
    #expect { try config.validate() } throws: {
      "\($0)".contains("base.epoch: unknown key 'epoch' (did you mean 'epochs'?)")
        && "\($0)".contains("variants[v].options.cmac.sigmaa: unknown key 'sigmaa' (did you mean 'sigma'?)")
    }
    for p in [top, synth, options] { try? FileManager.default.removeItem(atPath: p) }
  }

  /// A variant may set a numeric list (the λ path); a list mixing strings and numbers is refused.
  @Test func aVariantMaySetTheLambdaPath() throws {
    let wide = try write(
      #"{"methods": ["cmac-mmd"], "synth": {"kind": "derm"}, "variants": [{"name": "wide", "options": {"lambdaPath": [0, 0.1, 1, 4]}}]}"#
    )
    let config = try StudyConfig.load(wide)
    try config.validate()
    let run = try Study(config: config, directory: "/nonexistent", quiet: true).baseRunConfig(
      train: "ham10000:x", variant: "wide")
    #expect(run.lambdaPath == [0, 0.1, 1, 4])
    let mixed = try write(
      #"{"methods": ["cmac-mmd"], "synth": {"kind": "derm"}, "variants": [{"name": "m", "options": {"lambdaPath": [0, "1"]}}]}"#
    )
    #expect { _ = try StudyConfig.load(mixed) } throws: {
      "\($0)".contains("'lambdaPath' must be a list of strings or a list of numbers")
    }
    for p in [wide, mixed] { try? FileManager.default.removeItem(atPath: p) }
  }

  /// Every variant's options are checked as `fairmed train` checks them before the first cell
  /// trains, each problem named with its variant.
  @Test func aBadVariantIsRefusedBeforeAnyCellTrains() throws {
    var c = try StudyTests.tinyStudy()
    c.lambdas = []  // λ chosen on validation, so the λ path is used
    c.variants = [
      .init(name: "fine"),
      .init(name: "no-zero", options: ["lambdaPath": .array([.number(0.1), .number(1)])], methods: [.cmacMMD]),
      .init(name: "no-epochs", options: ["epochs": .number(0)]),
    ]
    let dir = freshDirectory("study-bad-variant")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect { _ = try Study(config: c, directory: dir, quiet: true).run() } throws: {
      let text = "\($0)"
      return text.contains("variants[no-zero].options: --lambda-path must be") && text.contains("including 0")
        && text.contains("variants[no-epochs].options: --epochs must be") && !text.contains("variants[fine]")
    }
    #expect(
      !FileManager.default.fileExists(atPath: dir + "/runs") && !FileManager.default.fileExists(atPath: dir + "/data"))
    // A resumed study checks only the cells still to train: finished ones are not refused again
    // (`--overwrite`, which removes them, checks them all).
    let study = Study(config: c, directory: dir, quiet: true)
    for cell in study.cells where cell.variant != "fine" {
      try FileManager.default.createDirectory(atPath: "\(dir)/runs/\(cell.id)", withIntermediateDirectories: true)
      try Data("[]".utf8).write(to: URL(fileURLWithPath: "\(dir)/runs/\(cell.id)/result.json"))
    }
    try study.validate(skippingFinished: true)
    #expect(throws: (any Error).self) { try study.validate(skippingFinished: false) }
  }

  /// A problem of the base options is named once, as the base's; a value of the wrong type is
  /// named by its key; a λ path no run would use is refused.
  @Test func studyOptionProblemsAreNamedWhereTheyAre() throws {
    var c = try StudyTests.tinyStudy()
    c.base["epochs"] = .number(0)
    c.variants = [.init(name: "a"), .init(name: "b", options: ["learningRate": .number(0.01)])]
    let dir = NSTemporaryDirectory()
    #expect { try Study(config: c, directory: dir, quiet: true).validate(skippingFinished: false) } throws: {
      let text = "\($0)"
      return text.components(separatedBy: "--epochs must be").count == 2 && text.contains("base: --epochs must be")
    }
    c.base["epochs"] = nil
    c.variants = [.init(name: "a"), .init(name: "b", options: ["prompts": .array([.number(1), .number(2)])])]
    #expect { try Study(config: c, directory: dir, quiet: true).validate(skippingFinished: false) } throws: {
      "\($0)".contains("variants[b].options: not a valid run config: key 'prompts")
    }
    c.variants = [.init(name: "erm-only", options: ["lambdaPath": .array([.number(0), .number(1)])], methods: [.erm])]
    #expect { try c.validate() } throws: {
      "\($0)".contains("variants[erm-only].options.lambdaPath: no run chooses λ on validation there")
    }
  }

  /// The committed studies' options are valid for every variant and method (bf16 aside where this
  /// machine or build lacks it: that is the machine's answer, not the file's).
  @Test func committedStudiesHaveValidRunOptions() throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Studies")
      .standardized.path
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
    #expect(names.count >= 20)
    for name in names.sorted() {
      let config = try StudyConfig.load(folder + "/" + name)
      try config.validate()
      do {
        try Study(config: config, directory: NSTemporaryDirectory(), quiet: true).validate(skippingFinished: false)
      } catch TrainingError.invalidConfig(let problems) {
        let fileProblems = problems.filter { !$0.contains("--precision bf16 needs") }
        #expect(fileProblems.isEmpty, "\(name): \(fileProblems)")
      }
    }
  }
}
