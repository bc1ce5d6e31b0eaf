import Foundation
import TestSupport
import Testing
@testable import Tensor

/// Replays `Scripts/fixtures/make_op_fixtures.py`: every op's output and input gradients must
/// match PyTorch within 1e-4 relative (1e-5 absolute).
struct TorchGoldenTests {
  struct Encoded: Decodable {
    let shape: [Int]
    let data: [Float]
    var tensor: Tensor { try! Tensor(data, shape: shape) }
  }
  struct Case: Decodable {
    let name: String
    let inputs: [Encoded]
    let output: Encoded
    let seed: Encoded
    let grads: [Encoded?]
  }
  struct File: Decodable { let cases: [Case] }

  static let cases: [Case] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixturePath("ops.json")))
    return try! JSONDecoder().decode(File.self, from: data).cases
  }()

  /// FairMed's version of each recorded case.
  static let ops: [String: @Sendable ([Tensor]) throws -> Tensor] = [
    "add_broadcast": { try $0[0] + $0[1] },
    "sub_broadcast": { try $0[0] - $0[1] },
    "mul_broadcast": { try $0[0] * $0[1] },
    "div_broadcast": { try $0[0] / $0[1] },
    "scalar_affine": { 3 * $0[0] - 1.5 },
    "neg": { -$0[0] },
    "pow3": { $0[0].pow(3) },
    "sqrt": { $0[0].sqrt() },
    "exp": { $0[0].exp() },
    "log": { $0[0].log() },
    "tanh": { $0[0].tanh() },
    "sigmoid": { $0[0].sigmoid() },
    "relu": { $0[0].relu() },
    "gelu_erf": { $0[0].gelu() },
    "gelu_tanh": { $0[0].gelu(approximate: true) },
    "quick_gelu": { $0[0].quickGELU() },
    "clamp": { $0[0].clamped(min: -0.5, max: 0.7) },
    "abs": { $0[0].abs() },
    "sum_axis1": { try $0[0].sum(axes: [1]) },
    "sum_all": { try $0[0].sum() },
    "mean_axes02_keep": { try $0[0].mean(axes: [0, 2], keepDims: true) },
    "var_axis1": { try $0[0].variance(axes: [1]) },
    "max_axis1": { try $0[0].max(axis: 1) },
    "min_axis0": { try $0[0].min(axis: 0) },
    "reshape": { try $0[0].reshaped([6, 4]) * Tensor.arange(0, 24).reshaped([6, 4]) },
    "permute": { try $0[0].permuted([2, 0, 1]) },
    "transpose": { try $0[0].transposed(0, 1) },
    "concat_axis1": { try concat([$0[0], $0[1]], axis: 1) },
    "narrow_axis1": { try $0[0].narrow(axis: 1, start: 1, length: 2) },
    "index_select": { try $0[0].indexSelect(axis: 0, indices: [2, 0, 2]) },
    "embedding": { try embedding($0[0], ids: [1, 3, 0, 1], shape: [2, 2]) },
    "gather_axis1": { try $0[0].gather(axis: 1, indices: [2, 0, 1]) },
    "masked_fill": { try $0[0].maskedFill([true, false, false, false, true, false], value: -3) },
    "where": { try Tensor.where([true, false, true, false], $0[0], $0[1]) },
    "matmul": { try matmul($0[0], $0[1]) },
    "matmul_tA": { try matmul($0[0], $0[1], transposeA: true) },
    "matmul_tB": { try matmul($0[0], $0[1], transposeB: true) },
    "matmul_tAtB": { try matmul($0[0], $0[1], transposeA: true, transposeB: true) },
    "bmm": { try matmul($0[0], $0[1]) },
    "bmm_shared_b": { try matmul($0[0], $0[1]) },
    "bmm_tB": { try matmul($0[0], $0[1], transposeB: true) },
    "linear": { try linear($0[0], weight: $0[1], bias: $0[2]) },
    "linear_nobias": { try linear($0[0], weight: $0[1]) },
    "softmax": { try $0[0].softmax(axis: -1) },
    "softmax_axis0": { try $0[0].softmax(axis: 0) },
    "log_softmax": { try $0[0].logSoftmax(axis: -1) },
    "layer_norm": { try layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5) },
    "l2_normalize": { try $0[0].l2Normalized() },
    "cross_entropy": { try crossEntropy($0[0], targets: [1, 0, 2, 2]) },
    "cross_entropy_weighted": { try crossEntropy($0[0], targets: [1, 0, 2, 2], weights: [0.5, 2, 1, 0.5]) },
    "sdpa": { try scaledDotProductAttention($0[0], $0[1], $0[2], heads: 2) },
    "sdpa_causal": { try scaledDotProductAttention($0[0], $0[1], $0[2], heads: 2, causal: true) },
    "patch_embedding": { try patchEmbedding($0[0], weight: $0[1]) },
    "transformer_block_ce": { p in try transformerBlockCE(p) },
  ]

  static func transformerBlockCE(_ p: [Tensor]) throws -> Tensor {
    let x = p[0]
    var h = try layerNorm(x, weight: p[1], bias: p[2])
    let a = try scaledDotProductAttention(
      linear(h, weight: p[3], bias: p[4]), linear(h, weight: p[5], bias: p[6]),
      linear(h, weight: p[7], bias: p[8]), heads: 2)
    let x1 = try x + linear(a, weight: p[9], bias: p[10])
    h = try layerNorm(x1, weight: p[11], bias: p[12])
    let m = try linear(h, weight: p[13], bias: p[14]).quickGELU()
    let x2 = try x1 + linear(m, weight: p[15], bias: p[16])
    let logits = try x2.mean(axes: [1]).narrow(axis: 1, start: 0, length: 3)
    return try crossEntropy(logits, targets: [0, 2])
  }

  @Test func everyRecordedCaseHasAnImplementation() {
    #expect(Self.cases.count >= 50)
    for c in Self.cases { #expect(Self.ops[c.name] != nil, "no FairMed op for fixture \(c.name)") }
  }

  @Test(arguments: cases.map(\.name))
  func matchesPyTorch(_ name: String) throws {
    let c = Self.cases.first { $0.name == name }!
    let f = try #require(Self.ops[name])
    let inputs = c.inputs.map { $0.tensor.requiringGrad() }
    let y = try f(inputs)
    #expect(y.shape == c.output.shape, "\(name): output shape")
    expectClose(y.scalars, c.output.data, atol: 1e-5, rtol: 1e-4, "\(name) output")
    try y.backward(seed: c.seed.tensor)
    for (i, g) in c.grads.enumerated() {
      guard let g else {  // PyTorch: no gradient reaches this input, so none may here either
        #expect((inputs[i].grad?.scalars ?? []).allSatisfy { $0 == 0 }, "\(name): input \(i) must get no gradient")
        continue
      }
      let got = inputs[i].grad?.scalars ?? [Float](repeating: 0, count: g.data.count)
      expectClose(got, g.data, atol: 1e-5, rtol: 1e-4, "\(name) grad of input \(i)")
    }
  }
}
