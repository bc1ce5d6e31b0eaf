import Foundation
import Testing
@testable import Support

@Suite struct SupportTests {
  /// xoshiro256** seeded by SplitMix64, first outputs for seed 42 (a Python transcription of
  /// Blackman & Vigna's reference C code).
  @Test func xoshiroMatchesTheReferenceStream() {
    var g = Xoshiro256(seed: 42)
    #expect(
      (0..<4).map { _ in g.next() } == [
        1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193,
      ])
    var resumed = Xoshiro256(state: g.state)
    #expect(resumed?.next() == g.next())
    #expect(Xoshiro256(state: [1, 2, 3]) == nil)
  }

  @Test func csvFieldsAreQuotedOnlyWhenNeeded() {
    #expect(csvField("plain") == "plain")
    #expect(csvField("a,b") == "\"a,b\"")
    #expect(csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
    #expect(csvField("two\nlines") == "\"two\nlines\"")
    #expect(csvLine(["id", "x,y", ""]) == "id,\"x,y\",")
  }

  @Test func jsonStringsRoundTripThroughFoundation() throws {
    let nasty = "quote \" back \\ tab \t nl \n bell \u{07} é 😀"
    let data = Data("[\(jsonStringLiteral(nasty))]".utf8)
    #expect(try JSONSerialization.jsonObject(with: data) as? [String] == [nasty])
  }

  @Test func directoryWritesSwapWholeAndRecover() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("support-\(UUID().uuidString)").path
    let dir = root + "/out"
    try AtomicWrite.directory(dir) {
      try AtomicWrite.file("one", to: $0 + "/a.txt"); try AtomicWrite.file("x", to: $0 + "/b.txt")
    }
    try AtomicWrite.directory(dir) { try AtomicWrite.file("two", to: $0 + "/a.txt") }
    #expect(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8) == "two")
    #expect(!FileManager.default.fileExists(atPath: dir + "/b.txt"))  // no file of the old folder survives
    // A failing fill leaves the previous folder as it was, and no staging folder behind.
    struct Boom: Error {}
    #expect(throws: Boom.self) { try AtomicWrite.directory(dir) { _ in throw Boom() } }
    #expect(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8) == "two")
    #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["out"])
    // A kill between the two renames leaves only the previous folder: recover puts it back.
    try FileManager.default.moveItem(atPath: dir, toPath: AtomicWrite.previousPath(dir))
    AtomicWrite.recover(dir)
    #expect(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8) == "two")
    // A stale staging folder from a killed write is removed by the next write.
    try FileManager.default.createDirectory(atPath: root + "/.out.staging-123-4", withIntermediateDirectories: false)
    try AtomicWrite.directory(dir) { try AtomicWrite.file("three", to: $0 + "/a.txt") }
    #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["out"])
  }

  /// Every FAIRMED_* variable goes through one parser: unset or empty is the default; a
  /// malformed or out-of-range value is an error naming the variable, its value and the range.
  @Test func environmentVariablesAreParsedWithBounds() throws {
    let v = EnvironmentVariable.maxImagePixels
    #expect(try v.parse(nil) == nil && v.parse("") == nil && v.parse("1000") == 1000)
    for bad in ["abc", "0", "-5", "1e6", " 7", "\(Int.max)"] {
      do {
        _ = try v.parse(bad)
        Issue.record("\(bad) was accepted")
      } catch let e as EnvironmentError {
        #expect(e.variable == "FAIRMED_MAX_IMAGE_PIXELS" && e.value == bad)
        #expect(
          e.description.contains("FAIRMED_MAX_IMAGE_PIXELS=")
            && e.description.contains("an integer in 1…1000000000000"), "\(e)")
      }
    }
    #expect(try EnvironmentVariable.poolMB.parse("0") == 0)
    #expect(throws: EnvironmentError.self) { try EnvironmentVariable.numThreads.parse("0") }
    #expect(try EnvironmentVariable.numThreads.setting(default: 3, environment: [:]).get() == 3)
    #expect(throws: EnvironmentError.self) {
      try EnvironmentVariable.numThreads.setting(default: 3, environment: ["FAIRMED_NUM_THREADS": "many"]).get()
    }
    #expect(EnvironmentVariable.numThreads.lenientValue(default: 3, environment: ["FAIRMED_NUM_THREADS": "many"]) == 3)
    // validateEnvironment checks every variable FairMed reads, and leaves others alone.
    try validateEnvironment([
      "FAIRMED_NUM_THREADS": "2", "FAIRMED_POOL_MB": "", "FAIRMED_SOMETHING_ELSE": "x",
      "FAIRMED_KILL_AT": "file.written:3",
    ])
    for (name, value) in [
      ("FAIRMED_MAX_IMAGE_PIXELS", "abc"), ("FAIRMED_MAX_NPZ_EXPANSION", "-1"), ("FAIRMED_NUM_THREADS", "lots"),
      ("FAIRMED_POOL_MB", "1e3"), ("FAIRMED_KILL_RANK", "one"), ("FAIRMED_KILL_AT", "file.written"),
      ("FAIRMED_KILL_AT", "x:0"), ("FAIRMED_CACHE", "relative/cache"),
    ] {
      do {
        try validateEnvironment([name: value])
        Issue.record("\(name)=\(value) was accepted")
      } catch let e as EnvironmentError {
        #expect(e.variable == name && e.value == value && e.description.contains("expected"), "\(e)")
      }
    }
    // The cache folder: FAIRMED_CACHE, else XDG_CACHE_HOME when absolute, else HOME's .cache.
    #expect(try cacheDirectory(["FAIRMED_CACHE": "/c", "HOME": "/h"]) == "/c")
    #expect(try cacheDirectory(["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/fairmed")
    #expect(try cacheDirectory(["XDG_CACHE_HOME": "x", "HOME": "/h"]) == "/h/.cache/fairmed")
    #expect(throws: EnvironmentError.self) { try cacheDirectory([:]) }
    let spec = try parseKillSpec("directory.filled:2")
    #expect(spec?.point == "directory.filled" && spec?.count == 2)
  }

  /// The output rule of every command: new paths, empty folders and empty files are written;
  /// a non-empty file or folder is refused unless --overwrite, naming what it holds.
  @Test func outputPathsAreNeverReplacedSilently() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("support-out-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: root + "/full", withIntermediateDirectories: true)
    for n in ["a.csv", "b.csv", "c.csv", "d.csv", ".hidden"] {
      try "x".write(toFile: root + "/full/" + n, atomically: true, encoding: .utf8)
    }
    try "".write(toFile: root + "/empty.csv", atomically: true, encoding: .utf8)
    try "id\n".write(toFile: root + "/full.csv", atomically: true, encoding: .utf8)
    for ok in ["/new", "/new.csv", "/empty", "/empty.csv"] { try OutputPath.check(root + ok, overwrite: false) }
    #expect(OutputPath.contents(root + "/full") == "'a.csv', 'b.csv', 'c.csv' and 1 more")
    do {
      try OutputPath.check(root + "/full", overwrite: false, resumable: true)
      Issue.record("a non-empty folder was accepted")
    } catch let e as FileWriteError {
      #expect(
        e.path == root + "/full" && e.reason.contains("'a.csv'") && e.reason.contains("--resume")
          && e.reason.contains("--overwrite"), "\(e)")
    }
    do {
      try OutputPath.check(root + "/full.csv", overwrite: false, option: "--out")
      Issue.record("a non-empty file was accepted")
    } catch let e as FileWriteError {
      #expect(
        e.reason.contains("already exists (3 bytes)") && e.reason.contains("--overwrite")
          && !e.reason.contains("--resume"), "\(e)")
    }
    try OutputPath.check(root + "/full", overwrite: true)
    try OutputPath.remove(["a.csv", "b.csv", "missing"], in: root + "/full")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: root + "/full").sorted() == [".hidden", "c.csv", "d.csv"])
  }

  /// One header rule for every CSV reader: no column name twice.
  @Test func duplicateCSVColumnsAreFoundWithBothPositions() {
    let d = duplicateCSVColumn(["id", "label", "sex", "label"])
    #expect(d?.name == "label" && d?.first == 2 && d?.second == 4)
    #expect(duplicateCSVColumn(["id", "label", "", ""]).map { $0.name } == nil)
    #expect(
      duplicateCSVColumnMessage(("label", 2, 4))
        == "column 'label' appears twice in the header (columns 2 and 4): rename or remove one")
  }

  @Test func jsonValuesAreDescribedByType() throws {
    let object =
      try JSONSerialization.jsonObject(
        with: Data(#"{"s": "96", "n": 96, "x": 7.5, "b": false, "z": null, "a": [1, 2], "o": {}}"#.utf8))
      as! [String: Any]
    #expect(jsonValueDescription(object["s"]!) == #"the string "96""#)
    #expect(jsonValueDescription(object["n"]!) == "the number 96")
    #expect(jsonValueDescription(object["x"]!) == "the number 7.5")
    #expect(jsonValueDescription(object["b"]!) == "the boolean false")
    #expect(jsonValueDescription(object["z"]!) == "null")
    #expect(jsonValueDescription(object["a"]!) == "an array of 2 values")
    #expect(jsonValueDescription(object["o"]!) == "an object")
    #expect(!isJSONBoolean(object["n"]!) && isJSONBoolean(object["b"]!))
  }

  /// Every finite Double written as JSON reads back exactly, however Foundation stores the number;
  /// booleans and non-numbers are not numbers.
  @Test func jsonNumbersReadBackExactly() throws {
    var rng = SplitMix64(seed: 7)
    let values =
      [0.9999999999999999, 0.1, 1e-300, -2.5e300, 0.21545712345678912]
      + (0..<2000).map { _ in Double.random(in: -1...1, using: &rng) }
    let text = "[" + values.map { "\($0)" }.joined(separator: ",") + ", true, \"1\", null]"
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any])
    let read = parsed.map(jsonDouble)
    #expect(Array(read.prefix(values.count)) == values.map { Optional($0) })
    #expect(read.suffix(3).allSatisfy { $0 == nil })
  }

  @Test func concurrentMapKeepsIndexOrder() {
    #expect(concurrentMap(100) { $0 * $0 } == (0..<100).map { $0 * $0 })
  }
}

@Suite struct VersionTests {
  @Test func theCommitIsReadFromTheCheckoutsHEADWithoutGit() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-fake-git-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let git = root.appendingPathComponent(".git")
    try FileManager.default.createDirectory(
      at: git.appendingPathComponent("refs/heads"), withIntermediateDirectories: true)
    let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)
    // A loose branch ref, a packed one, a detached HEAD, and nothing that is not a hash.
    try (a + "\n").write(to: git.appendingPathComponent("refs/heads/main"), atomically: true, encoding: .utf8)
    #expect(FairMedVersion.resolve("ref: refs/heads/main", git: git) == a)
    try "# pack-refs\n\(b) refs/heads/other\n".write(
      to: git.appendingPathComponent("packed-refs"), atomically: true, encoding: .utf8)
    #expect(FairMedVersion.resolve("ref: refs/heads/other", git: git) == b)
    #expect(FairMedVersion.resolve(a, git: git) == a)
    #expect(FairMedVersion.resolve("ref: refs/heads/missing", git: git) == nil)
    #expect(FairMedVersion.resolve("not a hash", git: git) == nil)
    // The test binary lies in this checkout's .build: its commit is this checkout's HEAD.
    if FileManager.default.fileExists(
      atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".git/HEAD").path)
    {
      let commit = try #require(FairMedVersion.commit)
      #expect(FairMedVersion.isHash(commit))
      #expect(FairMedVersion.description.contains(String(commit.prefix(12))))
    }
  }
}
