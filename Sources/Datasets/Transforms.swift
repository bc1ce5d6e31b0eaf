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
    // Every key FairMed reads has the type transformers writes; a wrong one is an error naming it,
    // never the CLIP default in its place.
    var problems: [String] = []
    func integer(_ v: Any, _ key: String) -> Int? {
      guard let n = v as? NSNumber, !isJSONBoolean(v), n.doubleValue == n.doubleValue.rounded(),
        abs(n.doubleValue) <= 1e9
      else {
        problems.append("\(key) must be an integer, got \(jsonValueDescription(v))")
        return nil
      }
      return n.intValue
    }
    func present(_ key: String) -> Any? { json[key].flatMap { $0 is NSNull ? nil : $0 } }
    // `size` / `crop_size`: an integer, or an object with shortest_edge or a square height and width.
    func side(_ key: String) -> Int? {
      guard let v = present(key) else { return nil }
      if let d = v as? [String: Any] {
        if let e = d["shortest_edge"] { return integer(e, key + ".shortest_edge") }
        guard let h = d["height"].flatMap({ integer($0, key + ".height") }),
          let w = d["width"].flatMap({ integer($0, key + ".width") })
        else {
          problems.append("\(key) must hold shortest_edge or height and width, got \(jsonValueDescription(v))")
          return nil
        }
        guard h == w else {
          problems.append("\(key) \(w)×\(h) is not square")
          return nil
        }
        return h
      }
      return integer(v, key)
    }
    if let v = present("size") as? [String: Any], v["shortest_edge"] == nil, v["height"] != nil {
      problems.append(
        "size \(jsonValueDescription(v)) resizes to a fixed height and width without keeping the aspect ratio; FairMed resizes the shortest edge (size.shortest_edge) and center-crops"
      )
    }
    var filter = ResampleFilter.bicubic
    if let v = present("resample"), let r = integer(v, "resample") {
      switch r {
      case 2: filter = .bilinear
      case 3: filter = .bicubic
      default: problems.append("resample \(r) is not supported (2 = bilinear, 3 = bicubic)")
      }
    }
    // FairMed always converts to RGB, resizes, center-crops, rescales by 1/255 and normalises.
    for key in ["do_resize", "do_center_crop", "do_rescale", "do_normalize", "do_convert_rgb"] {
      guard let v = present(key) else { continue }
      if !isJSONBoolean(v) {
        problems.append("\(key) must be true or false, got \(jsonValueDescription(v))")
      } else if (v as? Bool) == false {
        problems.append("\(key) false is not supported (FairMed's preprocessing always does this step)")
      }
    }
    if let v = present("rescale_factor") {
      if let f = (v as? NSNumber).map(\.doubleValue), !isJSONBoolean(v), abs(f - 1 / 255) > 1e-9 {
        problems.append("rescale_factor \(f) is not supported (FairMed rescales by 1/255)")
      } else if !(v is NSNumber) || isJSONBoolean(v) {
        problems.append("rescale_factor must be a number, got \(jsonValueDescription(v))")
      }
    }
    func triple(_ key: String, default d: [Float]) -> [Float] {
      guard let v = present(key) else { return d }
      guard let a = v as? [Any], a.count == 3,
        let x = Optional(a.compactMap { $0 as? NSNumber }), x.count == 3, !a.contains(where: isJSONBoolean),
        x.allSatisfy({ $0.doubleValue.isFinite })
      else {
        problems.append("\(key) must be 3 finite numbers, got \(jsonValueDescription(v))")
        return d
      }
      return x.map(\.floatValue)
    }
    let mean = triple("image_mean", default: ImageTransform.clipMean)
    let std = triple("image_std", default: ImageTransform.clipStd)
    if !std.allSatisfy({ $0 > 0 }) { problems.append("image_std must be positive, got \(std)") }
    let crop = side("crop_size") ?? side("size") ?? 224
    let resize = side("size") ?? crop
    guard problems.isEmpty else { throw DataError.decode(file: path, reason: problems.joined(separator: "; ")) }
    guard (1...4096).contains(crop), (crop...8192).contains(resize) else {
      throw DataError.decode(
        file: path, reason: "crop size \(crop) must be in 1…4096 and the resize side \(resize) in \(crop)…8192")
    }
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
    return rgb.resizedAndCenterCropped(
      shortestSide: resizeShortestSide, width: size, height: size, filter: filter, rounding: cropRounding)
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
