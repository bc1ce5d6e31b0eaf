import Testing
@testable import Tensor

/// Central-difference gradient checks for every differentiable op (eps 1e-2 in Float32, loss
/// accumulated in Double; tolerance |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric| unless stated).
struct GradientCheckTests {
  static func input(_ shape: [Int], seed: UInt64, low: Float = -2, high: Float = 2) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &g)
  }

  static let unary: [(String, @Sendable (Tensor) throws -> Tensor, Float, Float)] = [
    ("exp", { $0.exp() }, -2, 2),
    ("log", { $0.log() }, 0.5, 3),
    ("sqrt", { $0.sqrt() }, 0.5, 3),
    ("pow2", { $0.pow(2) }, -2, 2),
    ("pow1.5", { $0.pow(1.5) }, 0.5, 3),
    ("reciprocal", { $0.reciprocal() }, 0.5, 3),
    ("tanh", { $0.tanh() }, -3, 3),
    ("sigmoid", { $0.sigmoid() }, -4, 4),
    ("relu", { $0.relu() }, -2, 2),
    ("abs", { $0.abs() }, -2, 2),
    ("clamp", { $0.clamped(min: -1, max: 1) }, -2, 2),
    ("gelu", { $0.gelu() }, -3, 3),
    ("gelu_tanh", { $0.gelu(approximate: true) }, -3, 3),
    ("quick_gelu", { $0.quickGELU() }, -3, 3),
    ("negate", { -$0 }, -2, 2),
    ("affine", { 2 * $0 + 1 }, -2, 2),
    ("scalar_div", { 1 / ($0 + 3) }, -1, 1),
    ("softmax", { try $0.softmax(axis: -1) }, -3, 3),
    ("softmax_axis0", { try $0.softmax(axis: 0) }, -3, 3),
    ("logSoftmax", { try $0.logSoftmax(axis: 1) }, -3, 3),
    ("l2Normalized", { try $0.l2Normalized() }, -2, 2),
    ("sum", { try $0.sum(axes: [0]) }, -2, 2),
    ("sum_all", { try $0.sum() }, -2, 2),
    ("mean", { try $0.mean(axes: [1], keepDims: true) }, -2, 2),
    ("variance", { try $0.variance(axes: [1]) }, -2, 2),
    ("max", { try $0.max(axis: 1) }, -2, 2),
    ("min", { try $0.min(axis: 0) }, -2, 2),
    ("reshape", { try $0.reshaped([4, 3]) }, -2, 2),
    ("transpose", { try $0.transposed(0, 1) }, -2, 2),
    ("narrow", { try $0.narrow(axis: 1, start: 1, length: 2) }, -2, 2),
    ("indexSelect", { try $0.indexSelect(axis: 1, indices: [3, 0, 3]) }, -2, 2),
    ("gather", { try $0.gather(axis: 1, indices: [1, 3, 0]) }, -2, 2),
    (
      "maskedFill",
      {
        try $0.maskedFill([true, false, false, true, false, false, true, false, false, false, false, true], value: 0)
      }, -2, 2
    ),
    ("crossEntropy", { try crossEntropy($0, targets: [1, 3, 0]) }, -2, 2),
    ("crossEntropyWeighted", { try crossEntropy($0, targets: [1, 3, 0], weights: [0.3, 2, 1]) }, -2, 2),
  ]

  @Test(arguments: unary.indices)
  func unaryAndReductionOps(_ i: Int) throws {
    let (_, f, low, high) = Self.unary[i]
    let x = Self.input([3, 4], seed: UInt64(i) + 10, low: low, high: high)
    // Keep inputs ≥ 0.05 away from the kinks of relu/abs (0) and clamp (±1), where the central
    // difference straddles two slopes.
    for j in 0..<x.count {
      for kink: Float in [-1, 0, 1] where abs(x.pointer[j] - kink) < 0.05 {
        x.pointer[j] = kink + (x.pointer[j] >= kink ? 0.05 : -0.05)
      }
    }
    try checkGradients([x]) { try f($0[0]) }
  }

  @Test func broadcastingBinaryOps() throws {
    let a = Self.input([2, 3, 4], seed: 1), b = Self.input([3, 1], seed: 2, low: 0.5, high: 2)
    try checkGradients([a, b]) { try $0[0] + $0[1] }
    try checkGradients([a, b]) { try $0[0] - $0[1] }
    try checkGradients([a, b]) { try $0[0] * $0[1] }
    try checkGradients([a, b]) { try $0[0] / $0[1] }
    let bias = Self.input([4], seed: 3)
    try checkGradients([a, bias]) { try $0[0] * $0[1] }
  }

  @Test func permuteConcatWhere() throws {
    let a = Self.input([2, 3, 4], seed: 4), b = Self.input([2, 1, 4], seed: 5)
    try checkGradients([a]) { try $0[0].permuted([1, 2, 0]) }
    try checkGradients([a, b]) { try concat([$0[0], $0[1]], axis: 1) }
    let c = Self.input([2, 3, 4], seed: 6)
    let mask = (0..<24).map { $0 % 3 == 0 }
    try checkGradients([a, c]) { try Tensor.where(mask, $0[0], $0[1]) }
  }

  @Test func matmulEveryTransposeAndBatch() throws {
    for ta in [false, true] {
      for tb in [false, true] {
        let a = Self.input(ta ? [2, 4, 3] : [2, 3, 4], seed: 7), b = Self.input(tb ? [2, 5, 4] : [2, 4, 5], seed: 8)
        try checkGradients([a, b]) { try matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        let shared = Self.input(tb ? [5, 4] : [4, 5], seed: 9)
        try checkGradients([a, shared]) { try matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
      }
    }
  }

  @Test func linearLayerNormEmbedding() throws {
    let x = Self.input([2, 3, 4], seed: 10), w = Self.input([5, 4], seed: 11), b = Self.input([5], seed: 12)
    try checkGradients([x, w, b]) { try linear($0[0], weight: $0[1], bias: $0[2]) }
    let lw = Self.input([4], seed: 13), lb = Self.input([4], seed: 14)
    try checkGradients([x, lw, lb]) { try layerNorm($0[0], weight: $0[1], bias: $0[2]) }
    let table = Self.input([6, 3], seed: 15)
    try checkGradients([table]) { try embedding($0[0], ids: [5, 0, 5, 2], shape: [2, 2]) }
  }

  @Test(arguments: [false, true])
  func attention(causal: Bool) throws {
    let q = Self.input([2, 4, 6], seed: 16), k = Self.input([2, 4, 6], seed: 17), v = Self.input([2, 4, 6], seed: 18)
    try checkGradients([q, k, v]) { try scaledDotProductAttention($0[0], $0[1], $0[2], heads: 3, causal: causal) }
    let k5 = Self.input([2, 5, 6], seed: 19), v5 = Self.input([2, 5, 6], seed: 20)
    try checkGradients([q, k5, v5]) { try scaledDotProductAttention($0[0], $0[1], $0[2], heads: 2) }
  }

  /// BERT's padding mask: masked keys get no weight and no gradient, and equal attention over
  /// the unmasked prefix alone.
  @Test func attentionWithKeyMask() throws {
    let q = Self.input([2, 4, 6], seed: 24), k = Self.input([2, 5, 6], seed: 25), v = Self.input([2, 5, 6], seed: 26)
    let mask = [true, true, true, false, false, true, false, true, true, true]
    try checkGradients([q, k, v]) { try scaledDotProductAttention($0[0], $0[1], $0[2], heads: 3, keyMask: mask) }
    let masked = try scaledDotProductAttention(q, k, v, heads: 3, keyMask: mask)
    let prefix = try scaledDotProductAttention(
      q.narrow(axis: 0, start: 0, length: 1),
      k.narrow(axis: 0, start: 0, length: 1).narrow(axis: 1, start: 0, length: 3),
      v.narrow(axis: 0, start: 0, length: 1).narrow(axis: 1, start: 0, length: 3), heads: 3)
    let first = Array(masked.scalars.prefix(24))
    for (a, b) in zip(first, prefix.scalars) { #expect(abs(a - b) < 1e-6) }
    #expect(throws: TensorError.self) {
      try scaledDotProductAttention(q, k, v, heads: 3, keyMask: Array(repeating: false, count: 10))
    }
  }

  @Test func patchEmbeddingAndDropout() throws {
    let img = Self.input([2, 3, 4, 6], seed: 21), w = Self.input([5, 3, 2, 2], seed: 22)
    try checkGradients([img, w]) { try patchEmbedding($0[0], weight: $0[1]) }
    let x = Self.input([4, 5], seed: 23)
    try checkGradients([x]) { p in
      var g = SeededGenerator(seed: 99)  // same mask on every evaluation
      return try p[0].dropout(p: 0.3, using: &g)
    }
  }

  @Test func gradientsAccumulateAcrossUsesAndCalls() throws {
    let x = Self.input([3], seed: 24).requiringGrad()
    let y = try (x * x + x).sum()
    try y.backward()
    let once = x.grad!.scalars
    for i in 0..<3 { #expect(abs(once[i] - (2 * x.pointer[i] + 1)) < 1e-5) }
    try (x * 2).sum().backward()
    for i in 0..<3 { #expect(abs(x.grad!.scalars[i] - (once[i] + 2)) < 1e-5) }
  }
}
