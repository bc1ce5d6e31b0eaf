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
    for (json, key, near) in [(#"{"data": "d", "lamda": 0.25}"#, "lamda", "lambda"),
                              (#"{"data": "d", "batchsize": 8}"#, "batchsize", "batchSize"),
                              (#"{"data": "d", "cmac": {"sigmaa": 0.2}}"#, "cmac.sigmaa", "sigma")] {
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
    #expect(RunConfig.knownKeys.contains("lambda") && RunConfig.knownKeys.contains("cmac") && RunConfig.CMACOptions.knownKeys.contains("sigma"))
  }
}
