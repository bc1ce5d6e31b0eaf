import FuzzShared
import NN
import Support

/// Any bytes as a raw pickle for the restricted unpickler, and as a PyTorch zip checkpoint whose
/// tensors must then all decode (or be refused): never a trap, a hang or unbounded memory.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  var unpickler = RestrictedUnpickler(data: bytes, file: "fuzz.pkl")
  _ = try? unpickler.load()
  let path = Scratch.file(UnsafeRawBufferPointer(start: data, count: size), "x.bin")
  guard let checkpoint = try? TorchCheckpoint(path: path) else { return 0 }
  for (name, shape) in checkpoint.shapes.sorted(by: { $0.key < $1.key }) {
    guard let n = checkedProduct(shape), n <= 1 << 20 else { continue }
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
    defer { buffer.deallocate() }
    try? checkpoint.read(name, into: buffer)
  }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
