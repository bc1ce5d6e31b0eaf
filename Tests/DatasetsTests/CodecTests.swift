import Foundation
import TestSupport
import Testing
@testable import Datasets

@Suite struct CodecTests {
  /// Decoders against Pillow's decoding of the same files (the JPEGs were written by Pillow's
  /// own libjpeg-turbo; both use the default islow IDCT and fancy upsampling, so a difference of
  /// at most 1 is allowed for library-version rounding).
  @Test(arguments: ["rgb.jpg", "progressive.jpg", "gray.jpg", "rgb.png", "gray.png", "rgba.png", "palette.png"])
  func decodesLikePillow(name: String) throws {
    let image = try ImageCodec.decode(file: fixturePath("images/" + name))
    let expected = try reference(name)
    #expect(image.width == 23 && image.height == 17)
    #expect(image.channels == (name.hasPrefix("gray") ? 1 : 3))
    let tolerance = name.hasSuffix(".png") ? 0 : 1
    #expect(maxDifference(image, expected) <= tolerance)
  }

  @Test func brokenFilesGiveErrorsNamingTheFile() throws {
    for name in ["truncated.jpg", "corrupt.jpg", "truncated.png", "notimage.jpg"] {
      let path = fixturePath("images/" + name)
      do {
        _ = try ImageCodec.decode(file: path)
        Issue.record("\(name) decoded without error")
      } catch let error as DataError {
        guard case .decode(let file, let reason) = error else { Issue.record("wrong error \(error)"); continue }
        #expect(file == path)
        #expect(!reason.isEmpty)
      }
    }
    #expect(throws: DataError.missingFile(fixturePath("images/nope.jpg"))) {
      try ImageCodec.decode(file: fixturePath("images/nope.jpg"))
    }
  }

  @Test func encodersRoundTrip() throws {
    let src = try ImageCodec.decode(file: fixturePath("images/rgb.png"))
    let png = try ImageCodec.decode(try ImageCodec.encodePNG(src))
    #expect(png == src)
    let jpeg = try ImageCodec.decode(try ImageCodec.encodeJPEG(src, quality: 95))
    #expect(jpeg.width == src.width && jpeg.channels == 3)
    let mean = zip(jpeg.pixels, src.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(src.pixels.count)
    #expect(mean < 12)  // noisy 23×17 source, 4:2:0 chroma: ≈ 8 at q95; a broken encoder gives ≫ 30
    let gray = try ImageCodec.decode(try ImageCodec.encodeJPEG(src.gray()))
    #expect(gray.channels == 1)
  }

  @Test func grayConversionMatchesPillow() throws {
    let rgb = try ImageCodec.decode(file: fixturePath("images/resize_src.png"))
    let gray = try ImageCodec.decode(file: fixturePath("images/resize_src_gray.png"))
    #expect(maxDifference(rgb.gray(), gray) == 0)
    #expect(gray.rgb().pixels[0..<3].allSatisfy { $0 == gray.pixels[0] })
  }

  @Test func npyVersionsAndTypes() throws {
    let u8 = try NpyArray(bytes: FileManager.default.contents(atPath: fixturePath("images/u8_v1.npy"))!)
    #expect(u8.shape == [12, 7] && u8.dtype == .uint(bytes: 1))
    let img = try u8.grayImage()
    #expect(img.width == 7 && img.height == 12 && img[1, 2, 0] == UInt8((9 * 3) % 256))
    for name in ["f32_v2.npy", "f64_v3.npy"] {
      let a = try NpyArray(bytes: FileManager.default.contents(atPath: fixturePath("images/" + name))!)
      #expect(a.shape == [12, 7])
      // Values a/255 in [0, 1] are scaled back to 0...255.
      #expect(try a.grayImage() == img)
    }
    let s = NpyArray.string("grüße ☺")
    #expect(try NpyArray(bytes: s.encoded()).string == "grüße ☺")
    #expect(try NpyArray(bytes: NpyArray.scalar(Int64(-3)).encoded()).scalar == -3)
    // A string length whose item size overflows (or NumPy refuses) is an error, not a trap.
    for descr in ["<U3000000000000000000", "|S-4", "<U0"] {
      let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }"
      var bytes = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
      let padded = header + String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
      bytes.append(contentsOf: [UInt8(padded.utf8.count & 0xFF), UInt8(padded.utf8.count >> 8)])
      bytes.append(Data(padded.utf8))
      #expect(Comment(rawValue: descr)) {
        try NpyArray(bytes: bytes, name: "s.npy")
      } throws: { "\($0)".contains("s.npy") && "\($0)".contains(descr) }
    }
    let truncated = u8.encoded().prefix(60)
    #expect(throws: DataError.self) { try NpyArray(bytes: truncated, name: "cut") }
  }

  @Test func npzStoredDeflatedAndTruncated() throws {
    let stored = try Npz.read(path: fixturePath("fairvlmed/Training/data_00002.npz"))
    let deflated = try Npz.read(path: fixturePath("fairvlmed/Training/data_00001.npz"))
    #expect(stored["slo_fundus"]?.shape == [20, 16] && deflated["slo_fundus"]?.shape == [20, 16])
    #expect(deflated["note"]?.string == "patient 1: c/d 0.4, ☺ ok")
    #expect(deflated["glaucoma"]?.scalar == 1 && stored["maritalstatus"]?.scalar == 0)
    let bad = fixturePath("bad/truncated.npz")
    do {
      _ = try Npz.read(path: bad)
      Issue.record("truncated npz read without error")
    } catch let error as DataError {
      #expect(error.description.contains(bad))
    }
    // Writer → reader round trip.
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Npz.write(
      [("x", .scalar(2.5)), ("img", .image(PixelImage(width: 3, height: 2, channels: 1, fill: 7)))], to: dir + "/t.npz")
    let back = try Npz.read(path: dir + "/t.npz")
    #expect(back["x"]?.scalar == 2.5 && back["img"]?.shape == [2, 3])
  }
}
