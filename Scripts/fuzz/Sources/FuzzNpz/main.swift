import Datasets
import Foundation
import FuzzShared

/// Any bytes as an .npz archive (a zip of .npy members, read by FairMed's own ZIP reader).
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  _ = try? Npz.read(path: Scratch.file(UnsafeRawBufferPointer(start: data, count: size), "x.npz"))
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
