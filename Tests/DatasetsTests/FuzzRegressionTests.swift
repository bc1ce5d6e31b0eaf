import Foundation
import TestSupport
import Testing
@testable import Datasets

/// Inputs the fuzzers (Scripts/fuzz) found, and the hostile sizes of the reliability issue:
/// each is refused with an error naming the file, never a trap.
@Suite struct FuzzRegressionTests {
  @Test func npzThatTrappedTheInMemoryZipReaderIsRefused() {
    // It holds no readable member: an error, or an empty archive (then every needed key is
    // reported missing), but never a trap.
    #expect((try? Npz.read(path: fixturePath("fuzz/npz-memory-archive-trap.npz")))?.isEmpty ?? true)
    #expect(throws: DataError.self) {
      try Npz.read(path: fixturePath("fuzz/npz-memory-archive-trap.npz"), keys: ["slo_fundus"])
    }
  }

  @Test func npzThatHungTheDecompressorIsRefusedPromptly() {
    #expect((try? Npz.read(path: fixturePath("fuzz/npz-decompress-hang.npz")))?.isEmpty ?? true)
  }

  @Test func npyShapesThatOverflowAreRefused() throws {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
    var bytes = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    var padded = header
    while (10 + padded.utf8.count + 1) % 64 != 0 { padded += " " }
    padded += "\n"
    var n = UInt16(padded.utf8.count).littleEndian
    bytes.append(Data(bytes: &n, count: 2))
    bytes.append(Data(padded.utf8))
    bytes.append(Data(count: 16))
    #expect(throws: DataError.self) { try NpyArray(bytes: bytes, name: "huge.npy") }
    do { _ = try NpyArray(bytes: bytes, name: "huge.npy") } catch {
      #expect("\(error)".contains("more than 2^63 bytes"))
    }
  }

  @Test func imagesDeclaringTooManyPixelsAreRefusedBeforeDecoding() throws {
    var jpeg = [UInt8](try ImageCodec.encodeJPEG(PixelImage(width: 8, height: 8, channels: 3, fill: 100)))
    let sof = try #require((0..<(jpeg.count - 8)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
    jpeg[sof + 5] = 0xFF; jpeg[sof + 6] = 0xDC; jpeg[sof + 7] = 0xFF; jpeg[sof + 8] = 0xDC
    do { _ = try ImageCodec.decode(Data(jpeg), name: "big.jpg"); Issue.record("accepted") } catch {
      #expect("\(error)".contains("declares 65500×65500 pixels") && "\(error)".contains("FAIRMED_MAX_IMAGE_PIXELS"))
    }
    var png = [UInt8](try ImageCodec.encodePNG(PixelImage(width: 8, height: 8, channels: 3, fill: 100)))
    png[16...19] = [0, 0, 0xFF, 0xDC][...]; png[20...23] = [0, 0, 0xFF, 0xDC][...]
    do { _ = try ImageCodec.decode(Data(png), name: "big.png"); Issue.record("accepted") } catch {
      #expect("\(error)".contains("declares 65500×65500 pixels"))
    }
  }

  @Test func zipBombMembersAreRefused() throws {
    let dir = freshDirectory("bomb")
    let zeros = NpyArray(dtype: .uint(bytes: 1), shape: [4 << 20], raw: Data(count: 4 << 20))
    try Npz.write([("a", zeros)], to: dir + "/bomb.npz")
    #expect(throws: DataError.self) { try Npz.read(path: dir + "/bomb.npz", maxExpansion: 100) }
    // An ordinary member (barely compressible) reads under the same limit.
    var rng = SeededRNG(seed: 1)
    let noise = NpyArray(
      dtype: .uint(bytes: 1), shape: [2 << 20],
      raw: Data((0..<(2 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }))
    try Npz.write([("a", noise)], to: dir + "/noise.npz")
    #expect(try Npz.read(path: dir + "/noise.npz", maxExpansion: 100)["a"]?.raw.count == 2 << 20)
  }
}

@Suite struct NonFinitePixelTests {
  @Test func nanPixelsAreRefusedNotClampedToWhite() throws {
    var values = [Float](repeating: 0.5, count: 16)
    values[5] = .nan
    let raw = values.withUnsafeBufferPointer { Data(buffer: $0) }
    let a = NpyArray(dtype: .float(bytes: 4), shape: [4, 4], raw: raw)
    do { _ = try a.grayImage(name: "slo_fundus"); Issue.record("NaN pixels were accepted") } catch {
      #expect("\(error)".contains("slo_fundus") && "\(error)".contains("element 5"))
    }
  }
}
