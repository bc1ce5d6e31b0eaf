import Foundation
import Support

/// The model-input pipeline: decoded 8-bit image → resize (shortest side) → center crop (or a
/// random resized crop when augmenting) → optional flip / colour jitter → Float32 CHW normalised
/// with CLIP's mean and std. Output layout: `[3, size, size]`, channel-major, ready for the model.
public struct ImageTransform: Sendable {
  /// CLIP's default normalisation (OpenAI CLIP, also `CLIPImageProcessor`).
  public static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
  public static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

  /// Side of the square output.
  public var size: Int
  /// Shortest side after the resize step (before the center crop); CLIP uses `size`.
  public var resizeShortestSide: Int
  public var filter: ResampleFilter
  public var mean: [Float]
  public var std: [Float]
  /// Training augmentation; nil for evaluation (deterministic resize + center crop).
  public var augmentation: Augmentation?
  /// How the center crop rounds odd margins (Hugging Face's rule by default).
  public var cropRounding: CropRounding = .down

  public init(
    size: Int = 224, resizeShortestSide: Int? = nil, filter: ResampleFilter = .bicubic,
    mean: [Float] = ImageTransform.clipMean, std: [Float] = ImageTransform.clipStd,
    augmentation: Augmentation? = nil
  ) {
    self.size = size
    self.resizeShortestSide = resizeShortestSide ?? size
    self.filter = filter
    self.mean = mean
    self.std = std
    self.augmentation = augmentation
  }

  /// Reads a Hugging Face `preprocessor_config.json` (`image_mean`, `image_std`, `crop_size`,
  /// `size.shortest_edge`, `resample` 2 = bilinear, 3 = bicubic), or the `image_processor`
  /// object of a `processor_config.json` (transformers 5); absent keys keep CLIP defaults.
  public init(preprocessorConfig path: String, augmentation: Augmentation? = nil) throws {
    guard let bytes = try? readFile(path),
      let file = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]
    else {
      throw DataError.decode(file: path, reason: "not a JSON object")
    }
    let json = file["image_processor"] as? [String: Any] ?? file
    if let r = json["resample"] as? Int, r != 2 && r != 3 {
      throw DataError.decode(file: path, reason: "resample \(r) is not supported (2 = bilinear, 3 = bicubic)")
    }
    if let crop = json["crop_size"] as? [String: Any], let h = crop["height"] as? Int, let w = crop["width"] as? Int,
      h != w
    {
      throw DataError.decode(file: path, reason: "crop_size \(w)×\(h) is not square")
    }
    func side(_ v: Any?) -> Int? {
      if let i = v as? Int { return i }
      if let d = v as? [String: Any] { return (d["shortest_edge"] ?? d["height"]) as? Int }
      return nil
    }
    let crop = side(json["crop_size"]) ?? side(json["size"]) ?? 224
    let resize = side(json["size"]) ?? crop
    guard (1...4096).contains(crop), (crop...8192).contains(resize) else {
      throw DataError.decode(
        file: path, reason: "crop size \(crop) must be in 1…4096 and the resize side \(resize) in \(crop)…8192")
    }
    let mean = (json["image_mean"] as? [Double])?.map(Float.init) ?? ImageTransform.clipMean
    let std = (json["image_std"] as? [Double])?.map(Float.init) ?? ImageTransform.clipStd
    guard mean.count == 3, std.count == 3, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
      throw DataError.decode(file: path, reason: "image_mean and image_std need 3 finite values (std > 0)")
    }
    let filter: ResampleFilter = (json["resample"] as? Int) == 2 ? .bilinear : .bicubic
    self.init(
      size: crop, resizeShortestSide: resize, filter: filter, mean: mean, std: std,
      augmentation: augmentation)
  }

  /// This transform as a Hugging Face `preprocessor_config.json` (`CLIPImageProcessor`), so
  /// `transformers` preprocesses a saved model exactly as FairMed does.
  public func preprocessorConfigJSON() -> String {
    func list(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
    return """
      {
        "crop_size": {"height": \(size), "width": \(size)},
        "do_center_crop": true,
        "do_convert_rgb": true,
        "do_normalize": true,
        "do_rescale": true,
        "do_resize": true,
        "image_mean": \(list(mean)),
        "image_processor_type": "CLIPImageProcessor",
        "image_std": \(list(std)),
        "processor_class": "CLIPProcessor",
        "resample": \(filter == .bilinear ? 2 : 3),
        "rescale_factor": 0.00392156862745098,
        "size": {"shortest_edge": \(resizeShortestSide)}
      }

      """
  }

  /// The geometric part: an 8-bit RGB `size × size` image.
  public func geometry(_ image: PixelImage, rng: inout SeededRNG) -> PixelImage {
    let rgb = image.rgb()
    if let aug = augmentation {
      let box = aug.cropBox(width: rgb.width, height: rgb.height, rng: &rng)
      var out = rgb.cropped(left: box.left, top: box.top, width: box.width, height: box.height)
        .resized(width: size, height: size, filter: filter)
      if aug.horizontalFlip && rng.bernoulli(0.5) { out = out.flippedHorizontally() }
      return out
    }
    return rgb.resized(shortestSide: resizeShortestSide, filter: filter)
      .centerCropped(width: size, height: size, rounding: cropRounding)
  }

  /// Writes the normalised `[3, size, size]` tensor for `image` into `out` (count 3·size²).
  public func apply(_ image: PixelImage, rng: inout SeededRNG, into out: UnsafeMutableBufferPointer<Float>) {
    let g = geometry(image, rng: &rng)
    let plane = size * size
    precondition(out.count >= 3 * plane, "output buffer too small")
    var jitter = (brightness: Float(1), contrast: Float(1), saturation: Float(1))
    if let aug = augmentation, aug.colorJitter > 0 {
      let j = aug.colorJitter
      jitter = (Float(rng.uniform(1 - j, 1 + j)), Float(rng.uniform(1 - j, 1 + j)), Float(rng.uniform(1 - j, 1 + j)))
    }
    let scale: [Float] = (0..<3).map { 1 / (255 * std[$0]) }
    let shift: [Float] = (0..<3).map { mean[$0] / std[$0] }
    g.pixels.withUnsafeBufferPointer { p in
      if jitter == (1, 1, 1) {
        for c in 0..<3 {
          let s = scale[c], b = shift[c]
          let o = out.baseAddress! + c * plane
          for i in 0..<plane { o[i] = Float(p[3 * i + c]) * s - b }
        }
        return
      }
      // Colour jitter on [0,1] values, in torchvision's order: brightness, contrast, saturation.
      var meanGray: Float = 0
      for i in 0..<plane {
        meanGray += (0.299 * Float(p[3 * i]) + 0.587 * Float(p[3 * i + 1]) + 0.114 * Float(p[3 * i + 2])) / 255
      }
      meanGray = meanGray / Float(plane) * jitter.brightness
      let m = SIMD3<Float>(mean[0], mean[1], mean[2]), sd = SIMD3<Float>(std[0], std[1], std[2])
      let luma = SIMD3<Float>(0.299, 0.587, 0.114)
      let o = out.baseAddress!
      for i in 0..<plane {
        var v = SIMD3<Float>(Float(p[3 * i]), Float(p[3 * i + 1]), Float(p[3 * i + 2])) / 255
        v = (v * jitter.brightness).clamped(lowerBound: .zero, upperBound: .one)
        v = ((v - meanGray) * jitter.contrast + meanGray).clamped(lowerBound: .zero, upperBound: .one)
        let gray = (v * luma).sum()
        v = ((v - gray) * jitter.saturation + gray).clamped(lowerBound: .zero, upperBound: .one)
        let x = (v - m) / sd
        o[i] = x[0]
        o[plane + i] = x[1]
        o[2 * plane + i] = x[2]
      }
    }
  }

  /// The normalised `[3, size, size]` tensor as a new array.
  public func callAsFunction(_ image: PixelImage, rng: inout SeededRNG) -> [Float] {
    var out = [Float](repeating: 0, count: 3 * size * size)
    out.withUnsafeMutableBufferPointer { apply(image, rng: &rng, into: $0) }
    return out
  }
}

/// Seeded training augmentation: torchvision-style random resized crop, horizontal flip and a
/// small colour jitter (brightness, contrast, saturation factors drawn from [1−j, 1+j]).
public struct Augmentation: Sendable, Equatable {
  /// Fraction of the image area the crop covers, drawn uniformly from this range.
  public var scale: ClosedRange<Double>
  /// Crop aspect ratio range, drawn log-uniformly.
  public var ratio: ClosedRange<Double>
  public var horizontalFlip: Bool
  /// Jitter strength j (0 disables it).
  public var colorJitter: Double

  public init(
    scale: ClosedRange<Double> = 0.6...1.0, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
    horizontalFlip: Bool = true, colorJitter: Double = 0.1
  ) {
    self.scale = scale
    self.ratio = ratio
    self.horizontalFlip = horizontalFlip
    self.colorJitter = colorJitter
  }

  /// torchvision's `RandomResizedCrop.get_params`: 10 tries, then a center crop at the clamped ratio.
  public func cropBox(width: Int, height: Int, rng: inout SeededRNG) -> (left: Int, top: Int, width: Int, height: Int) {
    let area = Double(width * height)
    let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
    for _ in 0..<10 {
      let target = area * rng.uniform(scale.lowerBound, scale.upperBound)
      let aspect = exp(rng.uniform(logRatio.0, logRatio.1))
      let w = Int((target * aspect).squareRoot().rounded())
      let h = Int((target / aspect).squareRoot().rounded())
      if w > 0 && h > 0 && w <= width && h <= height {
        let top = Int(rng.next() % UInt64(height - h + 1))
        let left = Int(rng.next() % UInt64(width - w + 1))
        return (left, top, w, h)
      }
    }
    let inRatio = Double(width) / Double(height)
    var w = width, h = height
    if inRatio < ratio.lowerBound {
      h = Int((Double(w) / ratio.lowerBound).rounded())
    } else if inRatio > ratio.upperBound {
      w = Int((Double(h) * ratio.upperBound).rounded())
    }
    return ((width - w) / 2, (height - h) / 2, w, h)
  }
}
