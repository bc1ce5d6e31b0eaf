import Foundation
import TestSupport
@testable import Datasets

/// Copies a fixture folder into a temporary directory so a test can damage it.
func copyOfFixture(_ relative: String) -> String {
  let dir = freshDirectory("data") + "/copy"
  try! FileManager.default.copyItem(atPath: fixturePath(relative), toPath: dir)
  return dir
}

/// Reads a Pillow-written uint8 reference array as an image.
func reference(_ name: String) throws -> PixelImage {
  let bytes = FileManager.default.contents(atPath: fixturePath("images/" + name + ".npy"))!
  return try NpyArray(bytes: bytes, name: name).grayImage(name: name)
}

/// Largest absolute per-sample difference between two images of one shape.
func maxDifference(_ a: PixelImage, _ b: PixelImage) -> Int {
  precondition(a.width == b.width && a.height == b.height && a.channels == b.channels, "shape mismatch")
  return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

func rewrite(_ path: String, _ transform: (String) -> String) {
  let text = try! String(contentsOfFile: path, encoding: .utf8)
  try! transform(text).write(toFile: path, atomically: true, encoding: .utf8)
}
