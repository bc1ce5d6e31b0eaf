import Foundation
import Tensor
import Support

/// Writes Float32 safetensors files atomically: the data goes to a temporary file in the same
/// folder, which is renamed over the destination only once it is complete.
public enum Safetensors {
  /// Writes `tensors` (name, tensor) as F32 in the given order, with optional string metadata.
  public static func write(
    _ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String
  ) throws {
    var seen = Set<String>()
    for (name, _) in tensors where !seen.insert(name).inserted {
      throw SafetensorsError(file: path, tensor: name, "name appears twice")
    }
    let header = try headerBytes(tensors, metadata: metadata, path: path)
    do {
      try AtomicWrite.stream(to: path) { f in
        var length = UInt64(header.count).littleEndian
        guard fwrite(&length, 8, 1, f) == 1,
          header.withUnsafeBytes({ fwrite($0.baseAddress, 1, header.count, f) == header.count })
        else { return false }
        // Float32 is stored little-endian; every platform FairMed targets is little-endian.
        return tensors.allSatisfy { $0.1.count == 0 || fwrite($0.1.pointer, 4, $0.1.count, f) == $0.1.count }
      }
    } catch let e as FileWriteError {
      throw SafetensorsError(file: path, e.reason)
    }
  }

  /// Writes a name → tensor map, names sorted (the order Hugging Face's writer uses for one dtype).
  public static func write(
    _ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String
  ) throws {
    try write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: metadata, to: path)
  }

  /// The JSON header, padded with spaces to a multiple of 8 bytes so the data stays aligned.
  static func headerBytes(_ tensors: [(String, Tensor)], metadata: [String: String], path: String) throws -> Data {
    var header: [(String, JSONValue)] = []
    if !metadata.isEmpty {
      header.append(
        ("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })))
    }
    var offset = 0
    for (name, t) in tensors {
      if name == "__metadata__" { throw SafetensorsError(file: path, tensor: name, "reserved name") }
      let bytes = t.count * 4
      header.append(
        (
          name,
          .object([
            ("dtype", .string("F32")), ("shape", .array(t.shape.map(JSONValue.integer))),
            ("data_offsets", .array([.integer(offset), .integer(offset + bytes)])),
          ])
        ))
      offset += bytes
    }
    var s = JSONValue.object(header).serialized(.compact)
    while (s.utf8.count + 8) % 8 != 0 { s += " " }
    return Data(s.utf8)
  }
}
