import Foundation
import Tensor

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
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
    guard let f = fopen(tmp, "wb") else {
      throw SafetensorsError(file: path, "cannot create \(tmp) (\(String(cString: strerror(errno))))")
    }
    var ok = true
    var length = UInt64(header.count).littleEndian
    ok = ok && fwrite(&length, 8, 1, f) == 1
    ok = ok && header.withUnsafeBytes { fwrite($0.baseAddress, 1, header.count, f) == header.count }
    for (_, t) in tensors where ok && t.count > 0 {
      // Float32 is stored little-endian; every platform FairMed targets is little-endian.
      ok = fwrite(t.pointer, 4, t.count, f) == t.count
    }
    ok = fflush(f) == 0 && ok
    ok = fsync(fileno(f)) == 0 && ok
    ok = fclose(f) == 0 && ok
    guard ok else {
      unlink(tmp)
      throw SafetensorsError(file: path, "write failed (\(String(cString: strerror(errno))))")
    }
    guard rename(tmp, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(tmp)
      throw SafetensorsError(file: path, "cannot rename the temporary file into place (\(reason))")
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
    var parts: [String] = []
    if !metadata.isEmpty {
      let m = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
      parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
    }
    var offset = 0
    for (name, t) in tensors {
      if name == "__metadata__" { throw SafetensorsError(file: path, tensor: name, "reserved name") }
      let bytes = t.count * 4
      let shape = t.shape.map(String.init).joined(separator: ",")
      parts.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
      offset += bytes
    }
    var s = "{" + parts.joined(separator: ",") + "}"
    while (s.utf8.count + 8) % 8 != 0 { s += " " }
    return Data(s.utf8)
  }

  /// A JSON string literal.
  public static func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
      }
    }
    return out + "\""
  }
}
