import Datasets
import Foundation
import FuzzShared

/// Any bytes as an .npy array, then as numbers and as an image.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
  if let a = try? NpyArray(bytes: bytes) {
    _ = a.doubles()
    _ = try? a.grayImage()
  }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
