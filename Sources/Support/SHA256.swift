import Foundation

/// SHA-256 (FIPS 180-4), for provenance: the hash of an audited file, printed so a reader can
/// check it with `sha256sum`. Neither CryptoKit nor swift-crypto is available to this package on
/// Linux, so it is implemented here (checked against the FIPS 180-4 and NIST test vectors).
public struct SHA256Hasher: Sendable {
  private var state: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
  ]
  private var buffer: [UInt8] = []
  private var length: UInt64 = 0

  static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  public init() {}

  /// Feeds bytes.
  public mutating func update<D: DataProtocol>(_ data: D) {
    length &+= UInt64(data.count)
    let bytes = [UInt8](data)
    var start = 0
    if !buffer.isEmpty {
      start = min(64 - buffer.count, bytes.count)
      buffer += bytes[0..<start]
      if buffer.count == 64 {
        let block = buffer
        buffer.removeAll(keepingCapacity: true)
        block.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: 1) }
      }
    }
    let whole = (bytes.count - start) / 64
    if whole > 0 { bytes.withUnsafeBufferPointer { compress($0.baseAddress! + start, blocks: whole) } }
    buffer += bytes[(start + whole * 64)...]
  }

  /// The digest of everything fed (the hasher is spent).
  public mutating func finalize() -> [UInt8] {
    let bits = length &* 8
    var tail = buffer + [0x80]
    while tail.count % 64 != 56 { tail.append(0) }
    for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    tail.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: tail.count / 64) }
    buffer.removeAll()
    return state.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * UInt32($0))) } }
  }

  private mutating func compress(_ p: UnsafePointer<UInt8>, blocks: Int) {
    var w = [UInt32](repeating: 0, count: 64)
    let k = Self.k
    @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3]
    var h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7]
    w.withUnsafeMutableBufferPointer { w in
      k.withUnsafeBufferPointer { k in
        for blk in 0..<blocks {
          let b = p + 64 * blk
          for t in 0..<16 {
            w[t] =
              UInt32(b[4 * t]) << 24 | UInt32(b[4 * t + 1]) << 16 | UInt32(b[4 * t + 2]) << 8 | UInt32(b[4 * t + 3])
          }
          for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
          }
          var a = h0, bb = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
          for t in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ k[t] &+ w[t]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & bb) ^ (a & c) ^ (bb & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1; d = c; c = bb; bb = a; a = t1 &+ t2
          }
          h0 = h0 &+ a; h1 = h1 &+ bb; h2 = h2 &+ c; h3 = h3 &+ d
          h4 = h4 &+ e; h5 = h5 &+ f; h6 = h6 &+ g; h7 = h7 &+ h
        }
      }
    }
    state = [h0, h1, h2, h3, h4, h5, h6, h7]
  }
}

public enum SHA256 {
  /// The digest of `data` as 64 lowercase hex digits.
  public static func hex<D: DataProtocol>(_ data: D) -> String {
    var h = SHA256Hasher()
    h.update(data)
    return hexString(h.finalize())
  }

  /// The digest of the file at `path` (read in 4 MiB chunks) as 64 lowercase hex digits; throws
  /// `FileReadError` naming the file when it cannot be read.
  public static func hex(file path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw FileReadError(path: path, "cannot be opened for reading")
    }
    defer { try? handle.close() }
    var h = SHA256Hasher()
    do {
      while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { h.update(chunk) }
    } catch {
      throw FileReadError(path: path, "could not be read: \(error.localizedDescription)")
    }
    return hexString(h.finalize())
  }

  public static func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    s.reserveCapacity(2 * bytes.count)
    for b in bytes {
      s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)])
    }
    return s
  }
}
