import Foundation
import TestSupport
import Testing

/// Issue 24, at the command line: every command that writes where the user says refuses to
/// replace what is there without `--overwrite` (train, experiment and demo also take
/// `--resume`), and every `FAIRMED_*` environment variable with a bad value is an error naming
/// it, its value and the accepted range — never ignored.
@Suite struct OutputAndEnvironmentTests {
  static let manifest = "manifest:" + CLITests.fixtures.appendingPathComponent("manifest.csv").path
  static let model = CLITests.fixtures.appendingPathComponent("model").path

  static func run(_ arguments: [String], env: [String: String] = [:]) throws -> CLITests.Outcome {
    try CLITests.run(arguments, env: env)
  }

  @Test(arguments: [
    ("FAIRMED_MAX_IMAGE_PIXELS", "abc", "an integer in 1…1000000000000"),
    ("FAIRMED_MAX_IMAGE_PIXELS", "0", "an integer in 1…1000000000000"),
    ("FAIRMED_MAX_NPZ_EXPANSION", "-3", "an integer in 1…1000000"),
    ("FAIRMED_NUM_THREADS", "0", "an integer in 1…4096"),
    ("FAIRMED_POOL_MB", "lots", "an integer in 0…1073741824"),
    ("FAIRMED_KILL_AT", "file.written", "POINT:N"),
  ])
  func aBadEnvironmentVariableIsRefusedNamingItsValueAndRange(_ name: String, _ value: String, _ range: String) throws {
    // encode reads an image: with the limit ignored it used to succeed (and a later error told
    // the user to raise the very variable they had set).
    let dir = freshDirectory("cli-env")
    let image = CLITests.fixtures.appendingPathComponent("images/lesion_0.png").path
    let r = try Self.run(
      ["encode", "--model", Self.model, "--images", image, "--out", dir + "/f.safetensors"], env: [name: value])
    #expect(r.status != 0 && !r.crashed, "\(name)=\(value) was accepted:\n\(r.output)")
    #expect(
      r.output.contains("environment variable \(name)=\"\(value)\" is not valid") && r.output.contains(range),
      "\(r.output)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/f.safetensors"))
    // An empty value means the default, as an unset one does.
    let ok = try Self.run(
      ["encode", "--model", Self.model, "--images", image, "--out", dir + "/ok.safetensors"], env: [name: ""])
    #expect(ok.status == 0, "\(ok.output)")
  }

  /// A second audit into the same --out used to replace the first silently.
  @Test func aSecondAuditNeedsOverwrite() throws {
    let out = freshDirectory("cli-audit-twice") + "/out"
    let args = ["audit", "--predictions", try CLITests.predictionsCSV(), "--groups", "sex", "--out", out]
    #expect(try Self.run(args + ["--threshold", "0.5"]).status == 0)
    let first = try String(contentsOfFile: out + "/audit.json", encoding: .utf8)
    let again = try Self.run(args + ["--threshold", "0.3"])
    #expect(
      again.status != 0 && again.output.contains(out) && again.output.contains("already holds 'audit.html'")
        && again.output.contains("--overwrite"), "\(again.output)")
    #expect(try String(contentsOfFile: out + "/audit.json", encoding: .utf8) == first)
    #expect(try Self.run(args + ["--threshold", "0.3", "--overwrite"]).status == 0)
    #expect(try String(contentsOfFile: out + "/audit.json", encoding: .utf8) != first)
  }

  /// Commands writing one file refuse a non-empty one that is there (an empty file is fine).
  @Test func fileOutputsNeedOverwrite() throws {
    let dir = freshDirectory("cli-files")
    try "a text\n".write(toFile: dir + "/texts.txt", atomically: true, encoding: .utf8)
    let cases: [(String, [String])] = [
      ("z.csv", ["zero-shot", "--model", Self.model, "--data", Self.manifest, "--prompts", "benign", "malignant"]),
      ("p.csv", ["predict", "--model", Self.model, "--data", Self.manifest]),
      ("f.safetensors", ["encode", "--model", Self.model, "--texts", dir + "/texts.txt"]),
      ("split.csv", ["data", "split", "--data", Self.manifest]),
    ]
    for (file, command) in cases {
      let out = dir + "/" + file
      try "keep me\n".write(toFile: out, atomically: true, encoding: .utf8)
      let r = try Self.run(command + ["--out", out])
      #expect(
        r.status != 0 && r.output.contains("already exists (8 bytes)") && r.output.contains("--overwrite"),
        "\(command[0]): \(r.output)")
      #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me\n", "\(command[0]) replaced \(out)")
      let o = try Self.run(command + ["--out", out, "--overwrite"])
      let replaced = FileManager.default.contents(atPath: out)
      #expect(o.status == 0 && replaced != nil && replaced != Data("keep me\n".utf8), "\(command[0]): \(o.output)")
      try "".write(toFile: out, atomically: true, encoding: .utf8)
      #expect(try Self.run(command + ["--out", out]).status == 0, "\(command[0]) refused an empty file")
    }
  }

  /// Folder outputs: synth refuses a non-empty folder; experiment and demo refuse one unless
  /// --resume (only of a folder holding their work) or --overwrite.
  @Test func folderOutputsNeedOverwriteOrResume() throws {
    let dir = freshDirectory("cli-folders")
    try "mine\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
    let synth = try Self.run(["synth", "derm", "--n", "10", "--size", "16", "--out", dir])
    #expect(
      synth.status != 0 && synth.output.contains("already holds 'notes.txt'") && synth.output.contains("--overwrite"),
      "\(synth.output)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/HAM10000_metadata.csv"))
    let study = dir + "/study.json"
    try
      #"{"methods": ["erm"], "synth": {"kind": "derm", "train": 100, "test": 50, "external": 0, "size": 16}, "base": {"fromScratch": "tiny"}}"#
      .write(toFile: study, atomically: true, encoding: .utf8)
    let experiment = try Self.run(["experiment", "--config", study, "--out", dir])
    #expect(
      experiment.status != 0 && experiment.output.contains("--resume") && experiment.output.contains("--overwrite"),
      "\(experiment.output)")
    let resume = try Self.run(["experiment", "--config", study, "--out", dir, "--resume"])
    #expect(
      resume.status != 0 && resume.output.contains("holds no FairMed study to resume")
        && resume.output.contains("drop --resume"), "\(resume.output)")
    let demo = try Self.run(["demo", "--out", dir, "--resume"])
    #expect(demo.status != 0 && demo.output.contains("holds no FairMed study to resume"), "\(demo.output)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["notes.txt", "study.json"])
    // --overwrite replaces what synth wrote before, and nothing else.
    let synthOut = dir + "/derm"
    #expect(try Self.run(["synth", "derm", "--n", "20", "--size", "16", "--out", synthOut]).status == 0)
    try "mine\n".write(toFile: synthOut + "/notes.txt", atomically: true, encoding: .utf8)
    let replaced = try Self.run(["synth", "derm", "--n", "10", "--size", "16", "--out", synthOut, "--overwrite"])
    #expect(replaced.status == 0, "\(replaced.output)")
    let images =
      try FileManager.default.contentsOfDirectory(atPath: synthOut + "/HAM10000_images_part_1").count
      + FileManager.default.contentsOfDirectory(atPath: synthOut + "/HAM10000_images_part_2").count
    #expect(images == 10 && FileManager.default.fileExists(atPath: synthOut + "/notes.txt"))
    // A study refused for its options leaves the folder's results alone, --overwrite or not.
    let studyOut = dir + "/study-out"
    try FileManager.default.createDirectory(atPath: studyOut, withIntermediateDirectories: true)
    try "earlier results\n".write(toFile: studyOut + "/results.csv", atomically: true, encoding: .utf8)
    let bad = dir + "/bad-epochs.json"
    try
      #"{"methods": ["erm"], "synth": {"kind": "derm", "train": 100, "test": 50, "size": 16}, "base": {"fromScratch": "tiny", "epochs": 0}}"#
      .write(toFile: bad, atomically: true, encoding: .utf8)
    let refused = try Self.run(["experiment", "--config", bad, "--out", studyOut, "--overwrite"])
    #expect(
      refused.status != 0 && refused.output.contains("base: --epochs must be in 1…10000, got 0")
        && (try? String(contentsOfFile: studyOut + "/results.csv", encoding: .utf8)) == "earlier results\n",
      "\(refused.output)")
  }

  /// `train --resume` into a folder holding no run used to train from scratch into it (exit 0).
  @Test func trainResumeIntoADatasetFolderIsRefused() throws {
    // A copy of the fixture dataset folder (manifest, images, model), so a failure cannot write into the repository.
    let data = freshDirectory("cli-dataset") + "/hf_processor"
    try FileManager.default.copyItem(atPath: CLITests.fixtures.path, toPath: data)
    let manifest = "manifest:" + data + "/manifest.csv"
    let before = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
    let r = try Self.run([
      "train", "--data", manifest, "--from-scratch", "tiny", "--epochs", "1", "--resume", "--out", data,
    ])
    #expect(
      r.status != 0 && r.output.contains("\(data): holds no FairMed run to resume") && r.output.contains("no run.json")
        && r.output.contains("drop --resume"), "\(r.output)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: data).sorted() == before)
    // Without --data, the same answer rather than "--data is required".
    let empty = freshDirectory("cli-resume-empty")
    let n = try Self.run(["train", "--resume", "--out", empty])
    #expect(n.status != 0 && n.output.contains("holds no FairMed run to resume (the folder is empty"), "\(n.output)")
    // Without --resume, a folder of other files is refused too.
    let plain = try Self.run([
      "train", "--data", manifest, "--from-scratch", "tiny", "--epochs", "1", "--lambda", "1", "--out", data,
    ])
    #expect(
      plain.status != 0 && plain.output.contains("but no FairMed run (no run.json)")
        && plain.output.contains("--overwrite"), "\(plain.output)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: data).sorted() == before)
  }
}
