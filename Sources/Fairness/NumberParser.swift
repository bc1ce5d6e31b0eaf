#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Decimal text to Double, correctly rounded: Clinger's exact fast path for short decimals
/// (≤ 15 significant digits, small exponent), `strtod` otherwise.
enum NumberParser {
  private static let powers: [Double] = (0...22).map { p in
    var v = 1.0
    for _ in 0..<p { v *= 10 }
    return v
  }

  /// Parses bytes[start..<end]; `bytes` must contain a non-numeric byte (e.g. 0) after `end`.
  static func parse(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Double? {
    var i = start
    var negative = false
    if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if bytes[i] == UInt8(ascii: "+") { i += 1 }
    var mantissa: UInt64 = 0
    var digits = 0, fraction = 0
    var sawDigit = false
    while i < end, bytes[i] &- 48 < 10 {
      if mantissa != 0 || bytes[i] != 48 { digits += 1 }
      mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48); sawDigit = true; i += 1
    }
    if i < end, bytes[i] == UInt8(ascii: ".") {
      i += 1
      while i < end, bytes[i] &- 48 < 10 {
        if mantissa != 0 || bytes[i] != 48 { digits += 1 }
        mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48); fraction += 1; sawDigit = true; i += 1
      }
    }
    var exponent = 0
    if i < end, sawDigit, bytes[i] | 0x20 == UInt8(ascii: "e") {
      var j = i + 1
      var expNegative = false
      if j < end, bytes[j] == UInt8(ascii: "-") {
        expNegative = true; j += 1
      } else if j < end, bytes[j] == UInt8(ascii: "+") {
        j += 1
      }
      var e = 0
      var any = false
      while j < end, bytes[j] &- 48 < 10, e < 100_000 { e = e * 10 + Int(bytes[j] &- 48); j += 1; any = true }
      if any { exponent = expNegative ? -e : e; i = j } else { i = end + 1 }  // force the slow path
    }
    if i == end, sawDigit, digits <= 15 {
      let scale = exponent - fraction
      var value = Double(mantissa)
      if scale == 0 || mantissa == 0 {
      } else if scale < 0, -scale <= 22 {
        value /= powers[-scale]
      } else if scale > 0, scale <= 22 {
        value *= powers[scale]
      } else {
        return slow(bytes, start, end)
      }
      return negative ? -value : value
    }
    return slow(bytes, start, end)
  }

  private static func slow(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Double? {
    bytes.withUnsafeBufferPointer { buf -> Double? in
      let base = UnsafeRawPointer(buf.baseAddress! + start).assumingMemoryBound(to: CChar.self)
      var stop: UnsafeMutablePointer<CChar>? = nil
      let value = strtod(base, &stop)
      guard let stop, UnsafeRawPointer(stop) == UnsafeRawPointer(buf.baseAddress! + end) else { return nil }
      return value
    }
  }
}
