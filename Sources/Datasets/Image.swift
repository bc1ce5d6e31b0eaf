import Foundation

/// An 8-bit image with interleaved channels in row-major HWC order (1 = gray, 3 = RGB).
///
/// Decoders produce it, the geometric transforms (resize, crop, flip) work on it like Pillow does
/// on 8-bit images, and ``ImageTransform`` turns it into the model's Float32 CHW input at the end.
public struct PixelImage: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var channels: Int
  /// `height * width * channels` samples, row-major, channels interleaved.
  public var pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(channels == 1 || channels == 3, "PixelImage supports 1 or 3 channels")
    precondition(pixels.count == width * height * channels, "pixel count does not match the size")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// A constant image.
  public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
    self.init(
      width: width, height: height, channels: channels,
      pixels: [UInt8](repeating: fill, count: width * height * channels))
  }

  /// The sample at row `y`, column `x`, channel `c`.
  @inlinable public subscript(y: Int, x: Int, c: Int) -> UInt8 {
    get { pixels[(y * width + x) * channels + c] }
    set { pixels[(y * width + x) * channels + c] = newValue }
  }

  /// Gray images repeated into three channels (RGB images are returned unchanged).
  public func rgb() -> PixelImage {
    if channels == 3 { return self }
    var out = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) {
      let v = pixels[i]
      out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
    }
    return PixelImage(width: width, height: height, channels: 3, pixels: out)
  }

  /// ITU-R 601-2 luma (Pillow's `convert("L")`: L = (R·299 + G·587 + B·114) / 1000, rounded).
  public func gray() -> PixelImage {
    if channels == 1 { return self }
    var out = [UInt8](repeating: 0, count: width * height)
    for i in 0..<(width * height) {
      let r = Int(pixels[3 * i]), g = Int(pixels[3 * i + 1]), b = Int(pixels[3 * i + 2])
      // Pillow: L24 fixed point with rounding.
      out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
    }
    return PixelImage(width: width, height: height, channels: 1, pixels: out)
  }

  /// The sub-image `[top, top+h) × [left, left+w)`; the box must lie inside the image.
  public func cropped(left: Int, top: Int, width w: Int, height h: Int) -> PixelImage {
    precondition(left >= 0 && top >= 0 && left + w <= width && top + h <= height, "crop outside image")
    var out = [UInt8](repeating: 0, count: w * h * channels)
    let rowBytes = w * channels
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for y in 0..<h {
          let s = ((top + y) * width + left) * channels
          dst.baseAddress!.advanced(by: y * rowBytes).update(from: src.baseAddress! + s, count: rowBytes)
        }
      }
    }
    return PixelImage(width: w, height: h, channels: channels, pixels: out)
  }

  /// Mirror image (left ↔ right).
  public func flippedHorizontally() -> PixelImage {
    var out = pixels
    for y in 0..<height {
      for x in 0..<width {
        let s = (y * width + x) * channels, d = (y * width + (width - 1 - x)) * channels
        for c in 0..<channels { out[d + c] = pixels[s + c] }
      }
    }
    return PixelImage(width: width, height: height, channels: channels, pixels: out)
  }
}
