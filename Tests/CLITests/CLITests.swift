import Foundation
import NN
import TestSupport
import Testing

/// The real `fairmed` binary, run as a user runs it: exit status, what it prints, what it writes.
@Suite struct CLITests {
  struct Outcome {
    let status: Int32
    let output: String
    /// Ended by a signal (a trap, a segfault, an abort), not by exiting.
    let crashed: Bool
  }

  static let binary = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("fairmed").path
  /// A tiny CLIP folder, its manifest and images (TrainingTests' fixture).
  static let fixtures = URL(fileURLWithPath: fixturePath("hf_processor", of: "TrainingTests"))

  /// `fairmed ARGS`, with `env` added to this process's environment.
  static func run(_ arguments: [String], env: [String: String] = [:]) throws -> Outcome {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    if !env.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Outcome(
      status: p.terminationStatus, output: String(decoding: data, as: UTF8.self),
      crashed: p.terminationReason == .uncaughtSignal)
  }

  /// A small predictions file in the audit's default layout (the columns `fairmed predict` writes).
  static func predictionsCSV() throws -> String {
    var lines = ["label,prob,sex,age"]
    for i in 0..<80 {
      lines.append("\(i % 3 == 0 ? 1 : 0),\(Double(i % 10) / 10),\(i % 2 == 0 ? "female" : "male"),\(20 + i)")
    }
    let path = freshDirectory("cli-preds") + "/preds.csv"
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func helpShowsEveryDefaultAndTheChoices() throws {
    let r = try Self.run(["train", "--help"])
    #expect(r.status == 0)
    // Help text wraps at the terminal width: compare with every run of whitespace as one space.
    let flat = r.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    for text in [
      "(default: 10)", "(default: 64)", "1e-3 from scratch", "(default: 1.0)", "cmac-mmd", "balanced-cells",
      "image-frozen", "pooled-detached", "lift", "(default: youden)", "val-worst-tpr",
    ] {
      #expect(flat.contains(text), "train --help lacks \(text)")
    }
    // Each default is shown once.
    #expect(
      !flat.contains("(default: 10). (default: 10)")
        && flat.components(separatedBy: "--epochs <epochs> Epochs. (default: 10)").count == 2)
  }

  /// `fairmed pretrain` end to end: a corpus, one epoch, a folder `train --model` takes; its
  /// help lists only pretraining options; a classification flag and `train --resume` of its
  /// folder are refused by name.
  @Test(.tags(.slow)) func pretrainRunsFromACorpusAndRefusesWhatDoesNotApply() throws {
    let root = freshDirectory("cli-pretrain")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let corpus = root + "/corpus", run = root + "/run"
    let synth = try Self.run([
      "synth", "fundus", "--corpus", "--n", "120", "--size", "32", "--seed", "1000", "--out", corpus,
    ])
    #expect(synth.status == 0 && synth.output.contains("corpus of 120 captioned images"), "\(synth.output)")
    let args = [
      "pretrain", "--data", "manifest:\(corpus)/corpus.csv", "--from-scratch", "tiny", "--image-size", "32",
      "--epochs", "1", "--batch-size", "16", "--out", run,
    ]
    let r = try Self.run(args)
    #expect(r.status == 0 && r.output.contains("selected epoch 1 by validation InfoNCE"), "\(r.output)")
    #expect(FileManager.default.fileExists(atPath: run + "/best/model.safetensors"))
    let refused = try Self.run(args + ["--method", "erm", "--overwrite"])
    #expect(
      refused.status != 0 && refused.output.contains("--method does not apply to pretraining"), "\(refused.output)")
    let resumed = try Self.run(["train", "--resume", "--out", run])
    #expect(resumed.status != 0 && resumed.output.contains("use fairmed pretrain"), "\(resumed.output)")
    let help = try Self.run(["pretrain", "--help"])
    let flat = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(
      help.status == 0 && flat.contains("--batch-size") && flat.contains("--open-clip") && !flat.contains("--lambda"))
  }

  @Test func unknownChoicesAreRefusedNamingTheValidOnes() throws {
    let r = try Self.run([
      "train", "--data", "manifest:x.csv", "--from-scratch", "tiny", "--method", "magic", "--out", "/tmp/never",
    ])
    #expect(r.status != 0 && r.output.contains("magic") && r.output.contains("cmac-mmd"))
    #expect(!FileManager.default.fileExists(atPath: "/tmp/never"))
  }

  @Test(arguments: [
    (["--label", "prob"], "both --label and --score"),
    (["--margin", "label"], "both --label and --margin"),
    (["--ece-bins", "0"], "--ece-bins must be in 1…1000"),
    (["--ece-bins=-3"], "--ece-bins must be in 1…1000"),
    (["--permutations=-1"], "--permutations must be in 0…100000"),
    (["--bootstrap", "1000000000"], "--bootstrap must be in 0…100000"),
    (["--bootstrap=-5"], "--bootstrap must be in 0…100000"),
    (["--min-group-size=-3"], "--min-group-size must be ≥ 1"),
    (["--min-cell-count=-1"], "--min-cell-count must be in 1…1000000000 (0 on the command line: off), got -1"),
    (["--bootstrap-metrics", "some"], "bootstrap-metrics"),
    (["--mmd-sigma", "0"], "--mmd-sigma must be a finite number > 0"),
    (["--delta", "nan"], "--delta must be a finite number"),
    (["--groups", "sex,age:<50,40-59,>=30"], "overlap"),
  ])
  func auditRefusesBadOptions(_ extra: [String], _ message: String) throws {
    let out = freshDirectory("cli-audit") + "/out"
    var args = [
      "audit", "--predictions", try Self.predictionsCSV(), "--groups", "sex,age:<40,40-59,>=60", "--out", out,
    ]
    args += extra
    let r = try Self.run(args)
    #expect(r.status != 0, "\(extra) was accepted")
    #expect(r.output.contains(message), "\(extra): \(r.output)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test func auditWritesItsFolder() throws {
    let out = freshDirectory("cli-audit-ok") + "/out"
    let r = try Self.run([
      "audit", "--predictions", try Self.predictionsCSV(), "--groups", "sex,age:40:60", "--out", out,
    ])
    #expect(r.status == 0, "\(r.output)")
    for f in ["audit.json", "groups.csv", "audit.md", "audit.html"] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + f))
    }
  }

  @Test func encodeKeepsOneRowPerLineBlankLinesIncluded() throws {
    let dir = freshDirectory("cli-encode")
    try "a benign lesion\n\na malignant lesion\n".write(toFile: dir + "/texts.txt", atomically: true, encoding: .utf8)
    let r = try Self.run([
      "encode", "--model", Self.fixtures.appendingPathComponent("model").path, "--texts", dir + "/texts.txt",
      "--out", dir + "/f.safetensors",
    ])
    #expect(r.status == 0, "\(r.output)")
    let f = try SafetensorsFile(path: dir + "/f.safetensors")
    #expect(try f.tensor("features").shape[0] == 3 && f.tensor("input_ids").shape[0] == 3)
  }

  @Test func zeroShotWritesThePredictSchema() throws {
    let dir = freshDirectory("cli-zs")
    let r = try Self.run([
      "zero-shot", "--model", Self.fixtures.appendingPathComponent("model").path,
      "--data", "manifest:" + Self.fixtures.appendingPathComponent("manifest.csv").path,
      "--prompts", "a photo of a benign lesion", "a photo of a malignant lesion", "--out", dir + "/z.csv",
    ])
    #expect(r.status == 0, "\(r.output)")
    let text = try String(contentsOfFile: dir + "/z.csv", encoding: .utf8)
    #expect(text.hasPrefix("id,label,prob,pred,margin,group,age,sex\n"))
    #expect(text.split(separator: "\n").count == 5)
  }

  /// The BiomedCLIP-shaped open_clip folder works in `zero-shot` and `encode` as an HF folder does.
  @Test func openCLIPFolderZeroShotsAndEncodes() throws {
    let biomed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "../CLIPTests/Fixtures/openclip/biomedclip_tiny"
    ).standardized.path
    let dir = freshDirectory("cli-openclip")
    let z = try Self.run([
      "zero-shot", "--model", biomed, "--data", "manifest:" + Self.fixtures.appendingPathComponent("manifest.csv").path,
      "--prompts", "a dermoscopy image of a benign nevus", "a dermoscopy image of a malignant melanoma", "--out",
      dir + "/z.csv",
    ])
    #expect(z.status == 0, "\(z.output)")
    #expect(try String(contentsOfFile: dir + "/z.csv", encoding: .utf8).split(separator: "\n").count == 5)
    try "malignant melanoma\nbenign nevus\n".write(toFile: dir + "/texts.txt", atomically: true, encoding: .utf8)
    let e = try Self.run(["encode", "--model", biomed, "--texts", dir + "/texts.txt", "--out", dir + "/t.safetensors"])
    #expect(e.status == 0, "\(e.output)")
    let f = try SafetensorsFile(path: dir + "/t.safetensors")
    #expect(try f.tensor("features").shape == [2, 64] && f.tensor("input_ids").shape == [2, 32])
  }

  @Test func predictAndDataSummaryRefuseBadSizesAndColumns() throws {
    let manifest = "manifest:" + Self.fixtures.appendingPathComponent("manifest.csv").path
    let p = try Self.run([
      "predict", "--model", Self.fixtures.appendingPathComponent("model").path, "--data", manifest,
      "--batch-size", "0", "--out", "/tmp/never.csv",
    ])
    #expect(p.status != 0 && p.output.contains("--batch-size must be ≥ 1"))
    let s = try Self.run(["data", "summary", "--data", manifest, "--groups", "sex,ethnicity"])
    #expect(s.status != 0 && s.output.contains("'ethnicity' is not an attribute"), "\(s.output)")
    let b = try Self.run(["data", "summary", "--data", manifest, "--batch-size", "0"])
    #expect(b.status != 0 && b.output.contains("--batch-size must be ≥ 1"), "\(b.output)")
  }
}
