import Foundation
import Support

/// A NumPy `.npy` array (format versions 1.0, 2.0 and 3.0; little-endian; C order).
///
/// Supported element types: bool, int8/16/32/64, uint8/16/32/64, float32/64, and fixed-width
/// strings (`S` bytes, `U` UTF-32). Pickled object arrays are rejected with a clear error.
public struct NpyArray: Sendable {
  /// Element type, from the header's `descr`.
  public enum DType: Sendable, Equatable {
    case bool, int(bytes: Int), uint(bytes: Int), float(bytes: Int)
    case bytes(length: Int), unicode(length: Int)

    var itemSize: Int {
      switch self {
      case .bool: return 1
      case .int(let b), .uint(let b), .float(let b): return b
      case .bytes(let n): return n
      case .unicode(let n): return 4 * n
      }
    }
  }

  public let dtype: DType
  /// Dimensions; `[]` for a 0-d scalar.
  public let shape: [Int]
  /// The raw element bytes, C order, little-endian.
  public let raw: Data

  public var count: Int { checkedProduct(shape) ?? 0 }

  /// Parses a whole `.npy` file's bytes; `name` appears in errors.
  public init(bytes: Data, name: String = "<npy>") throws {
    let b = [UInt8](bytes)
    func fail(_ why: String) -> DataError { .decode(file: name, reason: why) }
    guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else {
      throw fail("not an .npy array (bad magic)")
    }
    let major = b[6]
    var headerLength: Int
    var offset: Int
    switch major {
    case 1:
      headerLength = Int(b[8]) | Int(b[9]) << 8
      offset = 10
    case 2, 3:
      guard b.count >= 12 else { throw fail("truncated header") }
      headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
      offset = 12
    default:
      throw fail("unsupported .npy version \(major)")
    }
    guard offset + headerLength <= b.count else { throw fail("truncated header") }
    let encoding: String.Encoding = major == 3 ? .utf8 : .isoLatin1
    guard let header = String(bytes: b[offset..<(offset + headerLength)], encoding: encoding) else {
      throw fail("unreadable header")
    }
    let descr = try NpyArray.field("descr", in: header, name: name)
    let fortran = try NpyArray.field("fortran_order", in: header, name: name)
    let shapeText = try NpyArray.field("shape", in: header, name: name)
    if fortran.hasPrefix("True") { throw fail("Fortran-order arrays are not supported") }
    let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
      .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    var shape: [Int] = []
    for d in dims {
      guard let v = Int(d), v >= 0 else { throw fail("bad shape \(shapeText)") }
      shape.append(v)
    }
    let dtype = try NpyArray.parseDescr(descr, name: name)
    let start = offset + headerLength
    guard let needed = checkedProduct(shape + [dtype.itemSize]) else {
      throw fail("shape \(shapeText) needs more than 2^63 bytes")
    }
    guard b.count - start >= needed else {
      throw fail("truncated data: \(b.count - start) of \(needed) bytes")
    }
    self.dtype = dtype
    self.shape = shape
    self.raw = bytes.subdata(in: (bytes.startIndex + start)..<(bytes.startIndex + start + needed))
  }

  /// An array from values (used by the writer and the synthetic generator).
  public init(dtype: DType, shape: [Int], raw: Data) {
    precondition(raw.count == shape.reduce(1, *) * dtype.itemSize, "raw size does not match shape")
    self.dtype = dtype
    self.shape = shape
    self.raw = raw
  }

  private static func field(_ key: String, in header: String, name: String) throws -> String {
    for quote in ["'", "\""] {
      if let r = header.range(of: "\(quote)\(key)\(quote)") {
        var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
          guard let close = rest.firstIndex(of: ")") else { break }
          return String(rest[...close])
        }
        if rest.first == "'" || rest.first == "\"" {
          let q = rest.first!
          rest = rest.dropFirst()
          return String(rest.prefix { $0 != q })
        }
        return String(rest.prefix { $0 != "," && $0 != "}" })
      }
    }
    throw DataError.decode(file: name, reason: "header lacks '\(key)'")
  }

  private static func parseDescr(_ d: String, name: String) throws -> DType {
    guard let first = d.first else { throw DataError.decode(file: name, reason: "empty dtype") }
    var body = Substring(d)
    if "<|=>".contains(first) {
      if first == ">" && !d.hasSuffix("1") && !d.dropFirst().hasPrefix("S") {
        throw DataError.decode(file: name, reason: "big-endian dtype \(d) is not supported")
      }
      body = body.dropFirst()
    }
    guard let kind = body.first, let n = Int(body.dropFirst()) else {
      throw DataError.decode(file: name, reason: "unsupported dtype \(d)")
    }
    switch kind {
    case "b" where n == 1: return .bool
    case "i" where [1, 2, 4, 8].contains(n): return .int(bytes: n)
    case "u" where [1, 2, 4, 8].contains(n): return .uint(bytes: n)
    case "f" where n == 4 || n == 8: return .float(bytes: n)
    // Fixed-width strings: a length NumPy itself accepts (its item size is a C int).
    case "S" where (1...Int(Int32.max)).contains(n): return .bytes(length: n)
    case "U" where (1...Int(Int32.max) / 4).contains(n): return .unicode(length: n)
    case "S", "U":
      throw DataError.decode(
        file: name, reason: "dtype \(d): a string length must be 1…\(kind == "S" ? Int(Int32.max) : Int(Int32.max) / 4)"
      )
    default:
      let hint = kind == "O" ? " (pickled object arrays are not supported)" : ""
      throw DataError.decode(file: name, reason: "unsupported dtype \(d)\(hint)")
    }
  }

  /// All elements as Double (numeric and bool arrays).
  public func doubles() -> [Double]? {
    let n = count
    return raw.withUnsafeBytes { p -> [Double]? in
      func load<T>(_ t: T.Type, _ f: (T) -> Double) -> [Double] {
        (0..<n).map { f(p.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
      }
      switch dtype {
      case .bool, .uint(1): return load(UInt8.self) { Double($0) }
      case .int(1): return load(Int8.self) { Double($0) }
      case .int(2): return load(Int16.self) { Double(Int16(littleEndian: $0)) }
      case .int(4): return load(Int32.self) { Double(Int32(littleEndian: $0)) }
      case .int(8): return load(Int64.self) { Double(Int64(littleEndian: $0)) }
      case .uint(2): return load(UInt16.self) { Double(UInt16(littleEndian: $0)) }
      case .uint(4): return load(UInt32.self) { Double(UInt32(littleEndian: $0)) }
      case .uint(8): return load(UInt64.self) { Double(UInt64(littleEndian: $0)) }
      case .float(4): return load(UInt32.self) { Double(Float(bitPattern: UInt32(littleEndian: $0))) }
      case .float(8): return load(UInt64.self) { Double(bitPattern: UInt64(littleEndian: $0)) }
      default: return nil
      }
    }
  }

  /// The first element as Double (for 0-d scalars such as `glaucoma` or `age`).
  public var scalar: Double? { count >= 1 ? doubles()?.first : nil }

  /// The first element as text (for `S`/`U` arrays such as `note`), trailing NULs removed.
  public var string: String? {
    switch dtype {
    case .bytes(let n):
      let bytes = raw.prefix(n).prefix { $0 != 0 }
      return String(decoding: bytes, as: UTF8.self)
    case .unicode(let n):
      var scalars = String.UnicodeScalarView()
      raw.withUnsafeBytes { p in
        for i in 0..<min(n, p.count / 4) {
          let v = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
          if v == 0 { break }
          if let s = Unicode.Scalar(v) { scalars.append(s) }
        }
      }
      return String(scalars)
    default:
      return nil
    }
  }

  /// A 2-D array as an 8-bit gray image. uint8 is taken as is; other types are rounded and
  /// clamped to 0...255, except float arrays whose values all lie in [0, 1], which are scaled by 255.
  public func grayImage(name: String = "<npy>") throws -> PixelImage {
    guard shape.count == 2 || (shape.count == 3 && (shape[2] == 1 || shape[2] == 3)) else {
      throw DataError.decode(file: name, reason: "expected a 2-D image array, got shape \(shape)")
    }
    let h = shape[0], w = shape[1], c = shape.count == 3 ? shape[2] : 1
    guard h > 0, w > 0 else {
      throw DataError.decode(file: name, reason: "image array has an empty side, shape \(shape)")
    }
    if dtype == .uint(bytes: 1) {
      return PixelImage(width: w, height: h, channels: c, pixels: [UInt8](raw))
    }
    guard let values = doubles() else {
      throw DataError.decode(file: name, reason: "image array has a non-numeric dtype")
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw DataError.decode(
        file: name, reason: "image array holds \(values[bad]) at element \(bad): pixels must be finite")
    }
    var scale = 1.0
    if case .float = dtype, let mx = values.max(), let mn = values.min(), mx <= 1, mn >= 0 { scale = 255 }
    let px = values.map { UInt8(max(0, min(255, ($0 * scale).rounded()))) }
    return PixelImage(width: w, height: h, channels: c, pixels: px)
  }

  /// Serialises as a version 1.0 `.npy` file.
  public func encoded() -> Data {
    let descr: String
    switch dtype {
    case .bool: descr = "|b1"
    case .int(let n): descr = n == 1 ? "|i1" : "<i\(n)"
    case .uint(let n): descr = n == 1 ? "|u1" : "<u\(n)"
    case .float(let n): descr = "<f\(n)"
    case .bytes(let n): descr = "|S\(n)"
    case .unicode(let n): descr = "<U\(n)"
    }
    let shapeText =
      shape.isEmpty
      ? "()"
      : shape.count == 1
        ? "(\(shape[0]),)"
        : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    let total = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
    var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let hl = header.utf8.count
    out.append(contentsOf: [UInt8(hl & 0xFF), UInt8(hl >> 8)])
    out.append(contentsOf: Array(header.utf8))
    out.append(raw)
    return out
  }

  /// A 0-d int64 scalar.
  public static func scalar(_ v: Int64) -> NpyArray {
    var x = v.littleEndian
    return NpyArray(dtype: .int(bytes: 8), shape: [], raw: Data(bytes: &x, count: 8))
  }

  /// A 0-d float64 scalar.
  public static func scalar(_ v: Double) -> NpyArray {
    var x = v.bitPattern.littleEndian
    return NpyArray(dtype: .float(bytes: 8), shape: [], raw: Data(bytes: &x, count: 8))
  }

  /// A 0-d unicode string (NumPy's `np.array("...")`, dtype `<U n`).
  public static func string(_ s: String) -> NpyArray {
    let scalars = Array(s.unicodeScalars)
    var raw = Data(capacity: max(1, scalars.count) * 4)
    for u in scalars {
      var v = u.value.littleEndian
      raw.append(Data(bytes: &v, count: 4))
    }
    if scalars.isEmpty { raw.append(contentsOf: [0, 0, 0, 0]) }
    return NpyArray(dtype: .unicode(length: max(1, scalars.count)), shape: [], raw: raw)
  }

  /// A 2-D uint8 array from a gray image.
  public static func image(_ image: PixelImage) -> NpyArray {
    let shape = image.channels == 1 ? [image.height, image.width] : [image.height, image.width, image.channels]
    return NpyArray(dtype: .uint(bytes: 1), shape: shape, raw: Data(image.pixels))
  }
}
