import Foundation
import Tensor

/// Minimal image input for the CLI until the data module's decoders are wired in: binary PPM/PGM
/// (P6/P5, 8-bit) and CLIP preprocessing with bilinear resizing.
///
/// Preprocessing follows `CLIPImageProcessor` in structure — shortest side resized to the model's
/// image size, centre crop, scale to [0, 1], normalise with CLIP's mean and std — but resizes
/// bilinearly, not with Pillow's bicubic filter, so features differ slightly from HF's pipeline.
public enum CLIPImageInput {
  /// OpenAI CLIP normalisation constants (RGB).
  public static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
  public static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]

  /// An 8-bit RGB image, row-major HWC.
  public struct RGBImage {
    public let width: Int, height: Int
    public let pixels: [UInt8]
  }

  /// Reads a binary PPM (P6) or PGM (P5) file with maxval 255.
  public static func readPPM(_ path: String) throws -> RGBImage {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIPFileError(file: path, "cannot read")
    }
    let bytes = [UInt8](data)
    var i = 0
    func token() -> String {
      while i < bytes.count {
        if bytes[i] == UInt8(ascii: "#") {
          while i < bytes.count && bytes[i] != 10 { i += 1 }
        } else if bytes[i] == 32 || (9...13).contains(bytes[i]) {
          i += 1
        } else { break }
      }
      let start = i
      while i < bytes.count && !(bytes[i] == 32 || (9...13).contains(bytes[i])) { i += 1 }
      return String(decoding: bytes[start..<i], as: UTF8.self)
    }
    let magic = token()
    guard magic == "P6" || magic == "P5" else {
      throw CLIPFileError(file: path, "not a binary PPM/PGM (P6/P5) image; other formats need the data module")
    }
    guard let w = Int(token()), let h = Int(token()), let maxval = Int(token()), w > 0, h > 0, maxval == 255 else {
      throw CLIPFileError(file: path, "bad PPM header (width, height, maxval 255 expected)")
    }
    i += 1  // the single whitespace byte after maxval
    let channels = magic == "P6" ? 3 : 1
    guard bytes.count - i >= w * h * channels else {
      throw CLIPFileError(file: path, "PPM data is truncated (\(bytes.count - i) of \(w * h * channels) bytes)")
    }
    let body = bytes[i..<(i + w * h * channels)]
    let rgb = channels == 3 ? Array(body) : body.flatMap { [$0, $0, $0] }
    return RGBImage(width: w, height: h, pixels: rgb)
  }

  /// `[3, size, size]` normalised pixels: shortest side → `size` (bilinear), centre crop.
  public static func preprocess(_ image: RGBImage, size: Int) -> [Float] {
    let scale = Double(size) / Double(min(image.width, image.height))
    let rw = max(size, Int((Double(image.width) * scale).rounded())), rh = max(size, Int((Double(image.height) * scale).rounded()))
    let left = (rw - size) / 2, top = (rh - size) / 2
    var out = [Float](repeating: 0, count: 3 * size * size)
    for y in 0..<size {
      let sy = min(max((Double(y + top) + 0.5) / scale - 0.5, 0), Double(image.height - 1))
      let y0 = Int(sy), y1 = min(y0 + 1, image.height - 1), fy = Float(sy - Double(y0))
      for x in 0..<size {
        let sx = min(max((Double(x + left) + 0.5) / scale - 0.5, 0), Double(image.width - 1))
        let x0 = Int(sx), x1 = min(x0 + 1, image.width - 1), fx = Float(sx - Double(x0))
        for c in 0..<3 {
          func p(_ xx: Int, _ yy: Int) -> Float { Float(image.pixels[(yy * image.width + xx) * 3 + c]) }
          let top = p(x0, y0) * (1 - fx) + p(x1, y0) * fx
          let bottom = p(x0, y1) * (1 - fx) + p(x1, y1) * fx
          let v = (top * (1 - fy) + bottom * fy) / 255
          out[(c * size + y) * size + x] = (v - mean[c]) / std[c]
        }
      }
    }
    return out
  }

  /// A batch `[B, 3, size, size]` from image files.
  public static func batch(_ paths: [String], size: Int) throws -> Tensor {
    var values: [Float] = []
    values.reserveCapacity(paths.count * 3 * size * size)
    for p in paths { values += preprocess(try readPPM(p), size: size) }
    return try Tensor(values, shape: [paths.count, 3, size, size])
  }
}
