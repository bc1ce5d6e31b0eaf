import Foundation
import TestSupport
import Testing
@testable import Datasets

@Suite struct TransformTests {
  /// Resize against Pillow's `Image.resize` (antialiased bicubic / bilinear). FairMed follows
  /// Pillow's fixed-point algorithm, so the stated tolerance is ±1 per sample.
  @Test(arguments: [
    ("resize_bicubic_16", 20, 16, ResampleFilter.bicubic),
    ("resize_bilinear_16", 20, 16, .bilinear),
    ("resize_bicubic_up", 50, 41, .bicubic),
    ("resize_bilinear_wide", 11, 29, .bilinear),
    ("resize_bicubic_tall", 37, 12, .bicubic),
  ])
  func resizeMatchesPillow(name: String, width: Int, height: Int, filter: ResampleFilter) throws {
    let src = try ImageCodec.decode(file: fixturePath("images/resize_src.png"))
    let out = src.resized(width: width, height: height, filter: filter)
    #expect(maxDifference(out, try reference(name)) <= 1)
  }

  @Test func grayResizeAndShortestSide() throws {
    let gray = try ImageCodec.decode(file: fixturePath("images/resize_src_gray.png"))
    #expect(maxDifference(gray.resized(width: 9, height: 7), try reference("resize_gray_bicubic")) <= 1)
    let src = try ImageCodec.decode(file: fixturePath("images/resize_src.png"))  // 37 × 29
    let s = src.resized(shortestSide: 16, filter: .bicubic)
    #expect(s.width == 20 && s.height == 16)  // Int(16 · 37 / 29) = 20, as torchvision
    #expect(maxDifference(s, try reference("resize_bicubic_16")) <= 1)
  }

  @Test func centerCropOffsetsAndPadding() {
    var img = PixelImage(width: 6, height: 5, channels: 1)
    for y in 0..<5 { for x in 0..<6 { img[y, x, 0] = UInt8(10 * y + x) } }
    let c = img.centerCropped(width: 3, height: 2)
    // left = round(1.5) = 2 (half to even), top = round(1.5) = 2
    #expect(c.pixels == [22, 23, 24, 32, 33, 34])
    let padded = img.centerCropped(width: 8, height: 5)
    #expect(padded.width == 8 && padded[0, 0, 0] == 0 && padded[0, 1, 0] == 0)
  }

  /// The evaluation geometry computes only the crop of the resize: the same pixels as resizing
  /// the whole image and cropping, for wide, tall, square, gray and colour images, both filters
  /// and both roundings, and up- and down-scaling.
  @Test func resizingOnlyTheCropEqualsResizingThenCropping() {
    var rng = SeededRNG(seed: 3)
    for (w, h, ch) in [(37, 29, 3), (29, 37, 1), (3, 200, 3), (200, 3, 1), (64, 64, 3), (8, 11, 3), (50, 7, 3)] {
      var img = PixelImage(width: w, height: h, channels: ch)
      for i in img.pixels.indices { img.pixels[i] = UInt8(rng.next() % 256) }
      for (side, crop) in [(16, 16), (24, 16), (40, 32), (11, 7), (16, 24)] {
        for filter in ResampleFilter.allCases {
          for rounding in CropRounding.allCases {
            let whole = img.resized(shortestSide: side, filter: filter).centerCropped(
              width: crop, height: crop, rounding: rounding)
            let window = img.resizedAndCenterCropped(
              shortestSide: side, width: crop, height: crop, filter: filter, rounding: rounding)
            #expect(window == whole, "\(w)×\(h)×\(ch) → \(side), crop \(crop), \(filter), \(rounding)")
          }
        }
      }
    }
  }

  /// A 1 × 100,000 image (far under the pixel limit) goes through the evaluation transform: its
  /// 224 × 22,400,000 resize (15 GB) is never made.
  @Test func anElongatedImageIsTransformedWithoutItsWholeResize() {
    let t = ImageTransform(size: 224)
    var rng = SeededRNG(seed: 0)
    for img in [
      PixelImage(width: 1, height: 100_000, channels: 3, fill: 90),
      PixelImage(width: 100_000, height: 1, channels: 1, fill: 90),
    ] {
      let out = t(img, rng: &rng)
      #expect(out.count == 3 * 224 * 224 && out.allSatisfy(\.isFinite))
    }
  }

  @Test func clipNormalisationLayout() {
    var img = PixelImage(width: 4, height: 4, channels: 3)
    for i in 0..<16 { img.pixels[3 * i] = 255; img.pixels[3 * i + 1] = 0; img.pixels[3 * i + 2] = 128 }
    let t = ImageTransform(size: 4)
    var rng = SeededRNG(seed: 0)
    let out = t(img, rng: &rng)
    #expect(out.count == 3 * 16)
    #expect(abs(out[0] - (1 - 0.48145466) / 0.26862954) < 1e-5)  // channel 0 plane
    #expect(abs(out[16] - (0 - 0.4578275) / 0.26130258) < 1e-5)  // channel 1 plane
    #expect(abs(out[47] - (128.0 / 255 - 0.40821073) / 0.27577711) < 1e-5)
    // Gray input is repeated into three channels.
    let g = t(PixelImage(width: 4, height: 4, channels: 1, fill: 255), rng: &rng)
    #expect(abs(g[0] - (1 - 0.48145466) / 0.26862954) < 1e-5 && abs(g[32] - (1 - 0.40821073) / 0.27577711) < 1e-5)
  }

  @Test func preprocessorConfigOverridesDefaults() throws {
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let json =
      #"{"crop_size": {"height": 32, "width": 32}, "size": {"shortest_edge": 40}, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25], "resample": 2}"#
    try json.write(toFile: dir + "/preprocessor_config.json", atomically: true, encoding: .utf8)
    let t = try ImageTransform(preprocessorConfig: dir + "/preprocessor_config.json")
    #expect(t.size == 32 && t.resizeShortestSide == 40 && t.filter == .bilinear && t.mean == [0.5, 0.5, 0.5])
    let d = ImageTransform()
    #expect(d.mean == ImageTransform.clipMean && d.std == ImageTransform.clipStd && d.size == 224)
  }

  /// A key of the wrong type, or a step FairMed's preprocessing does not do, is an error naming
  /// the file and the key, never the CLIP default in its place.
  @Test func aPreprocessorConfigValueFairMedCannotHonourIsRefusedByKey() throws {
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/preprocessor_config.json"
    for (json, key) in [
      (#"{"image_mean": "0.5"}"#, "image_mean"), (#"{"image_std": [0.2, 0.2]}"#, "image_std"),
      (#"{"crop_size": "336"}"#, "crop_size"), (#"{"size": {"shortest_edge": "40"}}"#, "size.shortest_edge"),
      (#"{"resample": "2"}"#, "resample"), (#"{"resample": 0}"#, "resample"),
      (#"{"crop_size": {"height": 32, "width": 24}}"#, "crop_size"),
      (#"{"size": {"height": 224, "width": 224}}"#, "without keeping the aspect ratio"),
      (#"{"do_center_crop": false}"#, "do_center_crop"), (#"{"do_normalize": 0}"#, "do_normalize"),
      (#"{"rescale_factor": 1.0}"#, "rescale_factor"), (#"{"image_std": [0.2, 0.2, 0]}"#, "image_std"),
    ] {
      try json.write(toFile: path, atomically: true, encoding: .utf8)
      #expect(Comment(rawValue: json)) {
        _ = try ImageTransform(preprocessorConfig: path)
      } throws: { error in "\(error)".contains(path) && "\(error)".contains(key) }
    }
    // What transformers writes for CLIP is read as it says.
    try
      #"{"do_resize": true, "do_center_crop": true, "rescale_factor": 0.00392156862745098, "size": 40, "crop_size": 32}"#
      .write(toFile: path, atomically: true, encoding: .utf8)
    let t = try ImageTransform(preprocessorConfig: path)
    #expect(t.size == 32 && t.resizeShortestSide == 40 && t.filter == .bicubic)
  }

  @Test func augmentationIsSeededAndVaries() throws {
    let src = try ImageCodec.decode(file: fixturePath("images/resize_src.png"))
    let t = ImageTransform(size: 16, augmentation: Augmentation(scale: 0.3...1.0, colorJitter: 0.2))
    var a = SeededRNG(seed: 5, stream: 0, 1), b = SeededRNG(seed: 5, stream: 0, 1), c = SeededRNG(seed: 5, stream: 0, 2)
    let x = t(src, rng: &a), y = t(src, rng: &b), z = t(src, rng: &c)
    #expect(x == y)
    #expect(x != z)
    // Crop boxes stay inside the image and respect the area range.
    var rng = SeededRNG(seed: 1)
    for _ in 0..<200 {
      let box = t.augmentation!.cropBox(width: 37, height: 29, rng: &rng)
      #expect(box.left >= 0 && box.top >= 0 && box.left + box.width <= 37 && box.top + box.height <= 29)
    }
    let flipped = src.flippedHorizontally()
    #expect(flipped[3, 0, 1] == src[3, 36, 1] && flipped.flippedHorizontally() == src)
  }
}
