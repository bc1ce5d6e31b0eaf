import Tensor
import Testing

// Tolerance checks, one rule for all of them: `a` agrees with the expected `b` where
// |a − b| ≤ atol + rtol·|b| (NumPy's `allclose`); a NaN agrees with nothing.

/// |a − b| ≤ tolerance, with nil matching only nil.
public func isClose(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
  switch (a, b) {
  case (nil, nil): return true
  case let (x?, y?): return abs(x - y) <= tolerance
  default: return false
  }
}

/// Equal counts and every element within atol + rtol·|b|.
public func isClose<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], atol: T, rtol: T = 0) -> Bool {
  a.count == b.count && worstMismatch(a, b, atol: atol, rtol: rtol) == nil
}

/// The index where `a` is furthest outside atol + rtol·|b| of `b` (a NaN is furthest), or nil
/// where every element agrees; compares the first min(counts) elements.
public func worstMismatch<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], atol: T, rtol: T) -> Int? {
  var worst: (index: Int, excess: T)?
  for i in 0..<min(a.count, b.count) {
    let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
    let e = excess.isNaN ? T.infinity : excess
    if e > 0 && (worst == nil || e > worst!.excess) { worst = (i, e) }
  }
  return worst?.index
}

/// Records an issue at the caller when the counts differ or an element is outside
/// atol + rtol·|expected|, naming the worst element.
public func expectClose(
  _ got: [Float], _ expected: [Float], atol: Float = 1e-4, rtol: Float = 1e-3, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard got.count == expected.count else {
    Issue.record("\(what): \(got.count) values vs \(expected.count) expected", sourceLocation: sourceLocation)
    return
  }
  if let i = worstMismatch(got, expected, atol: atol, rtol: rtol) {
    Issue.record(
      "\(what)[\(i)]: \(got[i]) vs expected \(expected[i]) (atol \(atol), rtol \(rtol))", sourceLocation: sourceLocation
    )
  }
}

/// ``expectClose(_:_:atol:rtol:_:sourceLocation:)`` on tensors: equal shapes, then element-wise.
public func expectClose(
  _ got: Tensor, _ expected: Tensor, atol: Float = 1e-4, rtol: Float = 1e-3, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard got.shape == expected.shape else {
    Issue.record("\(what): shape \(got.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    return
  }
  expectClose(got.scalars, expected.scalars, atol: atol, rtol: rtol, what, sourceLocation: sourceLocation)
}
