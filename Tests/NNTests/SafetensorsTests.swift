import Foundation
import TestSupport
import Testing
import Tensor

@testable import NN

let nnFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Writes a raw safetensors file from a header string and a data section.
func rawFile(_ header: String, data: [UInt8], in dir: URL, headerLength: UInt64? = nil) throws -> String {
  var bytes = [UInt8]()
  let h = Array(header.utf8)
  var n = (headerLength ?? UInt64(h.count)).littleEndian
  withUnsafeBytes(of: &n) { bytes += $0 }
  bytes += h + data
  let url = dir.appendingPathComponent("\(UUID().uuidString).safetensors")
  try Data(bytes).write(to: url)
  return url.path
}

@Suite struct SafetensorsTests {
  // Reference: Scripts/fixtures/make_nn_fixtures.py (safetensors.torch.save_file; expected
  // values are torch's own F16/BF16 → F32 conversions, as bit patterns).
  @Test func readsF32F16BF16WrittenByPython() throws {
    struct Ref: Decodable { let dtypes: [String: [Int32]] }
    let ref = try JSONDecoder().decode(
      Ref.self, from: Data(contentsOf: nnFixtures.appendingPathComponent("reference.json")))
    let file = try SafetensorsFile(path: nnFixtures.appendingPathComponent("dtypes.safetensors").path)
    #expect(file.metadata == ["format": "pt"])
    #expect(file.entry("f16")?.dtype == .f16 && file.entry("bf16")?.shape == [12])
    for name in ["f32", "f16", "bf16", "f64", "i64", "u8"] {
      let got = try file.tensor(name).scalars.map { Int32(bitPattern: $0.bitPattern) }
      #expect(got == ref.dtypes[name]!, "\(name)")
    }
    #expect(try file.tensor("empty").shape == [0, 3])
  }

  @Test func writeReadRoundTripIsBitExact() throws {
    let dir = URL(fileURLWithPath: freshDirectory("nn"))
    defer { try? FileManager.default.removeItem(at: dir) }
    var g = SeededGenerator(seed: 7)
    let a = Tensor.randn([3, 5], using: &g), b = Tensor.randn([7], using: &g)
    let c = try Tensor([Float.nan, .infinity, -0.0, .leastNonzeroMagnitude], shape: [2, 2])
    let path = dir.appendingPathComponent("m.safetensors").path
    try Safetensors.write(
      [("b", b), ("a.weight", a), ("c \"quoted\"", c), ("s", Tensor(scalar: 2))],
      metadata: ["format": "pt", "note": "é\n"], to: path)
    let file = try SafetensorsFile(path: path)
    #expect(file.names == ["b", "a.weight", "c \"quoted\"", "s"])
    #expect(file.metadata == ["format": "pt", "note": "é\n"])
    for (name, t) in [("a.weight", a), ("b", b), ("c \"quoted\"", c)] {
      let r = try file.tensor(name)
      #expect(r.shape == t.shape)
      #expect(r.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern))
    }
    #expect(try file.tensor("s").shape == [])
    // Atomic: only the destination remains.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])
    #expect(throws: SafetensorsError.self) {
      try Safetensors.write([("x", a)], to: dir.appendingPathComponent("no/such/dir/x.safetensors").path)
    }
    #expect(throws: SafetensorsError.self) { try Safetensors.write([("x", a), ("x", b)], to: path) }
  }

  @Test func malformedHeadersNameTheProblem() throws {
    let dir = URL(fileURLWithPath: freshDirectory("nn"))
    defer { try? FileManager.default.removeItem(at: dir) }
    func problem(_ header: String, data: [UInt8] = [UInt8](repeating: 0, count: 16), length: UInt64? = nil) throws
      -> SafetensorsError?
    {
      let path = try rawFile(header, data: data, in: dir, headerLength: length)
      do {
        _ = try SafetensorsFile(path: path)
        return nil
      } catch let e as SafetensorsError { return e }
    }
    let ok = #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
    #expect(try problem(ok) == nil)
    #expect(try problem(ok, length: 1 << 40)?.problem.contains("bound") == true)
    #expect(try problem(ok, length: 10_000)?.problem.contains("past the end") == true)
    #expect(try problem("{not json")?.problem.contains("JSON") == true)
    let dtype = try problem(#"{"w":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}}"#)
    #expect(dtype?.tensor == "w" && dtype?.problem.contains("C64") == true)
    #expect(try problem(#"{"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#) == nil)
    let size = try problem(#"{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}}"#)
    #expect(size?.tensor == "w" && size?.problem.contains("24 bytes") == true)
    let outside = try problem(#"{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#)
    #expect(outside?.problem.contains("outside") == true)
    let overlap = try problem(
      #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}}"#)
    #expect(overlap?.tensor == "b" && overlap?.problem.contains("overlaps tensor 'a'") == true)
    #expect(
      try problem(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}}"#)?.problem.contains("shape") == true)
    #expect(try problem(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}"#) != nil)
    #expect(try problem(#"{"w":{"dtype":"F32","shape":[4]}}"#)?.problem.contains("data_offsets") == true)
    #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: dir.appendingPathComponent("missing").path) }
  }

  @Test func halfConversionCoversSpecialValues() {
    #expect(halfToFloat(0x3C00) == 1)
    #expect(halfToFloat(0xC000) == -2)
    #expect(halfToFloat(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
    #expect(halfToFloat(0x7BFF) == 65504)
    #expect(halfToFloat(0x7C00) == .infinity)
    #expect(halfToFloat(0x7E00).isNaN)
    #expect(halfToFloat(0x8000).sign == .minus)
  }
}
