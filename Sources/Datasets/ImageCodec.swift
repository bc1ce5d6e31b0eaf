import CImageCodecs
import Foundation
import Support

/// JPEG and PNG decoding/encoding through libjpeg-turbo and libpng (never crashes on bad input).
public enum ImageCodec {
  /// Image file formats FairMed reads, recognised by their magic bytes.
  public enum Format: Sendable { case jpeg, png }

  /// The format of an encoded buffer, or nil when it is neither JPEG nor PNG.
  public static func format(of bytes: Data) -> Format? {
    if bytes.count >= 3 && bytes[bytes.startIndex] == 0xFF && bytes[bytes.startIndex + 1] == 0xD8 { return .jpeg }
    let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
    if bytes.count >= 8 && bytes.prefix(4).elementsEqual(png) { return .png }
    return nil
  }

  /// Decodes a JPEG or PNG file to an 8-bit gray or RGB image.
  public static func decode(file path: String, jpegScaleDenominator: Int = 1) throws -> PixelImage {
    return try decode(try readFile(path), name: path, jpegScaleDenominator: jpegScaleDenominator)
  }

  /// Reads a whole file (missing or unreadable: an error naming it).
  static func readFile(_ path: String) throws -> Data {
    do { return try Support.readFile(path) } catch let e as FileReadError {
      throw FileManager.default.fileExists(atPath: path)
        ? DataError.decode(file: path, reason: e.reason) : DataError.missingFile(path)
    }
  }

  /// Decodes an in-memory JPEG or PNG; `name` appears in errors. `jpegScaleDenominator` (1, 2, 4, 8)
  /// asks libjpeg for a cheaper DCT-domain downscale (not used unless requested).
  public static func decode(
    _ bytes: Data, name: String = "<memory>",
    jpegScaleDenominator: Int = 1
  ) throws -> PixelImage {
    guard let format = format(of: bytes) else {
      throw DataError.decode(file: name, reason: "not a JPEG or PNG file")
    }
    var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
    var err = [CChar](repeating: 0, count: 256)
    if format == .jpeg {
      // Decode straight into the Swift array (no intermediate buffer).
      let info = bytes.withUnsafeBytes { raw in
        fm_jpeg_info(
          raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, Int32(jpegScaleDenominator), &w, &h, &c, &err,
          err.count)
      }
      guard info == 0 else { throw DataError.decode(file: name, reason: cMessage(err)) }
      try checkSize(width: Int(w), height: Int(h), name: name)
      let count = Int(w) * Int(h) * Int(c)
      var rc: Int32 = 0
      let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        rc = bytes.withUnsafeBytes { raw in
          fm_jpeg_decode_into(
            raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, Int32(jpegScaleDenominator),
            buffer.baseAddress!, count, &w, &h, &c, &err, err.count)
        }
        initialized = rc == 0 ? count : 0
      }
      guard rc == 0 else { throw DataError.decode(file: name, reason: cMessage(err)) }
      return PixelImage(width: Int(w), height: Int(h), channels: Int(c), pixels: pixels)
    }
    if let (pw, ph) = pngDeclaredSize(bytes) { try checkSize(width: pw, height: ph, name: name) }
    var out: UnsafeMutablePointer<UInt8>? = nil
    let rc: Int32 = bytes.withUnsafeBytes { raw in
      fm_png_decode(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, &out, &w, &h, &c, &err, err.count)
    }
    guard rc == 0, let buffer = out else {
      throw DataError.decode(file: name, reason: cMessage(err))
    }
    defer { fm_free(buffer) }
    let count = Int(w) * Int(h) * Int(c)
    let pixels = [UInt8](UnsafeBufferPointer(start: buffer, count: count))
    return PixelImage(width: Int(w), height: Int(h), channels: Int(c), pixels: pixels)
  }

  /// The most pixels an image may declare: 50 million unless `FAIRMED_MAX_IMAGE_PIXELS` says
  /// otherwise (a header can declare far more than memory holds). A malformed or out-of-range
  /// value of the variable is an `EnvironmentError` naming it.
  public static var maxPixels: Int { get throws { try maxPixelsSetting.get() } }
  static let maxPixelsSetting = EnvironmentVariable.maxImagePixels.setting(default: 50_000_000)

  static func checkSize(width: Int, height: Int, name: String) throws {
    let limit = try Self.maxPixels
    guard width > 0, height > 0, let pixels = checkedProduct([width, height]), pixels <= limit else {
      throw DataError.decode(
        file: name,
        reason: "declares \(width)×\(height) pixels, over the limit of \(limit) "
          + "(raise it with the environment variable FAIRMED_MAX_IMAGE_PIXELS)")
    }
  }

  /// Width and height from a PNG's IHDR chunk, read before libpng allocates anything.
  static func pngDeclaredSize(_ bytes: Data) -> (Int, Int)? {
    let b = [UInt8](bytes.prefix(24))
    guard b.count == 24, b[12...15].elementsEqual("IHDR".utf8) else { return nil }
    func be32(_ i: Int) -> Int { b[i...(i + 3)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
  }

  /// Encodes a gray or RGB image as a baseline JPEG.
  public static func encodeJPEG(_ image: PixelImage, quality: Int = 90) throws -> Data {
    try encode(image) { p, outp, len, err in
      fm_jpeg_encode(
        p, Int32(image.width), Int32(image.height), Int32(image.channels),
        Int32(quality), outp, len, err, 256)
    }
  }

  /// Encodes a gray or RGB image as PNG.
  public static func encodePNG(_ image: PixelImage) throws -> Data {
    try encode(image) { p, outp, len, err in
      fm_png_encode(p, Int32(image.width), Int32(image.height), Int32(image.channels), outp, len, err, 256)
    }
  }

  private static func encode(
    _ image: PixelImage,
    _ call: (
      UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
      UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>
    ) -> Int32
  ) throws -> Data {
    var out: UnsafeMutablePointer<UInt8>? = nil
    var length = 0
    var err = [CChar](repeating: 0, count: 256)
    let rc = image.pixels.withUnsafeBufferPointer { px in
      err.withUnsafeMutableBufferPointer { e in call(px.baseAddress!, &out, &length, e.baseAddress!) }
    }
    guard rc == 0, let buffer = out else {
      throw DataError.decode(file: "<encode>", reason: cMessage(err))
    }
    defer { fm_free(buffer) }
    return Data(bytes: buffer, count: length)
  }
}

/// The NUL-terminated message a C shim wrote into `buffer`.
func cMessage(_ buffer: [CChar]) -> String {
  String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
