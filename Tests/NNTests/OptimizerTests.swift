import Foundation
import TestSupport
import Testing
import Tensor

@testable import NN

/// torch trajectories from Scripts/fixtures/make_nn_fixtures.py.
struct OptimizerReference: Decodable {
  let initial: [String: [Float]]
  let shapes: [String: [Int]]
  let grads: [[String: [Float]]]
  let lrs: [Float]
  let adamw: [String: [Float]]
  let adamwNorms: [Float]
  let sgd: [String: [Float]]
  let nesterov: [String: [Float]]
  enum CodingKeys: String, CodingKey {
    case initial = "init", shapes, grads, lrs, adamw = "adamw_clip1", adamwNorms = "adamw_clip1_norms"
    case sgd = "sgd_wd", nesterov = "sgd_nesterov"
  }
  static func load() throws -> Self {
    try JSONDecoder().decode(Self.self, from: Data(contentsOf: nnFixtures.appendingPathComponent("reference.json")))
  }
  var names: [String] { ["layer.weight", "layer.bias", "norm.weight"] }
  func parameters() throws -> [(path: String, tensor: Tensor)] {
    try names.map { ($0, try Tensor(initial[$0]!, shape: shapes[$0]!).requiringGrad()) }
  }
  func setGrads(_ step: Int, _ params: [(path: String, tensor: Tensor)]) throws {
    for (path, t) in params { t.grad = try Tensor(grads[step][path]!, shape: t.shape) }
  }
}

@Suite struct OptimizerTests {
  // torch.optim.AdamW(groups: layer.weight wd 0.1, others 0; betas (0.9, 0.98), eps 1e-6)
  // with clip_grad_norm_(params, 1.0) before each step and lr set per step.
  @Test func adamWMatchesTorchWithClipping() throws {
    let ref = try OptimizerReference.load()
    let params = try ref.parameters()
    let opt = AdamW(parameters: params, beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.1)
    #expect(opt.decays == [true, false, false])
    for step in 0..<ref.grads.count {
      try ref.setGrads(step, params)
      let (norm, scale) = GradientClipping.scale(params, maxNorm: 1.0)
      expectClose([norm], [ref.adamwNorms[step]], atol: 1e-5, rtol: 1e-5, "norm \(step)")
      opt.step(lr: ref.lrs[step], gradScale: scale)
    }
    for (path, t) in params { expectClose(t.scalars, ref.adamw[path]!, atol: 1e-5, rtol: 1e-5, path) }
  }

  // torch.optim.SGD(lr, momentum 0.9, weight_decay 0.01) and SGD(momentum 0.9, nesterov).
  @Test func sgdMatchesTorch() throws {
    let ref = try OptimizerReference.load()
    for (nesterov, expected) in [(false, ref.sgd), (true, ref.nesterov)] {
      let params = try ref.parameters()
      let opt = SGD(parameters: params, momentum: 0.9, weightDecay: nesterov ? 0 : 0.01, nesterov: nesterov)
      for step in 0..<ref.grads.count {
        try ref.setGrads(step, params)
        opt.step(lr: ref.lrs[step])
      }
      for (path, t) in params {
        expectClose(t.scalars, expected[path]!, atol: 1e-5, rtol: 1e-5, "\(path) nesterov=\(nesterov)")
      }
    }
  }

  @Test func sharedGradientsAreNeverModified() throws {
    // Two parameters whose gradients are the same tensor (as an add's backward produces).
    let g = try Tensor([3, 4], shape: [2])
    let a = Tensor.zeros([2]).requiringGrad(), b = Tensor.zeros([2]).requiringGrad()
    a.grad = g
    b.grad = g
    let params = [(path: "a", tensor: a), (path: "b", tensor: b)]
    let (norm, scale) = GradientClipping.scale(params, maxNorm: 1)
    #expect(abs(norm - Float(50).squareRoot()) < 1e-5)
    SGD(parameters: params, momentum: 0).step(lr: 1, gradScale: scale)
    #expect(g.scalars == [3, 4])
    #expect(a.scalars == b.scalars)
    expectClose(
      a.scalars, [-3 / Float(50).squareRoot(), -4 / Float(50).squareRoot()], atol: 1e-5, rtol: 1e-5, "scaled step")
  }

  @Test func stateRoundTripsThroughSafetensors() throws {
    let ref = try OptimizerReference.load()
    let dir = URL(fileURLWithPath: freshDirectory("nn"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let p1 = try ref.parameters(), p2 = try ref.parameters()
    let o1 = AdamW(parameters: p1), o2 = AdamW(parameters: p2)
    try ref.setGrads(0, p1)
    o1.step(lr: 0.01)
    let path = dir.appendingPathComponent("opt.safetensors").path
    try Safetensors.write(o1.stateDict(), to: path)
    try o2.loadStateDict(try SafetensorsFile(path: path).allTensors())
    for (x, y) in zip(p1, p2) { y.tensor.pointer.update(from: x.tensor.pointer, count: x.tensor.count) }
    try ref.setGrads(1, p1)
    try ref.setGrads(1, p2)
    o1.step(lr: 0.01)
    o2.step(lr: 0.01)
    #expect(o2.stepCount == 2)
    for (x, y) in zip(p1, p2) { #expect(x.tensor.scalars == y.tensor.scalars) }
    #expect(throws: (any Error).self) { try o2.loadStateDict(["step": Tensor([1])]) }
  }

  @Test func defaultDecayRuleByPath() {
    for p in [
      "vision_model.encoder.layers.0.self_attn.q_proj.weight", "visual_projection.weight",
      "vision_model.embeddings.patch_embedding.weight", "text_model.encoder.layers.1.mlp.fc1.weight",
    ] {
      #expect(defaultDecays(p), "\(p)")
    }
    for p in [
      "logit_scale", "text_model.encoder.layers.0.mlp.fc1.bias", "vision_model.pre_layrnorm.weight",
      "text_model.final_layer_norm.weight", "vision_model.encoder.layers.0.layer_norm1.weight",
      "vision_model.embeddings.class_embedding", "text_model.embeddings.token_embedding.weight",
      "text_model.embeddings.position_embedding.weight", "visual.ln_post.weight",
    ] {
      #expect(!defaultDecays(p), "\(p)")
    }
  }

  @Test func schedulesArePureFunctionsOfTheStep() {
    let s = LRSchedule.warmupCosine(peak: 1e-3, warmup: 10, total: 110, floor: 1e-5)
    #expect(abs(s(0) - 1e-4) < 1e-9 && abs(s(9) - 1e-3) < 1e-9)
    #expect(abs(s(10) - 1e-3) < 1e-9)
    #expect(abs(s(60) - (1e-5 + (1e-3 - 1e-5) * 0.5)) < 1e-8)
    #expect(abs(s(110) - 1e-5) < 1e-9 && abs(s(500) - 1e-5) < 1e-9)
    // Pure: the value at a step does not depend on which steps were asked before.
    let fresh = LRSchedule.warmupCosine(peak: 1e-3, warmup: 10, total: 110, floor: 1e-5)
    let forward = (0..<120).map { s($0) }, backward = Array((0..<120).reversed().map { s($0) }.reversed())
    #expect(forward == backward && forward == (0..<120).map { fresh($0) })
    for k in 10..<109 { #expect(s(k) >= s(k + 1)) }
    #expect(LRSchedule.constant(0.5)(12345) == 0.5)
  }
}
