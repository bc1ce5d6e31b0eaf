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
