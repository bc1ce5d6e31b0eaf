import CVectorKernels
import Foundation
import Testing
@testable import Tensor

/// The AVX2 + FMA element-wise kernels agree with the portable ones (which this machine would
/// otherwise never run) and with double-precision references, and keep NaN and the −inf masks.
@Suite(.serialized) struct VectorKernelTests {
  static let inputs: [Float] = {
    var g = SeededGenerator(seed: 17)
    return Tensor.uniform([1003], low: -12, high: 12, using: &g).scalars + [0, -0.0, 88, -88, 90, -100, 1e-20]
  }()

  /// Runs `body` with the portable kernels, then with the CPU's best.
  static func bothPaths(_ body: () -> [Float]) -> (portable: [Float], best: [Float]) {
    fm_vector_kernels_allow_avx2(0)
    let portable = body()
    fm_vector_kernels_allow_avx2(1)
    return (portable, body())
  }

  static func apply(_ f: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, _ x: [Float]) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeMutableBufferPointer { ys in f(xs.baseAddress!, ys.baseAddress!, x.count) }
    }
    return y
  }

  @Test func geluKernelsMatchDoublePrecisionOnBothPaths() {
    let x = Self.inputs
    let checks: [(String, (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, (Double) -> Double)] = [
      ("quick GELU", { fm_quick_gelu_forward($0, $1, $2) }, { $0 / (1 + Foundation.exp(-1.702 * $0)) }),
      ("GELU", { fm_gelu_erf_forward($0, $1, $2) }, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }),
      (
        "quick GELU ′",
        { p, y, n in
          [Float](repeating: 1, count: n).withUnsafeBufferPointer { fm_quick_gelu_backward(p, $0.baseAddress!, y, n) }
        },
        { v in
          let s = 1 / (1 + Foundation.exp(-1.702 * v)); return s + 1.702 * v * s * (1 - s)
        }
      ),
      (
        "GELU ′",
        { p, y, n in
          [Float](repeating: 1, count: n).withUnsafeBufferPointer { fm_gelu_erf_backward(p, $0.baseAddress!, y, n) }
        },
        { v in
          0.5 * (1 + Foundation.erf(v / 2.0.squareRoot())) + v * Foundation.exp(-0.5 * v * v)
            / (2 * Double.pi).squareRoot()
        }
      ),
    ]
    for (name, f, reference) in checks {
      let (portable, best) = Self.bothPaths { Self.apply(f, x) }
      for i in x.indices {
        let want = reference(Double(x[i]))
        #expect(abs(Double(best[i]) - want) <= 2e-6 * max(1, abs(want)), "\(name)(\(x[i])) = \(best[i]), want \(want)")
        #expect(
          abs(best[i] - portable[i]) <= 1e-6 * max(1, abs(portable[i])),
          "\(name)(\(x[i])): AVX2 \(best[i]) vs portable \(portable[i])")
      }
    }
  }

  @Test func softmaxRowsSumToOneKeepMasksAndNaN() {
    for n in [1, 7, 8, 9, 197, 1003] {
      var x = Array(Self.inputs.prefix(n))
      if n > 3 { x[2] = -.infinity }
      let (portable, best) = Self.bothPaths { Self.apply({ fm_softmax_row($0, $1, $2) }, x) }
      let m = Double(x.max() ?? 0)
      let z = x.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
      for i in x.indices {
        let want = Foundation.exp(Double(x[i]) - m) / z
        #expect(abs(Double(best[i]) - want) <= 1e-6, "n \(n) softmax[\(i)] \(best[i]) vs \(want)")
        #expect(abs(best[i] - portable[i]) <= 1e-6)
      }
      if n > 3 { #expect(best[2] == 0 && portable[2] == 0, "a −inf logit gets probability exactly 0") }
      var withNaN = x
      withNaN[n - 1] = .nan
      let nan = Self.bothPaths { Self.apply({ fm_softmax_row($0, $1, $2) }, withNaN) }
      #expect(nan.best.allSatisfy(\.isNaN) && nan.portable.allSatisfy(\.isNaN), "a NaN makes the row NaN (n \(n))")
    }
    let nanGELU = Self.bothPaths {
      Self.apply({ fm_gelu_erf_forward($0, $1, $2) }, [.nan, 1, .nan, 2, 3, 4, 5, 6, .nan])
    }
    #expect(nanGELU.best[0].isNaN && nanGELU.best[8].isNaN && nanGELU.portable[0].isNaN && nanGELU.portable[2].isNaN)
  }

  @Test func layerNormAndSoftmaxBackwardRowsAgreeOnBothPaths() {
    for d in [1, 7, 8, 192, 1003] {
      let x = Array(Self.inputs.prefix(d)), w = x.map { 1 + $0 / 24 }, b = x.map { $0 / 7 },
        g = x.reversed().map { $0 / 5 }
      var stats: [[Float]] = []
      let rows = Self.bothPaths { () -> [Float] in
        var y = [Float](repeating: 0, count: d), mean: Float = 0, rstd: Float = 0
        fm_layer_norm_row(x, w, b, &y, d, 1e-5, &mean, &rstd)
        var gx = [Float](repeating: 0, count: d)
        fm_layer_norm_backward_row(x, g, w, mean, rstd, &gx, d)
        var ds = g
        fm_softmax_backward_row(x.map { abs($0) / 100 }, &ds, d, 0.125)
        stats.append([mean, rstd])
        return y + gx + ds
      }
      let mu = x.reduce(0.0) { $0 + Double($1) } / Double(d)
      let variance = x.reduce(0.0) { $0 + (Double($1) - mu) * (Double($1) - mu) } / Double(d)
      #expect(abs(Double(stats[1][0]) - mu) <= 1e-5 * max(1, abs(mu)), "d \(d): mean \(stats[1][0]) vs \(mu)")
      #expect(
        abs(Double(stats[1][1]) - 1 / (variance + 1e-5).squareRoot()) <= 1e-4 * Double(stats[1][1]), "d \(d): rstd")
      for i in rows.best.indices {
        #expect(
          abs(rows.best[i] - rows.portable[i]) <= 2e-5 * max(1, abs(rows.portable[i])),
          "d \(d) value \(i): \(rows.best[i]) vs \(rows.portable[i])")
      }
    }
  }
}
