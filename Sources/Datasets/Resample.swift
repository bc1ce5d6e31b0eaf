import Foundation

/// Resampling filters for ``PixelImage/resized(width:height:filter:)``.
/// How a center crop rounds an odd margin.
public enum CropRounding: String, Sendable, CaseIterable {
  /// torchvision / open_clip.
  case halfToEven = "half-to-even"
  /// Hugging Face `CLIPImageProcessor` (integer division).
  case down
}

public enum ResampleFilter: String, Sendable, CaseIterable {
  /// Triangle filter (support 1), antialiased when shrinking.
  case bilinear
  /// Keys cubic with a = −0.5 (support 2), antialiased when shrinking.
  case bicubic

  var support: Double { self == .bilinear ? 1 : 2 }

  func weight(_ x: Double) -> Double {
    let x = abs(x)
    switch self {
    case .bilinear:
      return x < 1 ? 1 - x : 0
    case .bicubic:
      let a = -0.5
      if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
      if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
      return 0
    }
  }
}

/// Separable convolution resampling that follows Pillow's `Image.resize` for 8-bit images
/// (`libImaging/Resample.c`): the filter is stretched by the scale factor when shrinking
/// (antialiasing), coefficients are 22-bit fixed point, the horizontal pass runs first and is
/// rounded to 8 bits before the vertical pass. Results match Pillow to within ±1 per sample
/// (the tests check this against Pillow-written references).
struct ResampleKernel {
  static let precisionBits = 22
  let outSize: Int
  let ksize: Int
  var bounds: [Int]  // (start, count) per output sample
  var weights: [Int32]  // ksize per output sample

  /// The kernels of the output samples `outputs` (default all `outSize`) of a resize to
  /// `outSize`: entry j is output sample `outputs.lowerBound + j`.
  init(inSize: Int, in0: Double, in1: Double, outSize: Int, outputs: Range<Int>? = nil, filter: ResampleFilter) {
    let scale = (in1 - in0) / Double(outSize)
    let filterScale = max(scale, 1)
    let support = filter.support * filterScale
    let ksize = Int(support.rounded(.up)) * 2 + 1
    let outputs = outputs ?? 0..<outSize
    self.outSize = outputs.count
    self.ksize = ksize
    bounds = [Int](repeating: 0, count: 2 * outputs.count)
    weights = [Int32](repeating: 0, count: ksize * outputs.count)
    var k = [Double](repeating: 0, count: ksize)
    let one = Double(1 << ResampleKernel.precisionBits)
    for (j, xx) in outputs.enumerated() {
      let center = in0 + (Double(xx) + 0.5) * scale
      let ss = 1 / filterScale
      let xmin = max(Int(center - support + 0.5), 0)  // C truncation, as Pillow
      let xmax = min(Int(center + support + 0.5), inSize) - xmin
      var ww = 0.0
      for x in 0..<max(xmax, 0) {
        let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
        k[x] = w
        ww += w
      }
      for x in 0..<max(xmax, 0) {
        let v = ww != 0 ? k[x] / ww : k[x]
        weights[j * ksize + x] = Int32(v < 0 ? -0.5 + v * one : 0.5 + v * one)
      }
      bounds[2 * j] = xmin
      bounds[2 * j + 1] = max(xmax, 0)
    }
  }

  /// 32-bit accumulators, as Pillow: |weights| sum to < 2 for these filters, so 255 · 2 · 2²² fits.
  /// Same as Pillow's clip8 (≥ 2³⁰ → 255, ≤ 0 → 0, else v >> 22), written branch-free.
  @inline(__always) static func clip8(_ v: Int32) -> UInt8 {
    UInt8(truncatingIfNeeded: min(max(v >> Int32(precisionBits), 0), 255))
  }
}

extension PixelImage {
  /// Resized to exactly `width × height` (Pillow-compatible; see ``ResampleFilter``).
  public func resized(width outW: Int, height outH: Int, filter: ResampleFilter = .bicubic) -> PixelImage {
    resized(width: outW, height: outH, filter: filter, columns: 0..<outW, rows: 0..<outH)
  }

  /// The `columns × rows` window of the `outW × outH` resize, computed alone: the same pixels as
  /// resizing and then cropping, in time and memory of the window (a 1 × 100,000 image's
  /// 224 × 22,400,000 resize is never made).
  func resized(width outW: Int, height outH: Int, filter: ResampleFilter, columns: Range<Int>, rows window: Range<Int>)
    -> PixelImage
  {
    precondition(outW > 0 && outH > 0, "resize target must be positive")
    precondition(columns.lowerBound >= 0 && columns.upperBound <= outW && !columns.isEmpty, "window outside the resize")
    precondition(window.lowerBound >= 0 && window.upperBound <= outH && !window.isEmpty, "window outside the resize")
    let full = columns == 0..<outW && window == 0..<outH
    if outW == width && outH == height {
      return full
        ? self : cropped(left: columns.lowerBound, top: window.lowerBound, width: columns.count, height: window.count)
    }
    let ch = channels
    let outRows = window.count
    let kv = ResampleKernel(
      inSize: height, in0: 0, in1: Double(height), outSize: outH, outputs: window, filter: filter)
    var src = self
    var rowOffset = 0
    if outW == width && columns != 0..<outW {  // no horizontal resampling: the window's columns as they are
      src = cropped(left: columns.lowerBound, top: 0, width: columns.count, height: height)
    }
    if outW != width {
      let kh = ResampleKernel(
        inSize: width, in0: 0, in1: Double(width), outSize: outW, outputs: columns, filter: filter)
      let outW = columns.count
      // Only the source rows the vertical pass reads (without one, the window's rows).
      let first = kv.bounds[0]
      let last = kv.bounds[2 * outRows - 2] + kv.bounds[2 * outRows - 1]
      let rows = outH != height ? last - first : outRows
      rowOffset = outH != height ? first : window.lowerBound
      var tmp = [UInt8](repeating: 0, count: outW * rows * ch)
      pixels.withUnsafeBufferPointer { sp in
        tmp.withUnsafeMutableBufferPointer { dp in
          kh.weights.withUnsafeBufferPointer { wp in
            let s = sp.baseAddress!, d = dp.baseAddress!, w = wp.baseAddress!
            let half = Int32(1 << (ResampleKernel.precisionBits - 1))
            // RGB rows are widened to 4-byte RGBX pixels so each tap is one SIMD multiply-add
            // (Pillow keeps RGB images as RGBX for the same reason).
            let rgbx = UnsafeMutablePointer<UInt8>.allocate(capacity: ch == 3 ? width * 4 : 1)
            defer { rgbx.deallocate() }
            kh.bounds.withUnsafeBufferPointer { bp in
              for y in 0..<rows {
                let srow = s + (y + rowOffset) * width * ch
                let drow = d + y * outW * ch
                if ch == 3 {
                  for x in 0..<width {
                    rgbx[4 * x] = srow[3 * x]
                    rgbx[4 * x + 1] = srow[3 * x + 1]
                    rgbx[4 * x + 2] = srow[3 * x + 2]
                    rgbx[4 * x + 3] = 0
                  }
                  let raw = UnsafeRawPointer(rgbx)
                  for xx in 0..<outW {
                    let xmin = bp[2 * xx], n = bp[2 * xx + 1]
                    let k = w + xx * kh.ksize
                    var acc = SIMD4<Int32>(repeating: half)
                    for x in 0..<n {
                      let v = raw.loadUnaligned(fromByteOffset: 4 * (xmin + x), as: SIMD4<UInt8>.self)
                      acc &+= SIMD4<Int32>(truncatingIfNeeded: v) &* k[x]
                    }
                    drow[xx * 3] = ResampleKernel.clip8(acc[0])
                    drow[xx * 3 + 1] = ResampleKernel.clip8(acc[1])
                    drow[xx * 3 + 2] = ResampleKernel.clip8(acc[2])
                  }
                } else {
                  for xx in 0..<outW {
                    let xmin = bp[2 * xx], n = bp[2 * xx + 1]
                    let k = w + xx * kh.ksize
                    var a = half
                    let p = srow + xmin
                    for x in 0..<n { a &+= Int32(p[x]) &* k[x] }
                    drow[xx] = ResampleKernel.clip8(a)
                  }
                }
              }
            }
          }
        }
      }
      src = PixelImage(width: outW, height: rows, channels: ch, pixels: tmp)
    }
    if outH == height {
      // No vertical resampling: the horizontal pass made the window's rows; without it, crop them.
      return outW != width ? src : src.cropped(left: 0, top: window.lowerBound, width: src.width, height: outRows)
    }
    let outH = outRows
    let srcW = src.width
    var out = [UInt8](repeating: 0, count: srcW * outH * ch)
    src.pixels.withUnsafeBufferPointer { sp in
      out.withUnsafeMutableBufferPointer { dp in
        kv.weights.withUnsafeBufferPointer { wp in
          let s = sp.baseAddress!, d = dp.baseAddress!, w = wp.baseAddress!
          let rowLen = srcW * ch
          var acc = [Int32](repeating: 0, count: rowLen)
          acc.withUnsafeMutableBufferPointer { ap in
            let a = ap.baseAddress!
            let half = Int32(1 << (ResampleKernel.precisionBits - 1))
            for yy in 0..<outH {
              let ymin = kv.bounds[2 * yy] - rowOffset, n = kv.bounds[2 * yy + 1]
              let k = w + yy * kv.ksize
              for i in 0..<rowLen { a[i] = half }
              for y in 0..<n {
                let kk = k[y]
                let srow = s + (ymin + y) * rowLen
                for i in 0..<rowLen { a[i] &+= Int32(srow[i]) &* kk }
              }
              let drow = d + yy * rowLen
              for i in 0..<rowLen { drow[i] = ResampleKernel.clip8(a[i]) }
            }
          }
        }
      }
    }
    return PixelImage(width: srcW, height: outH, channels: ch, pixels: out)
  }

  /// Resized so the shorter side becomes `size`, keeping the aspect ratio; the longer side is
  /// `Int(size * long / short)` (truncated, as torchvision's `Resize(size)`).
  public func resized(shortestSide size: Int, filter: ResampleFilter = .bicubic) -> PixelImage {
    let (w, h) = shortestSideSize(size)
    return resized(width: w, height: h, filter: filter)
  }

  /// The size ``resized(shortestSide:filter:)`` gives.
  func shortestSideSize(_ size: Int) -> (width: Int, height: Int) {
    width <= height
      ? (size, Int(Double(size) * Double(height) / Double(width)))
      : (Int(Double(size) * Double(width) / Double(height)), size)
  }

  /// ``resized(shortestSide:filter:)`` then ``centerCropped(width:height:rounding:)``, computing only
  /// the crop: memory and time stay those of the crop however elongated the image.
  public func resizedAndCenterCropped(
    shortestSide size: Int, width w: Int, height h: Int, filter: ResampleFilter = .bicubic,
    rounding: CropRounding = .halfToEven
  ) -> PixelImage {
    let (rw, rh) = shortestSideSize(size)
    guard w <= rw, h <= rh else {  // the crop pads: the resize is no larger than the crop
      return resized(width: rw, height: rh, filter: filter).centerCropped(width: w, height: h, rounding: rounding)
    }
    let (left, top) = (Self.centerCropOffset(rw, w, rounding), Self.centerCropOffset(rh, h, rounding))
    return resized(width: rw, height: rh, filter: filter, columns: left..<(left + w), rows: top..<(top + h))
  }

  /// Where a centred crop of `crop` starts in `extent` (both ≥ 0, crop ≤ extent).
  static func centerCropOffset(_ extent: Int, _ crop: Int, _ rounding: CropRounding) -> Int {
    Int((Double(extent - crop) / 2).rounded(rounding == .halfToEven ? .toNearestOrEven : .down))
  }

  /// The central `width × height` region; offsets rounded as `rounding` says (torchvision's
  /// `CenterCrop` rounds half to even, Hugging Face's `CLIPImageProcessor` down). Images smaller
  /// than the crop are zero-padded first.
  public func centerCropped(width w: Int, height h: Int, rounding: CropRounding = .halfToEven) -> PixelImage {
    var img = self
    if w > width || h > height {
      let pw = max(w, width), ph = max(h, height)
      var padded = PixelImage(width: pw, height: ph, channels: channels, fill: 0)
      let ox = (pw - width) / 2, oy = (ph - height) / 2
      for y in 0..<height {
        for x in 0..<width {
          for c in 0..<channels { padded[y + oy, x + ox, c] = self[y, x, c] }
        }
      }
      img = padded
    }
    return img.cropped(
      left: Self.centerCropOffset(img.width, w, rounding), top: Self.centerCropOffset(img.height, h, rounding),
      width: w,
      height: h)
  }
}
