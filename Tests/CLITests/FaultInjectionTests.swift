import Foundation
import TestSupport
import Testing

/// The fault-injection suite's folder, removed after the suite.
let faultInjectionRoot = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)")
  .path

/// kill -9 at chosen points of `train`, `audit` and `experiment` (inside checkpoint and output
/// writes through `FAIRMED_KILL_AT`, and at moments spread over the run), then resume or rerun: the
/// weights are byte-identical to an uninterrupted run, no output mixes old and new files, no
/// staging folder is left behind and no step is logged twice.
@Suite(.serialized, .tags(.slow), .removingFolder(faultInjectionRoot)) struct FaultInjectionTests {
  static let root = faultInjectionRoot

  /// Runs `fairmed` with extra environment; returns (exit status, killed by a signal, output).
  static func run(_ args: [String], env: [String: String] = [:], killAfter seconds: Double? = nil) throws -> (
    Int32, Bool, String
  ) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLITests.binary)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(["FAIRMED_NUM_THREADS": "1"].merging(env) { $1 }) { $1 }
    let out = FileHandle(forWritingAtPath: "/dev/null")
    p.standardOutput = out
    p.standardError = out
    try p.run()
    if let seconds {
      Thread.sleep(forTimeInterval: seconds)
      if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }
    p.waitUntilExit()
    return (p.terminationStatus, p.terminationReason == .uncaughtSignal, "")
  }

  static let data: String = {
    let dir = root + "/derm"
    _ = try? run(["synth", "derm", "--n", "240", "--size", "32", "--seed", "4", "--out", dir])
    return "ham10000:" + dir
  }()

  static func trainArgs(_ out: String) -> [String] {
    [
      "train", "--data", data, "--from-scratch", "tiny", "--image-size", "32", "--epochs", "3", "--batch-size", "32",
      "--lr", "1e-3", "--method", "cmac-mmd", "--lambda", "1", "--sampler", "balanced-cells", "--seed", "2",
      "--log-every", "1", "--out",
      out,
    ]
  }

  static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

  static func leftovers(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".") }
  }

  static func steps(_ run: String) -> [Int] {
    let text = (try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap {
      let r = try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      return r?["kind"] as? String == "step" ? r?["step"] as? Int : nil
    }
  }

  /// Resumes until the run completes (a kill before run.json exists leaves nothing to resume,
  /// and `--resume` of such a folder is refused: it starts again without it).
  static func finish(_ out: String) throws {
    for _ in 0..<4 {
      let resume = FileManager.default.fileExists(atPath: out + "/run.json") ? ["--resume"] : []
      let (status, crashed, _) = try run(trainArgs(out) + resume)
      if status == 0 && !crashed { return }
    }
    Issue.record("\(out) did not finish after resuming")
  }

  @Test func killedTrainingResumesToTheSameWeights() throws {
    let reference = Self.root + "/train-ref"
    let start = Date()
    #expect(try Self.run(Self.trainArgs(reference)).0 == 0)
    let duration = Date().timeIntervalSince(start)
    let refModel = try #require(Self.bytes(reference + "/checkpoint/model.safetensors"))
    let refBest = Self.bytes(reference + "/best/model.safetensors")
    let refSteps = Self.steps(reference)
    // Deterministic kills inside the writes of checkpoint/ and best/, then moments spread over the run.
    var kills: [(String, [String: String], Double?)] = [
      ("filled-1", ["FAIRMED_KILL_AT": "directory.filled:1"], nil),
      ("filled-2", ["FAIRMED_KILL_AT": "directory.filled:2"], nil),
      ("aside-2", ["FAIRMED_KILL_AT": "directory.moved-aside:2"], nil),
      ("aside-3", ["FAIRMED_KILL_AT": "directory.moved-aside:3"], nil),
      ("file-5", ["FAIRMED_KILL_AT": "file.written:5"], nil),
      ("file-12", ["FAIRMED_KILL_AT": "file.written:12"], nil),
    ]
    for k in 0..<6 { kills.append(("time-\(k)", [:], duration * (0.1 + 0.15 * Double(k)))) }
    for (name, env, delay) in kills {
      let out = Self.root + "/train-\(name)"
      let (_, crashed, _) = try Self.run(Self.trainArgs(out), env: env, killAfter: delay)
      if !env.isEmpty { #expect(crashed, "\(name): the kill point was never reached") }
      try Self.finish(out)
      #expect(Self.bytes(out + "/checkpoint/model.safetensors") == refModel, "\(name): resumed weights differ")
      #expect(Self.bytes(out + "/best/model.safetensors") == refBest, "\(name): best/ differs")
      #expect(
        Self.steps(out) == refSteps,
        "\(name): the log has \(Self.steps(out).count) steps, want \(refSteps.count) once each")
      #expect(Self.leftovers(out).isEmpty, "\(name): left \(Self.leftovers(out))")
    }
  }

  @Test func killedAuditNeverMixesOldAndNewFiles() throws {
    let dir = Self.root + "/audit"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var rows = ["label,prob,sex"]
    for i in 0..<200 { rows.append("\(i % 3 == 0 ? 1 : 0),\(Double(i % 10) / 10),\(i % 2 == 0 ? "female" : "male")") }
    try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
    let out = dir + "/out"
    func audit(_ threshold: String, env: [String: String] = [:]) throws -> Bool {
      try Self.run(
        [
          "audit", "--predictions", dir + "/p.csv", "--groups", "sex", "--threshold", threshold, "--out", out,
          "--overwrite",
        ], env: env
      ).1
    }
    #expect(try !audit("0.5"))
    let old = try FileManager.default.contentsOfDirectory(atPath: out).sorted().map { Self.bytes(out + "/" + $0) }
    for point in ["file.written:2", "directory.filled:1", "directory.moved-aside:1"] {
      #expect(try audit("0.3", env: ["FAIRMED_KILL_AT": point]), "\(point) never reached")
      // What a reader sees now is the old audit, whole (or, mid-swap, nothing until the next run).
      if FileManager.default.fileExists(atPath: out) {
        #expect(
          try FileManager.default.contentsOfDirectory(atPath: out).sorted().map { Self.bytes(out + "/" + $0) } == old,
          "\(point): mixed files")
      }
    }
    #expect(try !audit("0.3"))
    #expect(Self.leftovers(dir).isEmpty, "left \(Self.leftovers(dir))")
    let json = try String(contentsOfFile: out + "/audit.json", encoding: .utf8)
    #expect(json.contains("0.3") && FileManager.default.fileExists(atPath: out + "/groups.csv"))
  }

  @Test func killedStudyRerunsToTheSameResults() throws {
    let config = Self.root + "/study.json"
    try
      #"{"name": "faults", "methods": ["erm"], "seeds": [0], "batchSizes": [32], "synth": {"kind": "derm", "train": 300, "test": 200, "external": 0, "size": 32}, "base": {"fromScratch": "tiny", "imageSize": 32, "epochs": 2, "learningRate": 0.001}}"#
      .write(toFile: config, atomically: true, encoding: .utf8)
    let reference = Self.root + "/study-ref", killed = Self.root + "/study-killed"
    #expect(try Self.run(["experiment", "--config", config, "--out", reference]).0 == 0)
    #expect(
      try Self.run(["experiment", "--config", config, "--out", killed], env: ["FAIRMED_KILL_AT": "directory.filled:2"])
        .1)
    #expect(try Self.run(["experiment", "--config", config, "--out", killed, "--resume"]).0 == 0)
    #expect(
      Self.bytes(killed + "/results.csv").map { String(decoding: $0, as: UTF8.self) }?.replacingOccurrences(
        of: killed, with: "")
        == Self.bytes(reference + "/results.csv").map { String(decoding: $0, as: UTF8.self) }?.replacingOccurrences(
          of: reference, with: ""))
  }
}
