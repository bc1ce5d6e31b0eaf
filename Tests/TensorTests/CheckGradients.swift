import Testing
@testable import Tensor

/// Central-difference gradient check of `f` at `inputs`, on the scalar Σ f(x)·w for a fixed
/// random `w` (accumulated in Double). Tolerance: |analytic − numeric| ≤ atol + rtol·|numeric|.
func checkGradients(
  _ inputs: [Tensor], eps: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3, seed: UInt64 = 1,
  _ f: ([Tensor]) throws -> Tensor, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  for x in inputs { x.requiresGrad = true; x.grad = nil }
  var gen = SeededGenerator(seed: seed)
  let y = try f(inputs)
  let w = Tensor.randn(y.shape, using: &gen)
  func weighted(_ out: Tensor) -> Double {
    var s = 0.0
    for i in 0..<out.count { s += Double(out.pointer[i]) * Double(w.pointer[i]) }
    return s
  }
  try y.backward(seed: w)
  for (n, x) in inputs.enumerated() {
    let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      let saved = x.pointer[i]
      x.pointer[i] = saved + eps
      let plus = try withNoGrad { weighted(try f(inputs)) }
      x.pointer[i] = saved - eps
      let minus = try withNoGrad { weighted(try f(inputs)) }
      x.pointer[i] = saved
      let numeric = Float((plus - minus) / Double(2 * eps))
      if !(abs(analytic[i] - numeric) <= atol + rtol * abs(numeric)) {
        Issue.record(
          "input \(n) element \(i): analytic \(analytic[i]) vs numeric \(numeric)", sourceLocation: sourceLocation)
        return
      }
    }
  }
}
