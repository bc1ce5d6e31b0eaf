import FairMedZlib
import Foundation

/// Errors from reading tokenizer and model files.
public struct CLIPFileError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let problem: String
  public init(file: String, _ problem: String) {
    self.file = file
    self.problem = problem
  }
  public var description: String { "\(file): \(problem)" }
}

/// Gzip (or zlib) decompression through the system zlib.
enum Gzip {
  /// Inflates `data`; `file` names the source in errors.
  static func decompress(_ data: Data, file: String) throws -> Data {
    var stream = z_stream()
    // 15 window bits + 32: detect gzip or zlib headers automatically.
    guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw CLIPFileError(file: file, "zlib initialisation failed")
    }
    defer { inflateEnd(&stream) }
    var out = Data()
    let chunk = 1 << 20
    var buffer = [UInt8](repeating: 0, count: chunk)
    var status: Int32 = Z_OK
    try data.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
      stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
      stream.avail_in = uInt(src.count)
      repeat {
        try buffer.withUnsafeMutableBufferPointer { dst in
          stream.next_out = dst.baseAddress
          stream.avail_out = uInt(chunk)
          status = inflate(&stream, Z_NO_FLUSH)
          guard status == Z_OK || status == Z_STREAM_END else {
            throw CLIPFileError(file: file, "not a valid gzip stream (zlib status \(status))")
          }
          out.append(dst.baseAddress!, count: chunk - Int(stream.avail_out))
        }
        if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 {
          throw CLIPFileError(file: file, "gzip stream is truncated")
        }
      } while status != Z_STREAM_END
    }
    return out
  }
}
