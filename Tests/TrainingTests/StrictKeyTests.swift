import Foundation
import Testing
import Training

/// A misspelled key in a run.json used to be dropped silently (the option kept its default):
/// every key must be an option, and the error names the nearest one.
@Suite struct StrictKeyTests {
  func load(_ json: String) throws -> RunConfig {
    let path = NSTemporaryDirectory() + "fairmed-run-\(UUID().uuidString).json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try RunConfig.load(path)
  }

  @Test func aMisspelledOptionIsRefusedNamingTheNearestKey() throws {
    #expect(try load(#"{"data": "manifest:x.csv", "lambda": 0.25, "cmac": {"sigma": 0.2}}"#).lambda == 0.25)
    for (json, key, near) in [
      (#"{"data": "d", "lamda": 0.25}"#, "lamda", "lambda"),
      (#"{"data": "d", "batchsize": 8}"#, "batchsize", "batchSize"),
      (#"{"data": "d", "cmac": {"sigmaa": 0.2}}"#, "cmac.sigmaa", "sigma"),
    ] {
      do {
        _ = try load(json)
        Issue.record("\(key) was accepted")
      } catch let e as TrainingError {
        #expect(e.description.contains("key '\(key)'") && e.description.contains("did you mean '\(near)'"), "\(e)")
      }
    }
  }

  @Test func aWrittenRunConfigHoldsOnlyKnownKeysAndReadsBack() throws {
    var c = RunConfig(data: "manifest:x.csv")
    c.model = "m"
    c.prompts = ["a", "b"]
    c.loraRank = 4
    let path = NSTemporaryDirectory() + "fairmed-run-\(UUID().uuidString).json"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try c.write(to: path)
    #expect(try RunConfig.load(path) == c)
    #expect(
      RunConfig.knownKeys.contains("lambda") && RunConfig.knownKeys.contains("cmac")
        && RunConfig.CMACOptions.knownKeys.contains("sigma"))
  }
}

/// Every training option is declared once (`@Setting` on RunConfig): the flag, the run.json key,
/// the help, the default and the range check all come from that line.
@Suite struct SettingFlagTests {
  @Test func flagsAreLaidOverTheConfigFileAndTheDefaults() throws {
    let path = NSTemporaryDirectory() + "fairmed-run-\(UUID().uuidString).json"
    try #"{"data": "manifest:a.csv", "epochs": 3, "cmac": {"sigma": 0.3}}"#.write(
      toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let c = try RunConfig.resolve(
      file: path,
      arguments: [
        "--epochs", "5", "--cmac-comparison", "pairs", "--no-augment", "--prompts", "benign", "a malignant lesion",
        "--lora-targets", "qkv, query", "--lr=0.002", "--lambda", "0.25", "--from-scratch", "tiny",
      ])
    #expect(c.data == "manifest:a.csv" && c.epochs == 5 && c.cmac.sigma == 0.3 && c.cmac.comparison == .pairs)
    #expect(!c.augment && c.prompts == ["benign", "a malignant lesion"] && c.loraTargets == ["qkv", "query"])
    #expect(c.learningRate == 0.002 && c.lambda == 0.25 && c.fromScratch == .tiny)
    #expect(c.batchSize == RunConfig.defaults.batchSize && c.cmac.estimator == RunConfig.defaults.cmac.estimator)
  }

  @Test(arguments: [
    (["--epoch", "3"], "unknown option '--epoch' (did you mean '--epochs'?)"),
    (["--epochs", "many"], "--epochs: 'many' is not an integer"),
    (["--epochs", "0"], "--epochs must be in 1…10000, got 0"),
    (["--lambda", "nan"], "--lambda must be a finite number in 0…1000, got nan"),
    (["--method", "magic"], "--method: 'magic' is not one of erm, cmac-mmd"),
    (["--batch-size"], "--batch-size needs a value"),
    (["--merge=yes"], "--merge takes no value"),
    (["stray"], "unexpected argument 'stray'"),
  ])
  func badFlagsAreRefusedNamingTheFlag(_ arguments: [String], _ message: String) throws {
    do {
      _ = try RunConfig.resolve(file: nil, arguments: ["--data", "d"] + arguments)
      Issue.record("\(arguments) was accepted")
    } catch let e as TrainingError {
      #expect(e.description.contains(message), "\(e)")
    }
  }

  /// Flags go through JSON on their way into RunConfig: a 64-bit seed must survive it exactly.
  @Test func seedsAboveDoublePrecisionSurviveTheJSONOverlay() throws {
    for seed in [UInt64(9_007_199_254_740_993), UInt64.max] {
      #expect(try RunConfig.resolve(file: nil, arguments: ["--data", "d", "--seed", "\(seed)"]).seed == seed)
    }
  }

  @Test func everySettingHasAFlagAKeyAndHelpOnce() {
    let entries = RunConfig.settingEntries
    #expect(Set(entries.map(\.flag)).count == entries.count)
    #expect(entries.allSatisfy { !$0.help.isEmpty })
    #expect(entries.contains { $0.flag == "cmac-sigma" && $0.path == ["cmac", "sigma"] })
    #expect(entries.contains { $0.flag == "lr" && $0.path == ["learningRate"] })
    #expect(RunConfig.defaults.settingProblems().isEmpty)
  }
}
