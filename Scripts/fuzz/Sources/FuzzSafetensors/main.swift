import FuzzShared
import NN
import Support

/// Any bytes as a safetensors file: the header must be refused or every tensor must decode.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let path = Scratch.file(UnsafeRawBufferPointer(start: data, count: size), "x.safetensors")
  guard let file = try? SafetensorsFile(path: path) else { return 0 }
  for name in file.shapes.keys.sorted() where (file.shapes[name].flatMap(checkedProduct) ?? .max) <= 1 << 20 {
    _ = try? file.tensor(name)
  }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
