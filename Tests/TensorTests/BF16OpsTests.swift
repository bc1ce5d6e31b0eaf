import Foundation
import Testing

@testable import Tensor

/// The bf16 paths above the GEMM: attention's per-head products and the linear map that rounds
/// its weights once per step, each against fp64 with the error bf16's 8-bit significand allows.
/// Where the CPU lacks the instructions the suite checks only the refusal (``BF16Tests``).
@Suite struct BF16OpsTests {
  /// bf16's unit roundoff (8 significant bits) and fp32's.
  static let u = 1.0 / 256, ulp32 = 1.0 / 16_777_216
  /// The relative error of one product of two rounded inputs.
  static let e = 2 * u + u * u

  static func random(_ n: Int, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<n).map { _ in 2 * g.uniformFloat() - 1 }
  }

  static func r(_ x: Float) -> Double { Double(BF16Support.rounded(x)) }

  /// One single-threaded product on strided operands (the four layouts attention reads: a head
  /// row-contiguous or transposed, as A and as B) equals fp64 on the bf16-rounded inputs within
  /// fp32 accumulation, (k + 2)·2⁻²⁴·Σ|a||b|, and the unrounded product within 2u + u² more.
  @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
  func bf16ProductOnStridedOperands(_ transposed: (a: Bool, b: Bool)) throws {
    guard BF16Support.available else { return }
    let (m, n, k, pad) = (70, 64, 90, 7)
    // A(i, p) at i·rsA + p·csA; a transposed operand is stored k × m.
    let (rsA, csA) = transposed.a ? (1, m + pad) : (k + pad, 1)
    let (rsB, csB) = transposed.b ? (1, k + pad) : (n + pad, 1)
    let a = Self.random((transposed.a ? k : m) * (transposed.a ? m + pad : k + pad), seed: 1)
    let b = Self.random((transposed.b ? n : k) * (transposed.b ? k + pad : n + pad), seed: 2)
    let ldc = n + 3
    var c = [Float](repeating: 9, count: m * ldc)
    let alpha: Float = 0.125
    let fallbacks = BLAS.bf16Fallbacks
    let ok = BLAS.bf16Product(
      m: m, n: n, k: k, alpha: alpha, a: a, rowStrideA: rsA, colStrideA: csA, b: b, rowStrideB: rsB,
      colStrideB: csB, c: &c, ldc: ldc)
    #expect(ok && BLAS.bf16Fallbacks == fallbacks)
    var worst = 0.0
    for i in 0..<m {
      for j in 0..<n {
        var rounded = 0.0, exact = 0.0, magnitude = 0.0
        for p in 0..<k {
          let x = a[i * rsA + p * csA], y = b[p * rsB + j * csB]
          rounded += Self.r(x) * Self.r(y)
          exact += Double(x) * Double(y)
          magnitude += abs(Double(x) * Double(y))
        }
        let got = Double(c[i * ldc + j]), scale = Double(alpha) * magnitude
        let accumulation = Double(k + 2) * Self.ulp32 * scale * (1 + Self.e)
        worst = max(worst, abs(got - Double(alpha) * rounded) / accumulation)
        #expect(abs(got - Double(alpha) * exact) <= Self.e * scale + accumulation)
      }
      for j in n..<ldc { #expect(c[i * ldc + j] == 9) }  // past n: never written
    }
    #expect(worst <= 1, "worst error against the rounded inputs: \(worst)× the accumulation bound")
  }

  /// A stacked linear map (two weights, biases, x of 200 rows) under bf16: its output, and both
  /// backward GEMMs, equal fp64 products of bf16-rounded operands within fp32 accumulation — so
  /// the forward pass read the weights rounded, and the input gradient read the same rounded
  /// weights and the rounded output gradient. Bound per entry: (k + 3)·2⁻²⁴·(Σ|a||b| + |bias|).
  @Test func stackedLinearReadsItsWeightsRoundedOnce() throws {
    guard BF16Support.available else { return }
    let (rows, inF, outs) = (200, 64, [96, 64])
    let total = outs.reduce(0, +)
    let x = try Tensor(Self.random(rows * inF, seed: 3), shape: [4, 50, inF]).requiringGrad()
    let w = try outs.enumerated().map { i, o in
      try Tensor(Self.random(o * inF, seed: 10 + UInt64(i)), shape: [o, inF]).requiringGrad()
    }
    let b = try outs.enumerated().map { i, o in
      try Tensor(Self.random(o, seed: 20 + UInt64(i)), shape: [o]).requiringGrad()
    }
    let seed = try Tensor(Self.random(rows * total, seed: 4), shape: [4, 50, total])
    let out = try Precision.withPrecision(.bf16) {
      let out = try linear(x, stackedWeights: w, biases: b)
      try out.backward(seed: seed)
      return out
    }
    let wAll = w.flatMap(\.scalars), bAll = b.flatMap(\.scalars), xs = x.scalars, gs = seed.scalars
    func check(
      _ name: String, _ got: [Float], m: Int, n: Int, k: Int, add: (Int) -> Double = { _ in 0 },
      _ term: (Int, Int, Int) -> (Float, Float)
    ) {
      var worst = 0.0
      for i in 0..<m {
        for j in 0..<n {
          var rounded = add(j), magnitude = abs(add(j))
          for p in 0..<k {
            let (s, t) = term(i, j, p)
            rounded += Self.r(s) * Self.r(t)
            magnitude += abs(Double(s) * Double(t))
          }
          let bound = Double(k + 3) * Self.ulp32 * magnitude * (1 + Self.e)
          worst = max(worst, abs(Double(got[i * n + j]) - rounded) / bound)
        }
      }
      #expect(worst <= 1, "\(name): worst error \(worst)× the fp32 accumulation bound of bf16-rounded operands")
    }
    check("output", out.scalars, m: rows, n: total, k: inF, add: { Double(bAll[$0]) }) { i, j, p in
      (xs[i * inF + p], wAll[j * inF + p])
    }
    check("input gradient", try #require(x.grad).scalars, m: rows, n: inF, k: total) { i, j, p in
      (gs[i * total + p], wAll[p * inF + j])
    }
    let gw = w.flatMap { $0.grad?.scalars ?? [] }
    check("weight gradient", gw, m: total, n: inF, k: rows) { i, j, p in (gs[p * total + i], xs[p * inF + j]) }
    // The bias gradient stays an fp32 column sum.
    let gb = b.flatMap { $0.grad?.scalars ?? [] }
    for j in 0..<total {
      let sum = (0..<rows).reduce(0.0) { $0 + Double(gs[$1 * total + j]) }
      #expect(abs(Double(gb[j]) - sum) <= Double(rows) * Self.ulp32 * Double(rows))
    }
  }

  /// Packed self-attention under bf16 (2 × 70 tokens, 2 heads of 64: every per-head product above
  /// the bf16 floor) against fp64, forward and backward, entry by entry within a first-order bound
  /// built from the data: each product of two rounded operands errs by e = 2u + u² of Σ|a||b|; a
  /// score error ΔSᵢ = e·scale·maxⱼ Σ|q||k| moves a probability by at most Pᵢⱼ(e^{2ΔSᵢ} − 1); the
  /// output, dP, dS = scale·P ⊙ (dP − ⟨P, dP⟩) and the three gradients carry these through. The
  /// bound is widened by 10 % for second-order terms and fp32's exp and sums (≈ 2⁻²⁴, far below e).
  @Test func attentionProductsInBF16AreWithinTheirRoundingBound() throws {
    guard BF16Support.available else { return }
    let (batch, tokens, heads, d) = (2, 70, 2, 64)
    let width = heads * d, row = 3 * width
    let values = Self.random(batch * tokens * row, seed: 5), dOut = Self.random(batch * tokens * width, seed: 6)
    func run(_ precision: Precision) throws -> (out: [Float], grad: [Float]) {
      let qkv = try Tensor(values, shape: [batch, tokens, row]).requiringGrad()
      return try Precision.withPrecision(precision) {
        let out = try scaledDotProductAttention(packed: qkv, heads: heads)
        try out.backward(seed: try Tensor(dOut, shape: [batch, tokens, width]))
        return (out.scalars, try #require(qkv.grad).scalars)
      }
    }
    let fallbacks = BLAS.bf16Fallbacks
    let half = try run(.bf16), single = try run(.fp32)
    #expect(BLAS.bf16Fallbacks == fallbacks)
    #expect(half.out != single.out && half.grad != single.grad, "attention ran in fp32 under bf16")
    let e = Self.e, scale = 1 / Double(d).squareRoot()
    var worst = (out: 0.0, gq: 0.0, gk: 0.0, gv: 0.0)
    for bi in 0..<batch {
      for h in 0..<heads {
        func q(_ i: Int, _ p: Int) -> Double { Double(values[(bi * tokens + i) * row + h * d + p]) }
        func k(_ i: Int, _ p: Int) -> Double { Double(values[(bi * tokens + i) * row + width + h * d + p]) }
        func v(_ i: Int, _ p: Int) -> Double { Double(values[(bi * tokens + i) * row + 2 * width + h * d + p]) }
        func dO(_ i: Int, _ c: Int) -> Double { Double(dOut[(bi * tokens + i) * width + h * d + c]) }
        let t = tokens
        var P = [[Double]](repeating: [Double](repeating: 0, count: t), count: t), dP = P, dS = P, dPerr = P, dSerr = P
        var Perr = P
        for i in 0..<t {
          var s = [Double](repeating: 0, count: t), deltaS = 0.0
          for j in 0..<t {
            var magnitude = 0.0
            for p in 0..<d {
              s[j] += scale * q(i, p) * k(j, p)
              magnitude += scale * abs(q(i, p) * k(j, p))
            }
            deltaS = max(deltaS, e * magnitude)
          }
          let top = s.max()!, z = s.reduce(0) { $0 + exp($1 - top) }
          for j in 0..<t {
            P[i][j] = exp(s[j] - top) / z
            Perr[i][j] = P[i][j] * (exp(2 * deltaS) - 1)
            var magnitude = 0.0
            for c in 0..<d {
              dP[i][j] += dO(i, c) * v(j, c)
              magnitude += abs(dO(i, c) * v(j, c))
            }
            dPerr[i][j] = e * magnitude
          }
          let rowDot = (0..<t).reduce(0.0) { $0 + P[i][$1] * dP[i][$1] }
          let rowDotErr = (0..<t).reduce(0.0) { $0 + Perr[i][$1] * abs(dP[i][$1]) + P[i][$1] * dPerr[i][$1] }
          for j in 0..<t {
            dS[i][j] = scale * P[i][j] * (dP[i][j] - rowDot)
            dSerr[i][j] = scale * (Perr[i][j] * abs(dP[i][j] - rowDot) + P[i][j] * (dPerr[i][j] + rowDotErr))
          }
        }
        func ratio(_ got: Float, _ exact: Double, _ bound: Double) -> Double {
          abs(Double(got) - exact) / (1.1 * bound)
        }
        for i in 0..<t {
          for c in 0..<d {
            var o = 0.0, bound = 0.0, gq = 0.0, gqBound = 0.0, gk = 0.0, gkBound = 0.0, gv = 0.0, gvBound = 0.0
            for j in 0..<t {
              o += P[i][j] * v(j, c)
              bound += (e * P[i][j] + Perr[i][j] * (1 + e)) * abs(v(j, c))
              gq += dS[i][j] * k(j, c)
              gqBound += (e * abs(dS[i][j]) + dSerr[i][j] * (1 + e)) * abs(k(j, c))
              // i as a key: gk = dSᵀ Q, gv = Pᵀ dO
              gk += dS[j][i] * q(j, c)
              gkBound += (e * abs(dS[j][i]) + dSerr[j][i] * (1 + e)) * abs(q(j, c))
              gv += P[j][i] * dO(j, c)
              gvBound += (e * P[j][i] + Perr[j][i] * (1 + e)) * abs(dO(j, c))
            }
            let at = (bi * tokens + i) * row + h * d + c
            worst.out = max(worst.out, ratio(half.out[(bi * tokens + i) * width + h * d + c], o, bound))
            worst.gq = max(worst.gq, ratio(half.grad[at], gq, gqBound))
            worst.gk = max(worst.gk, ratio(half.grad[at + width], gk, gkBound))
            worst.gv = max(worst.gv, ratio(half.grad[at + 2 * width], gv, gvBound))
          }
        }
      }
    }
    #expect(
      worst.out <= 1 && worst.gq <= 1 && worst.gk <= 1 && worst.gv <= 1,
      "worst error as a share of its bound: output \(worst.out), dQ \(worst.gq), dK \(worst.gk), dV \(worst.gv)")
  }
}
