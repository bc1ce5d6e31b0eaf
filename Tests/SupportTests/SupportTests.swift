import Foundation
import Testing
@testable import Support

@Suite struct SupportTests {
  /// xoshiro256** seeded by SplitMix64, first outputs for seed 42 (a Python transcription of
  /// Blackman & Vigna's reference C code).
  @Test func xoshiroMatchesTheReferenceStream() {
    var g = Xoshiro256(seed: 42)
    #expect((0..<4).map { _ in g.next() } == [1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193])
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
    try AtomicWrite.directory(dir) { try AtomicWrite.file("one", to: $0 + "/a.txt"); try AtomicWrite.file("x", to: $0 + "/b.txt") }
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

  @Test func concurrentMapKeepsIndexOrder() {
    #expect(concurrentMap(100) { $0 * $0 } == (0..<100).map { $0 * $0 })
  }
}
