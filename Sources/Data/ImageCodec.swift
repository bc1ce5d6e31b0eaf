import CImageCodecs
import Foundation

/// JPEG and PNG decoding/encoding through libjpeg-turbo and libpng (never crashes on bad input).
public enum ImageCodec {
  /// Image file formats FairMed reads, recognised by their magic bytes.
  public enum Format: Sendable { case jpeg, png }

  /// The format of an encoded buffer, or nil when it is neither JPEG nor PNG.
  public static func format(of bytes: Foundation.Data) -> Format? {
    if bytes.count >= 3 && bytes[bytes.startIndex] == 0xFF && bytes[bytes.startIndex + 1] == 0xD8 { return .jpeg }
    let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
    if bytes.count >= 8 && bytes.prefix(4).elementsEqual(png) { return .png }
    return nil
  }

  /// Decodes a JPEG or PNG file to an 8-bit gray or RGB image.
  public static func decode(file path: String, jpegScaleDenominator: Int = 1) throws -> PixelImage {
    guard let bytes = FileManager.default.contents(atPath: path) else {
      throw DataError.missingFile(path)
    }
    return try decode(bytes, name: path, jpegScaleDenominator: jpegScaleDenominator)
  }

  /// Decodes an in-memory JPEG or PNG; `name` appears in errors. `jpegScaleDenominator` (1, 2, 4, 8)
  /// asks libjpeg for a cheaper DCT-domain downscale (not used unless requested).
  public static func decode(_ bytes: Foundation.Data, name: String = "<memory>",
                            jpegScaleDenominator: Int = 1) throws -> PixelImage {
    guard let format = format(of: bytes) else {
      throw DataError.decode(file: name, reason: "not a JPEG or PNG file")
    }
    var out: UnsafeMutablePointer<UInt8>? = nil
    var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc: Int32 = bytes.withUnsafeBytes { raw in
      let p = raw.bindMemory(to: UInt8.self).baseAddress!
      switch format {
      case .jpeg:
        return fm_jpeg_decode(p, raw.count, Int32(jpegScaleDenominator), &out, &w, &h, &c, &err, err.count)
      case .png:
        return fm_png_decode(p, raw.count, &out, &w, &h, &c, &err, err.count)
      }
    }
    guard rc == 0, let buffer = out else {
      throw DataError.decode(file: name, reason: String(cString: err))
    }
    defer { fm_free(buffer) }
    let count = Int(w) * Int(h) * Int(c)
    let pixels = [UInt8](UnsafeBufferPointer(start: buffer, count: count))
    return PixelImage(width: Int(w), height: Int(h), channels: Int(c), pixels: pixels)
  }

  /// Encodes a gray or RGB image as a baseline JPEG.
  public static func encodeJPEG(_ image: PixelImage, quality: Int = 90) throws -> Foundation.Data {
    try encode(image) { p, outp, len, err in
      fm_jpeg_encode(p, Int32(image.width), Int32(image.height), Int32(image.channels),
                     Int32(quality), outp, len, err, 256)
    }
  }

  /// Encodes a gray or RGB image as PNG.
  public static func encodePNG(_ image: PixelImage) throws -> Foundation.Data {
    try encode(image) { p, outp, len, err in
      fm_png_encode(p, Int32(image.width), Int32(image.height), Int32(image.channels), outp, len, err, 256)
    }
  }

  private static func encode(
    _ image: PixelImage,
    _ call: (UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
             UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>) -> Int32
  ) throws -> Foundation.Data {
    var out: UnsafeMutablePointer<UInt8>? = nil
    var length = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = image.pixels.withUnsafeBufferPointer { px in
      err.withUnsafeMutableBufferPointer { e in call(px.baseAddress!, &out, &length, e.baseAddress!) }
    }
    guard rc == 0, let buffer = out else {
      throw DataError.decode(file: "<encode>", reason: String(cString: err))
    }
    defer { fm_free(buffer) }
    return Foundation.Data(bytes: buffer, count: length)
  }
}
