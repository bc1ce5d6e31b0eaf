import CVectorKernels
import Foundation
import Testing
@testable import Tensor

/// The attention GEMM kernel, the stacked (fused q/k/v) projection and attention on a packed
/// projection: each equals the unfused computation, and their gradients check numerically.
@Suite(.serialized) struct FusedProjectionTests {
  static func input(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.randn(shape, using: &g)
  }

  /// C = alpha A B + beta C for tile edges (rows 1...13, columns 1...33), k = 0, a transposed A and
  /// padded leading dimensions, on the portable and the AVX2 path, against a double reference.
  @Test func smallGemmMatchesDoubleReferenceOnBothPaths() {
    var g = SeededGenerator(seed: 40)
    for (m, n, k) in [(1, 1, 1), (5, 9, 3), (6, 16, 64), (7, 17, 65), (13, 33, 8), (65, 65, 64), (4, 8, 0)] {
      for transposed in [false, true] {
        for beta: Float in [0, 1] {
          let lda = (transposed ? m : k) + 3, ldb = n + 2, ldc = n + 5
          let a = Tensor.randn([max(1, (transposed ? k : m) * lda)], using: &g).scalars
          let b = Tensor.randn([max(1, k * ldb)], using: &g).scalars
          let c0 = Tensor.randn([m * ldc], using: &g).scalars
          let (rsa, csa) = transposed ? (1, lda) : (lda, 1)
          func run() -> [Float] {
            var c = c0
            fm_small_gemm(m, n, k, 0.75, a, rsa, csa, b, ldb, beta, &c, ldc)
            return c
          }
          fm_vector_kernels_allow_avx2(0)
          let portable = run()
          fm_vector_kernels_allow_avx2(1)
          let best = run()
          for i in 0..<m {
            for j in 0..<ldc {
              let at = i * ldc + j
              guard j < n else {
                #expect(best[at] == c0[at] && portable[at] == c0[at], "\(m)×\(n)×\(k): padding column \(j) was written")
                continue
              }
              var want = 0.0, scale = 0.0
              for p in 0..<k {
                let term = Double(a[i * rsa + p * csa]) * Double(b[p * ldb + j])
                want += term
                scale += abs(term)
              }
              want = 0.75 * want + Double(beta) * Double(c0[at])
              let tolerance = 1e-5 * (scale + abs(Double(c0[at])) + 1)
              #expect(
                abs(Double(best[at]) - want) <= tolerance,
                "\(m)×\(n)×\(k) transposed \(transposed) beta \(beta) (\(i), \(j))")
              #expect(abs(Double(portable[at]) - want) <= tolerance, "portable \(m)×\(n)×\(k) (\(i), \(j))")
            }
          }
        }
      }
    }
  }

  /// Blocks with and without 8 × 8 tiles and edges, inside larger strided matrices, on both paths.
  @Test func transposeSwapsAxesOfAStridedBlock() {
    for (r, s) in [(3, 4), (8, 8), (19, 21), (64, 65)] {
      let lds = s + 3, ldd = r + 2
      let src = (0..<(r * lds)).map(Float.init)
      for avx2: Int32 in [0, 1] {
        fm_vector_kernels_allow_avx2(avx2)
        var dst = [Float](repeating: -1, count: s * ldd)
        fm_transpose(r, s, src, lds, &dst, ldd)
        for j in 0..<s {
          for i in 0..<ldd {
            #expect(dst[j * ldd + i] == (i < r ? src[i * lds + j] : -1), "\(r)×\(s) (\(i), \(j)) avx2 \(avx2)")
          }
        }
      }
    }
    fm_vector_kernels_allow_avx2(1)
  }

  @Test func stackedLinearEqualsSeparateLinears() throws {
    let x = Self.input([2, 3, 4], seed: 41)
    let w = [Self.input([5, 4], seed: 42), Self.input([2, 4], seed: 43), Self.input([3, 4], seed: 44)]
    let b: [Tensor?] = [Self.input([5], seed: 45), nil, Self.input([3], seed: 46)]
    for t in [x] + w + b.compactMap({ $0 }) { t.requiresGrad = true }
    let seed = Self.input([2, 3, 10], seed: 47)
    try linear(x, stackedWeights: w, biases: b).backward(seed: seed)
    let fused = ([x] + w + b.compactMap { $0 }).map { $0.grad?.scalars ?? [] }
    let stacked = try withNoGrad { try linear(x, stackedWeights: w, biases: b) }
    for t in [x] + w + b.compactMap({ $0 }) { t.grad = nil }
    let parts = try zip(w, b).map { try linear(x, weight: $0, bias: $1) }
    let separate = try concat(parts, axis: 2)
    try separate.backward(seed: seed)
    for (got, want) in zip(stacked.scalars, separate.scalars) { #expect(abs(got - want) <= 1e-5) }
    for (f, s) in zip(fused, ([x] + w + b.compactMap { $0 }).map { $0.grad?.scalars ?? [] }) {
      #expect(f.count == s.count)
      for (got, want) in zip(f, s) { #expect(abs(got - want) <= 1e-5) }
    }
    try checkGradients([x] + w + b.compactMap { $0 }) { t in
      try linear(t[0], stackedWeights: [t[1], t[2], t[3]], biases: [t[4], nil, t[5]])
    }
  }

  @Test func stackedLinearLeavesFrozenWeightsAndRefusesBadShapes() throws {
    let x = Self.input([3, 4], seed: 48).requiringGrad()
    let trained = Self.input([2, 4], seed: 49).requiringGrad(), frozen = Self.input([2, 4], seed: 50)
    try linear(x, stackedWeights: [trained, frozen], biases: [nil, nil]).sum().backward()
    #expect(trained.grad != nil && frozen.grad == nil && x.grad != nil)
    #expect(throws: TensorError.self) { try linear(x, stackedWeights: [Self.input([2, 3], seed: 51)], biases: [nil]) }
    #expect(throws: TensorError.self) { try linear(x, stackedWeights: [trained], biases: [Self.input([3], seed: 52)]) }
    #expect(throws: TensorError.self) { try linear(x, stackedWeights: [], biases: []) }
  }

  /// Addends (LoRA terms) land in their slices; a zero addend changes no bit.
  @Test func stackedLinearAddsAddendsIntoTheirSlices() throws {
    let x = Self.input([2, 3, 4], seed: 56)
    let w = [Self.input([5, 4], seed: 57), Self.input([2, 4], seed: 58)]
    let b: [Tensor?] = [Self.input([5], seed: 59), nil]
    let a: [Tensor?] = [nil, Self.input([2, 3, 2], seed: 60)]
    let fused = try linear(x, stackedWeights: w, biases: b, addends: a)
    let separate = try concat([linear(x, weight: w[0], bias: b[0]), linear(x, weight: w[1]) + a[1]!], axis: 2)
    for (got, want) in zip(fused.scalars, separate.scalars) { #expect(abs(got - want) <= 1e-5) }
    let zero = try linear(x, stackedWeights: w, biases: b, addends: [Tensor.zeros([2, 3, 5]), nil])
    #expect(zero.scalars == (try linear(x, stackedWeights: w, biases: b)).scalars)
    try checkGradients([x, w[0], w[1], b[0]!, a[1]!]) { t in
      try linear(t[0], stackedWeights: [t[1], t[2]], biases: [t[3], nil], addends: [nil, t[4]])
    }
    #expect(throws: TensorError.self) {
      try linear(x, stackedWeights: w, biases: b, addends: [nil, Self.input([2, 3, 5], seed: 61)])
    }
    #expect(throws: TensorError.self) { try linear(x, stackedWeights: w, biases: b, addends: [nil]) }
  }

  @Test(arguments: [false, true])
  func packedAttentionEqualsSeparate(causal: Bool) throws {
    let qkv = Self.input([2, 5, 18], seed: 53).requiringGrad()
    let mask: [Bool]? = causal ? nil : [true, true, false, true, true, true, true, true, true, false]
    let seed = Self.input([2, 5, 6], seed: 54)
    let packed = try scaledDotProductAttention(packed: qkv, heads: 3, causal: causal, keyMask: mask)
    try packed.backward(seed: seed)
    let packedGrad = try #require(qkv.grad).scalars
    qkv.grad = nil
    let q = try qkv.narrow(axis: 2, start: 0, length: 6), k = try qkv.narrow(axis: 2, start: 6, length: 6)
    let v = try qkv.narrow(axis: 2, start: 12, length: 6)
    let separate = try scaledDotProductAttention(q, k, v, heads: 3, causal: causal, keyMask: mask)
    try separate.backward(seed: seed)
    #expect(packed.scalars == separate.scalars)
    for (got, want) in zip(packedGrad, try #require(qkv.grad).scalars) { #expect(abs(got - want) <= 1e-6) }
    try checkGradients([qkv]) { try scaledDotProductAttention(packed: $0[0], heads: 3, causal: causal, keyMask: mask) }
    #expect(throws: TensorError.self) {
      try scaledDotProductAttention(packed: Self.input([2, 5, 17], seed: 55), heads: 3)
    }
  }
}
