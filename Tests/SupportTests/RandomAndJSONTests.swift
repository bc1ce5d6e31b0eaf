import Foundation
import TestSupport
import Testing
@testable import Support

/// The streams every synthetic dataset, weight initialisation and bootstrap interval depends on,
/// pinned: the expected values come from a Python transcription (64-bit integers masked) of the
/// generators as they were before the three generator types were merged, so any change of a
/// stream fails here.
@Suite struct RandomStreamTests {
  @Test func xoshiroSubStreamsArePinned() {
    var g = Xoshiro256(seed: 7, stream: 3)
    #expect((0..<3).map { _ in g.next() } == [15604278280141874300, 14619679854814391085, 2114208240079128735])
    #expect(Xoshiro256(seed: 42, stream: 0) == Xoshiro256(seed: 42))
  }

  @Test func splitMixStreamsArePinned() {
    var plain = SplitMix64(seed: 0)
    #expect((0..<3).map { _ in plain.next() } == [7960286522194355700, 487617019471545679, 17909611376780542444])
    var item = SplitMix64(seed: 7, stream: 1, 2)
    #expect((0..<3).map { _ in item.next() } == [10284317737291911775, 2907289812527318353, 12538605756024217338])
    var epoch = SplitMix64(seed: 7, stream: 5)
    #expect((0..<3).map { _ in epoch.next() } == [4133585998541795748, 12989029827719200128, 3092863207539660690])
  }

  @Test func uniformsAreTheTopBitsOfOneWord() {
    var g = Xoshiro256(seed: 1)
    #expect((0..<3).map { _ in g.uniform() } == [0x1.67e55eda1f8e2p-1, 0x1.0a76ab2c8e6c9p-1, 0x1.25f12eac10548p-1])
    var f = Xoshiro256(seed: 1)
    #expect(
      (0..<3).map { _ in f.uniformFloat() } == [Float(0x1.67e55ep-1), Float(0x1.0a76aap-1), Float(0x1.25f12ep-1)])
    var s = SplitMix64(seed: 1)
    #expect((0..<3).map { _ in s.uniform() } == [0x1.7dd71b42cb1ddp-1, 0x1.f12745ddf664ap-1, 0x1.c7061a43b90b2p-2])
    var r = SplitMix64(seed: 1)
    #expect((0..<2).map { _ in r.uniform(2, 5) } == [4.2373452717881035, 4.913008260760389])
  }

  @Test func discreteDrawsArePinned() {
    var g = Xoshiro256(seed: 1)
    #expect((0..<8).map { _ in g.below(10) } == [7, 5, 5, 3, 6, 1, 0, 3])
    #expect((0..<4).map { _ in g.below(3) } == [2, 1, 2, 2])
    var b = SplitMix64(seed: 1)
    #expect((0..<8).map { _ in b.bernoulli(0.3) } == [false, false, false, false, false, false, false, true])
    var c = SplitMix64(seed: 1)
    #expect((0..<8).map { _ in c.categorical([0.5, 0.2, 0.3]) } == [2, 2, 0, 0, 2, 2, 1, 0])
    var n = Xoshiro256(seed: 3)
    #expect((0..<4).map { _ in n.binomial(20, 0.1) } == [3, 2, 1, 2])  // inversion
    #expect((0..<4).map { _ in n.binomial(1000, 0.3) } == [297, 287, 330, 325])  // BTRS
    #expect((0..<2).map { _ in n.binomial(50, 0.8) } == [39, 38])  // p > 0.5 by symmetry
    var m = Xoshiro256(seed: 3)
    var cells = [0, 0, 0, 0], pair = [0, 0]
    m.multinomial(100, [0.1, 0.2, 0.3, 0.4], into: &cells)
    m.multinomial(7, [0.5, 0.5], into: &pair)
    #expect(cells == [12, 16, 30, 42] && pair == [2, 5])
  }

  /// Box–Muller goes through libm's log, cos and sin, whose last bit may differ between
  /// platforms: compared to 1e-12 (a changed stream is off by far more).
  @Test func normalsArePinned() {
    var g = Xoshiro256(seed: 1)
    #expect(
      isClose(
        (0..<3).map { _ in g.normal() }, [-0.8327414344656707, -0.8173209811151115, 0.5265847839360696], atol: 1e-12))
    var s = SplitMix64(seed: 1)
    #expect(
      isClose(
        (0..<3).map { _ in s.normal() }, [0.753249877418509, -1.1963687800944647, 0.5278467364460041], atol: 1e-12))
    var p = Xoshiro256(seed: 1)
    let (z0, z1) = p.normalPair()
    #expect(isClose([z0, z1], [-1.5452228371402943, -0.19951530557849143], atol: 1e-12))
  }
}

/// The one JSON writer's three layouts, each pinned to the bytes the writer it replaced produced
/// (audit.json, a model folder's config files, a safetensors header, vocab.json).
@Suite struct JSONWriterTests {
  @Test func prettyLayoutIsAuditJSONs() {
    let doc = JSONValue.object([
      ("name", .string("a\"b")), ("n", .integer(-3)), ("x", .number(2)), ("y", .number(0.25)), ("big", .number(1e20)),
      ("nan", .number(.nan)), ("list", .array([.integer(1), .null, .bool(true)])),
      ("rows", .array([.object([("k", .integer(1))]), .number(3)])), ("empty", .object([])), ("none", .array([])),
    ])
    #expect(
      doc.serialized() == """
        {
          "name": "a\\"b",
          "n": -3,
          "x": 2,
          "y": 0.25,
          "big": 1e+20,
          "nan": null,
          "list": [1, null, true],
          "rows": [
            {
              "k": 1
            },
            3
          ],
          "empty": {},
          "none": []
        }
        """)
  }

  @Test func configFilesSortKeysAndKeepFloatsDecimal() {
    let config: [String: Any] = ["b": 1, "a": ["x": 2.0, "y": 1e-05], "l": ["CLIPModel"], "t": true, "z": NSNull()]
    #expect(
      JSONValue(sortingKeysOf: config).serialized(floatsKeepDecimalPoint: true) == """
        {
          "a": {
            "x": 2.0,
            "y": 1e-05
          },
          "b": 1,
          "l": ["CLIPModel"],
          "t": true,
          "z": null
        }
        """)
  }

  @Test func compactAndOneLineLayouts() {
    let header = JSONValue.object([
      ("__metadata__", .object([("format", .string("pt"))])),
      (
        "w",
        .object([
          ("dtype", .string("F32")), ("shape", .array([.integer(2), .integer(3)])),
          ("data_offsets", .array([.integer(0), .integer(24)])),
        ])
      ),
    ])
    #expect(
      header.serialized(.compact)
        == #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#)
    #expect(
      JSONValue.object([("\"q", .integer(2)), ("a", .integer(0))]).serialized(.oneLine) == #"{"\"q": 2, "a": 0}"#)
    #expect(JSONValue.object([]).serialized(.compact) == "{}")
  }

  @Test func jsonNeverWritesNonFiniteNumbersAndEscapesStrings() throws {
    let doc = JSONValue.object([
      ("nan", .number(.nan)), ("inf", .optional(.infinity)), ("x", .number(0.1)), ("n", .integer(3)),
      ("s", .string("a \"quoted\"\nline\u{1}")), ("list", .array([.number(1e-7), .null, .bool(true)])),
    ])
    let text = doc.serialized()
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(parsed["nan"] is NSNull && parsed["inf"] is NSNull)
    #expect(parsed["x"] as? Double == 0.1)
    #expect(parsed["s"] as? String == "a \"quoted\"\nline\u{1}")
    #expect((parsed["list"] as? [Any])?.first as? Double == 1e-7)
  }

  @Test func decodedNumbersStayDoublesAndObjectsSortTheirKeys() throws {
    let v = try JSONDecoder().decode(
      JSONValue.self, from: Data(#"{"z": null, "n": 64, "l": ["a"], "o": {"b": true, "a": "q"}}"#.utf8))
    #expect(
      v
        == .object([
          ("l", .array([.string("a")])), ("n", .number(64)), ("o", .object([("a", .string("q")), ("b", .bool(true))])),
          ("z", .null),
        ]))
    guard case .object(let fields) = v, case .number? = fields.first(where: { $0.0 == "n" })?.1 else {
      Issue.record("64 did not decode as a number: \(v)")
      return
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    #expect(
      String(decoding: try encoder.encode(v), as: UTF8.self) == #"{"l":["a"],"n":64,"o":{"a":"q","b":true},"z":null}"#)
  }
}
