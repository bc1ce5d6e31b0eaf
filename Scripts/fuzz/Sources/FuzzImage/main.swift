import Datasets
import Foundation
import FuzzShared

/// Any bytes as a JPEG or PNG, then through the CLIP preprocessing when they decode.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
  if let image = try? ImageCodec.decode(bytes), image.width * image.height <= 1 << 20 {
    var rng = SeededRNG(seed: 0)
    _ = ImageTransform(size: 16)(image, rng: &rng)
  }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
