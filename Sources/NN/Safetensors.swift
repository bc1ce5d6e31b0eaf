import Foundation
import Support
import Tensor

/// Element types of a safetensors file. Every one is validated; all but the 8-bit floats are
/// decoded to Float32 (integer tensors such as old checkpoints' `position_ids` included).
public enum SafetensorsDType: String, Sendable, CaseIterable {
  case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
  case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
  case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .f64, .i64: return 8
    case .f32, .i32: return 4
    case .f16, .bf16, .i16: return 2
    case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
    }
  }

  /// Element `element` of little-endian data at `base`, as Float32 (8-bit floats, which
  /// PyTorch storages never hold, decode as NaN).
  func decode(_ base: UnsafeRawPointer, element: Int) -> Float {
    let at = element * size
    switch self {
    case .f32: return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
    case .f64:
      return Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
    case .f16: return halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
    case .bf16:
      return Float(
        bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self))) << 16)
    case .i64: return Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Int64.self)))
    case .i32: return Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Int32.self)))
    case .i16: return Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Int16.self)))
    case .i8: return Float(base.load(fromByteOffset: at, as: Int8.self))
    case .u8, .bool: return Float(base.load(fromByteOffset: at, as: UInt8.self))
    case .f8e4m3, .f8e5m2: return .nan
    }
  }
}

/// Problems found in a safetensors file; each names the file and, where known, the tensor.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let tensor: String?
  public let problem: String

  public init(file: String, tensor: String? = nil, _ problem: String) {
    self.file = file
    self.tensor = tensor
    self.problem = problem
  }

  public var description: String {
    "safetensors \(file)" + (tensor.map { ", tensor '\($0)'" } ?? "") + ": \(problem)"
  }
}

/// One tensor's entry in the header.
public struct SafetensorsEntry: Sendable, Equatable {
  public let name: String
  public let dtype: SafetensorsDType
  public let shape: [Int]
  /// Byte range inside the data section (after the header).
  public let begin: Int, end: Int
}

/// A safetensors file, memory-mapped read-only: tensors are decoded straight from the mapping
/// into Float32 buffers, so loading a checkpoint costs one copy of each tensor, never the file.
///
/// Format: 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}`, then data.
public final class SafetensorsFile: @unchecked Sendable {
  /// Largest accepted header (the reference implementation's bound).
  public static let maxHeaderBytes = 100_000_000

  public let path: String
  /// Entries in data order.
  public let entries: [SafetensorsEntry]
  /// The optional `__metadata__` string map.
  public let metadata: [String: String]
  private let byName: [String: Int]
  private let base: UnsafeRawPointer
  private let mappedLength: Int
  private let dataStart: Int

  /// Maps and validates the file at `path`.
  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw SafetensorsError(file: path, "cannot open (\(String(cString: strerror(errno))))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw SafetensorsError(file: path, "cannot stat") }
    let size = Int(st.st_size)
    guard size >= 8 else {
      throw SafetensorsError(file: path, "file is \(size) bytes, shorter than the 8-byte header length")
    }
    guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
      throw SafetensorsError(file: path, "mmap failed (\(String(cString: strerror(errno))))")
    }
    base = UnsafeRawPointer(m)
    mappedLength = size
    do {
      let parsed = try Self.parseHeader(base, fileSize: size, file: path)
      entries = parsed.entries
      metadata = parsed.metadata
      dataStart = parsed.dataStart
      byName = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    } catch {
      munmap(m, size)
      throw error
    }
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }

  /// Tensor names in data order.
  public var names: [String] { entries.map(\.name) }

  /// The header entry for `name`.
  public func entry(_ name: String) -> SafetensorsEntry? { byName[name].map { entries[$0] } }

  /// Decodes tensor `name` into `destination` (which must hold its element count) as Float32.
  public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
    guard let e = entry(name) else { throw SafetensorsError(file: path, tensor: name, "no such tensor") }
    let src = base + dataStart + e.begin
    let n = (e.end - e.begin) / e.dtype.size
    func convert<T>(_: T.Type, _ f: (T) -> Float) {
      for i in 0..<n { destination[i] = f(src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
    }
    switch e.dtype {
    case .f32:
      UnsafeMutableRawPointer(destination).copyMemory(from: src, byteCount: n * 4)
    case .f64: convert(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
    case .i64: convert(UInt64.self) { Float(Int64(bitPattern: UInt64(littleEndian: $0))) }
    case .i32: convert(UInt32.self) { Float(Int32(bitPattern: UInt32(littleEndian: $0))) }
    case .i16: convert(UInt16.self) { Float(Int16(bitPattern: UInt16(littleEndian: $0))) }
    case .i8: convert(Int8.self) { Float($0) }
    case .u8, .bool: convert(UInt8.self) { Float($0) }
    case .f8e4m3, .f8e5m2:
      throw SafetensorsError(
        file: path, tensor: name, "\(e.dtype.rawValue) tensors cannot be read as Float32 by FairMed")
    case .f16:
      for i in 0..<n { destination[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    case .bf16:
      for i in 0..<n {
        destination[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
      }
    }
    release(begin: dataStart + e.begin, end: dataStart + e.end)
  }

  /// Drops the mapped pages of a byte range that has been decoded, so a loaded checkpoint is not
  /// held twice in this process's memory (the kernel's page cache keeps the file; a later read
  /// faults the pages back in).
  private func release(begin: Int, end: Int) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let lo = (begin + page - 1) / page * page, hi = end / page * page
    guard hi > lo else { return }
    _ = madvise(UnsafeMutableRawPointer(mutating: base) + lo, hi - lo, Int32(MADV_DONTNEED))
  }

  /// Tensor `name` as a new Float32 tensor.
  public func tensor(_ name: String) throws -> Tensor {
    guard let e = entry(name) else { throw SafetensorsError(file: path, tensor: name, "no such tensor") }
    let t = Tensor.zeros(e.shape)
    try read(name, into: t.pointer)
    t.name = name
    return t
  }

  /// Every tensor, by name (materialises the whole file; prefer ``read(_:into:)`` for big ones).
  public func allTensors() throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for e in entries { out[e.name] = try tensor(e.name) }
    return out
  }

  // MARK: Header validation

  static func parseHeader(_ base: UnsafeRawPointer, fileSize: Int, file: String) throws
    -> (entries: [SafetensorsEntry], metadata: [String: String], dataStart: Int)
  {
    let n64 = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
    guard n64 <= UInt64(maxHeaderBytes) else {
      throw SafetensorsError(file: file, "header length \(n64) exceeds the \(maxHeaderBytes)-byte bound")
    }
    let n = Int(n64)
    guard 8 + n <= fileSize else {
      throw SafetensorsError(file: file, "header length \(n) runs past the end of the \(fileSize)-byte file")
    }
    let json = Data(bytes: base + 8, count: n)
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: json)
    } catch {
      throw SafetensorsError(file: file, "header is not valid JSON")
    }
    guard let dict = object as? [String: Any] else {
      throw SafetensorsError(file: file, "header is not a JSON object")
    }
    let dataSize = fileSize - 8 - n
    var metadata: [String: String] = [:]
    var entries: [SafetensorsEntry] = []
    for (name, value) in dict {
      if name == "__metadata__" {
        guard let m = value as? [String: Any] else {
          throw SafetensorsError(file: file, "__metadata__ is not an object")
        }
        for (k, v) in m {
          guard let s = v as? String else {
            throw SafetensorsError(file: file, "__metadata__ value for '\(k)' is not a string")
          }
          metadata[k] = s
        }
        continue
      }
      entries.append(try parseEntry(name, value, dataSize: dataSize, file: file))
    }
    entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
      throw SafetensorsError(
        file: file, tensor: b.name,
        "byte range [\(b.begin), \(b.end)) overlaps tensor '\(a.name)' at [\(a.begin), \(a.end))")
    }
    return (entries, metadata, 8 + n)
  }

  private static func parseEntry(_ name: String, _ value: Any, dataSize: Int, file: String) throws
    -> SafetensorsEntry
  {
    func fail(_ m: String) -> SafetensorsError { SafetensorsError(file: file, tensor: name, m) }
    guard let d = value as? [String: Any] else { throw fail("entry is not a JSON object") }
    guard let dt = d["dtype"] as? String else { throw fail("missing dtype") }
    guard let dtype = SafetensorsDType(rawValue: dt) else {
      throw fail("unknown dtype \(dt) (known: \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    guard let shapeAny = d["shape"] as? [Any], let shape = intArray(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
      throw fail("shape is missing or not a list of non-negative integers")
    }
    guard let offAny = d["data_offsets"] as? [Any], let off = intArray(offAny), off.count == 2 else {
      throw fail("data_offsets is missing or not two integers")
    }
    let (begin, end) = (off[0], off[1])
    guard begin >= 0, begin <= end else { throw fail("data_offsets [\(begin), \(end)] are not an increasing range") }
    guard end <= dataSize else {
      throw fail("byte range [\(begin), \(end)) lies outside the \(dataSize)-byte data section")
    }
    guard let bytes = checkedProduct(shape + [dtype.size]) else {
      throw fail("shape \(shape) × \(dtype.rawValue) needs more than 2^63 bytes")
    }
    guard bytes == end - begin else {
      throw fail("shape \(shape) × \(dtype.rawValue) needs \(bytes) bytes but the range holds \(end - begin)")
    }
    return SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
  }

  private static func intArray(_ a: [Any]) -> [Int]? {
    var out: [Int] = []
    for x in a {
      guard let num = x as? NSNumber else { return nil }
      let d = num.doubleValue
      guard d == d.rounded(), abs(d) < 9e15 else { return nil }
      out.append(num.intValue)
    }
    return out
  }
}

/// IEEE 754 binary16 → binary32 (handles subnormals, infinities and NaN).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
  let sign = UInt32(h & 0x8000) << 16
  let exp = Int(h >> 10) & 0x1F
  let mant = UInt32(h & 0x3FF)
  if exp == 0 {
    if mant == 0 { return Float(bitPattern: sign) }
    let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
    return sign != 0 ? -v : v
  }
  if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
  return Float(bitPattern: sign | (UInt32(exp + 112) << 23) | (mant << 13))
}
