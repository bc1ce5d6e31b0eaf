import FairMedZlib
import Foundation

/// Why a ZIP archive could not be read: the file is missing or unreadable, or its structure is
/// invalid (``reason`` says where).
public struct ZipError: Error, CustomStringConvertible, Sendable {
  public let file: String
  public let reason: String
  /// The file does not exist.
  public let isMissing: Bool
  public var description: String { isMissing ? "\(file): no such file" : "\(file): \(reason)" }
}

/// A read-only ZIP reader (`.npz` archives, PyTorch checkpoints): the central directory (ZIP64
/// included), stored and deflated members, every offset and size checked against the file
/// before it is used, the output bounded and the CRC verified. (ZIPFoundation trapped on one
/// malformed archive and looped forever on another, both found by Scripts/fuzz.)
public struct ZipReader: Sendable {
  public struct Member: Sendable {
    public let name: String
    public let method: UInt16
    public let compressedSize: Int
    public let size: Int
    let crc: UInt32
    let localOffset: Int
  }

  public let path: String
  let bytes: [UInt8]
  public private(set) var members: [Member] = []

  public init(path: String) throws {
    self.path = path
    do { bytes = [UInt8](try readFile(path)) } catch let e as FileReadError {
      throw ZipError(file: path, reason: e.reason, isMissing: !FileManager.default.fileExists(atPath: path))
    }
    let (count, start) = try centralDirectory()
    var p = start
    for _ in 0..<count {
      let (member, next) = try centralEntry(at: p)
      members.append(member)
      p = next
    }
  }

  func fail(_ reason: String) -> ZipError {
    ZipError(file: path, reason: "not a valid zip archive: \(reason)", isMissing: false)
  }

  func u16(_ at: Int) throws -> Int {
    guard at >= 0, at + 2 <= bytes.count else { throw fail("a field at byte \(at) lies past the end") }
    return Int(bytes[at]) | Int(bytes[at + 1]) << 8
  }

  func u32(_ at: Int) throws -> Int {
    let lo = try u16(at), hi = try u16(at + 2)
    return lo | hi << 16
  }

  func u64(_ at: Int) throws -> Int {
    let lo = try u32(at), hi = try u32(at + 4)
    guard hi < 1 << 31 else { throw fail("a 64-bit size at byte \(at) is out of range") }
    return lo | hi << 32
  }

  func signature(_ at: Int, _ s: [UInt8]) -> Bool {
    at >= 0 && at + 4 <= bytes.count && Array(bytes[at..<(at + 4)]) == s
  }

  /// The member count and the central directory's offset (from the end record, or its ZIP64 form).
  func centralDirectory() throws -> (Int, Int) {
    let n = bytes.count
    guard n >= 22,
      let end = stride(from: n - 22, through: max(0, n - 65_557), by: -1).first(where: {
        signature($0, [0x50, 0x4B, 5, 6])
      })
    else {
      throw fail("no end-of-central-directory record")
    }
    var count = try u16(end + 10), offset = try u32(end + 16)
    if count == 0xFFFF || offset == 0xFFFF_FFFF, signature(end - 20, [0x50, 0x4B, 6, 7]) {
      let record = try u64(end - 20 + 8)
      guard signature(record, [0x50, 0x4B, 6, 6]) else { throw fail("the ZIP64 end record is missing") }
      count = try u64(record + 32)
      offset = try u64(record + 48)
    }
    guard offset < n, count <= n / 46 else {
      throw fail("the central directory (\(count) entries at \(offset)) does not fit the file")
    }
    return (count, offset)
  }

  /// One central-directory entry at `p` and the offset of the next.
  func centralEntry(at p: Int) throws -> (Member, Int) {
    guard signature(p, [0x50, 0x4B, 1, 2]) else { throw fail("no central directory entry at byte \(p)") }
    let method = try u16(p + 10), crc = try u32(p + 16)
    var compressed = try u32(p + 20), size = try u32(p + 24), local = try u32(p + 42)
    let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
    let name = p + 46, extra = name + nameLength, next = extra + extraLength + commentLength
    guard next <= bytes.count else { throw fail("entry at byte \(p) runs past the end") }
    // ZIP64: the sizes and offset that do not fit 32 bits follow in extra field 0x0001, in order.
    var q = extra
    while q + 4 <= extra + extraLength {
      let id = try u16(q), length = try u16(q + 2)
      if id == 1 {
        var f = q + 4
        if size == 0xFFFF_FFFF { size = try u64(f); f += 8 }
        if compressed == 0xFFFF_FFFF { compressed = try u64(f); f += 8 }
        if local == 0xFFFF_FFFF { local = try u64(f) }
      }
      q += 4 + length
    }
    let member = Member(
      name: String(decoding: bytes[name..<extra], as: UTF8.self), method: UInt16(method),
      compressedSize: compressed, size: size, crc: UInt32(crc), localOffset: local)
    return (member, next)
  }

  /// The member's bytes; refused when they would exceed `limit` or fail their CRC.
  public func read(_ m: Member, limit: Int) throws -> Data {
    guard signature(m.localOffset, [0x50, 0x4B, 3, 4]) else { throw fail("member '\(m.name)' has no local header") }
    let nameLength = try u16(m.localOffset + 26), extraLength = try u16(m.localOffset + 28)
    let start = m.localOffset + 30 + nameLength + extraLength
    guard start <= bytes.count, m.compressedSize <= bytes.count - start else {
      throw fail("member '\(m.name)' declares \(m.compressedSize) compressed bytes past the end of the file")
    }
    guard m.size <= limit else { throw ZipReader.TooLarge(limit: limit) }
    let out: Data
    switch m.method {
    case 0:
      guard m.compressedSize == m.size else { throw fail("stored member '\(m.name)' has two different sizes") }
      out = Data(bytes[start..<(start + m.size)])
    case 8: out = try inflate(bytes[start..<(start + m.compressedSize)], expected: m.size, name: m.name)
    default: throw fail("member '\(m.name)' uses compression method \(m.method) (only stored and deflate)")
    }
    let crc = out.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
    guard crc == m.crc else { throw fail("member '\(m.name)' fails its CRC check") }
    return out
  }

  /// A member larger than the limit given to ``read(_:limit:)``.
  public struct TooLarge: Error { public let limit: Int }

  /// Raw deflate of exactly `expected` output bytes.
  func inflate(_ input: ArraySlice<UInt8>, expected: Int, name: String) throws -> Data {
    var stream = z_stream()
    guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw fail("zlib failed to start")
    }
    defer { inflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: max(expected, 1))
    let status: Int32 = input.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
        stream.avail_in = uInt(src.count)
        stream.next_out = dst.baseAddress
        stream.avail_out = uInt(dst.count)
        return FairMedZlib.inflate(&stream, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END, Int(stream.total_out) == expected else {
      throw fail("member '\(name)' does not inflate to its declared \(expected) bytes (zlib status \(status))")
    }
    return Data(out.prefix(expected))
  }
}
