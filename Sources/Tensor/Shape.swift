/// Errors thrown by tensor ops: each names the op and the shapes or values involved.
public enum TensorError: Error, CustomStringConvertible, Equatable {
  case shapeMismatch(op: String, lhs: [Int], rhs: [Int])
  case invalidAxis(op: String, axis: Int, shape: [Int])
  case invalidArgument(String)
  case notScalar(shape: [Int])

  public var description: String {
    switch self {
    case let .shapeMismatch(op, l, r): return "\(op): shapes \(l) and \(r) are not compatible"
    case let .invalidAxis(op, a, s): return "\(op): axis \(a) is out of range for shape \(s)"
    case let .invalidArgument(m): return m
    case let .notScalar(s): return "backward(): needs a one-element tensor, got shape \(s)"
    }
  }
}

/// Shape arithmetic shared by the ops.
public enum Shape {
  /// Number of elements of a shape.
  @inlinable public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

  /// Row-major strides.
  public static func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      s[i] = acc
      acc *= shape[i]
    }
    return s
  }

  /// NumPy broadcasting of two shapes, or a thrown error naming both.
  public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
      let x = i < r - a.count ? 1 : a[i - (r - a.count)]
      let y = i < r - b.count ? 1 : b[i - (r - b.count)]
      if x == y || y == 1 {
        out[i] = x
      } else if x == 1 {
        out[i] = y
      } else {
        throw TensorError.shapeMismatch(op: op, lhs: a, rhs: b)
      }
    }
    return out
  }

  /// Strides to read a tensor of `shape` as if broadcast to `target` (0 on broadcast axes).
  static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let s = strides(shape)
    let pad = target.count - shape.count
    return (0..<target.count).map { i in
      i < pad ? 0 : (shape[i - pad] == 1 && target[i] != 1 ? 0 : s[i - pad])
    }
  }
}
