import Foundation
import TestSupport
import Testing
import CLIP
import Tensor
@testable import Training

private let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures/losses.json")

/// Reference values from `Scripts/fixtures/make_loss_fixtures.py` (PyTorch).
private struct LossFixtures: Decodable {
  struct Encoded: Decodable { let shape: [Int]; let data: [Float] }
  struct CMACCase: Decodable {
    let estimator: String, bandwidth: String, comparison: String, conditioning: String
    let value: Float, grad: [Float], compared: Int, skipped: Int, terms: Int
  }
  struct CLIPCase: Decodable {
    let v: [Float], w: [Float], t: [Float], logit_scale: Float, labels: [Int], weights: [Float]
    let contrastive: Float, grad_v: [Float], grad_w: [Float], grad_logit_scale: Float
    let prompt_ce: Float, pce_grad_v: [Float], pce_grad_t: [Float], pce_grad_logit_scale: Float
  }
  let similarities: Encoded
  let labels: [Int], groups: [Int]
  let margins: [Float], margin_grad_of_sum: [Float]
  let cmac: [CMACCase]
  let clip: CLIPCase

  static let shared = try! JSONDecoder().decode(LossFixtures.self, from: Data(contentsOf: fixtureURL))
}

struct LossTests {
  @Test func certaintyMarginsMatchPyTorch() throws {
    let f = LossFixtures.shared
    let sims = try Tensor(f.similarities.data, shape: f.similarities.shape).requiringGrad()
    let s = try CertaintyMargin.margins(similarities: sims, labels: f.labels)
    #expect(isClose(s.scalars, f.margins, atol: 1e-4, rtol: 1e-4))
    try s.sum().backward()
    #expect(isClose(sims.grad!.scalars, f.margin_grad_of_sum, atol: 1e-4, rtol: 1e-4))
  }

  static let combos: [Int] = Array(LossFixtures.shared.cmac.indices)

  @Test(arguments: combos)
  func cmacMMDMatchesPyTorchForEveryOption(_ i: Int) throws {
    let f = LossFixtures.shared
    let c = f.cmac[i]
    let options = CMACMMD(
      estimator: CMACMMD.Estimator(rawValue: c.estimator)!,
      bandwidth: c.bandwidth == "fixed" ? .fixed(0.1) : c.bandwidth == "multi" ? .multi(0.1) : .median,
      comparison: CMACMMD.Comparison(rawValue: c.comparison)!,
      conditioning: CMACMMD.Conditioning(rawValue: c.conditioning)!)
    let sims = try Tensor(f.similarities.data, shape: f.similarities.shape).requiringGrad()
    let margins = try CertaintyMargin.margins(similarities: sims, labels: f.labels)
    let out = try options.term(margins: margins, groups: f.groups, labels: f.labels)
    let label = "\(c.estimator)/\(c.bandwidth)/\(c.comparison)/\(c.conditioning)"
    #expect(
      abs(out.value.item() - c.value) <= 1e-4 * (1 + abs(c.value)), "\(label) value \(out.value.item()) vs \(c.value)")
    #expect(
      out.groupsCompared == c.compared && out.groupsSkipped == c.skipped && out.terms == c.terms, "\(label) counts")
    try out.value.backward()
    #expect(isClose(sims.grad!.scalars, c.grad, atol: 1e-4, rtol: 1e-4), "\(label) gradient")
  }

  @Test func autoLossIsContrastiveOnlyForPretrainedModelsWithNotes() {
    #expect(LossKind.auto.isContrastive(hasNotes: true, fromScratch: false))
    #expect(!LossKind.auto.isContrastive(hasNotes: true, fromScratch: true))
    #expect(!LossKind.auto.isContrastive(hasNotes: false, fromScratch: false))
    #expect(
      LossKind.contrastive.isContrastive(hasNotes: false, fromScratch: true)
        && !LossKind.promptCE.isContrastive(hasNotes: true, fromScratch: false))
  }

  @Test func biasedMMDIsZeroForIdenticalSetsAndPositiveOtherwise() throws {
    let m = CMACMMD()
    let x = Tensor([0.1, 0.3, -0.2, 0.05])
    #expect(abs(try m.mmd2(x, x, [0.1]).item()) < 1e-6)
    let y = Tensor([0.4, 0.5, 0.2, 0.45])
    #expect(try m.mmd2(x, y, [0.1]).item() > 0.1)
  }

  @Test func unbiasedEstimateIsCentredForEqualDistributions() throws {
    let unbiased = CMACMMD(estimator: .unbiased), biased = CMACMMD(estimator: .biased)
    var g = SeededGenerator(seed: 5)
    var u: [Double] = [], b: [Double] = []
    for _ in 0..<1000 {
      let x = Tensor.randn([8], std: 0.1, using: &g), y = Tensor.randn([8], std: 0.1, using: &g)
      u.append(Double(try unbiased.mmd2(x, y, [0.1]).item()))
      b.append(Double(try biased.mmd2(x, y, [0.1]).item()))
    }
    let mean = u.reduce(0, +) / Double(u.count)
    let se =
      (u.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(u.count - 1)).squareRoot()
      / Double(u.count).squareRoot()
    // Unbiased: mean within 3.5 standard errors of 0. Biased: clearly positive for the same draws.
    #expect(abs(mean) < 3.5 * se, "unbiased mean \(mean), standard error \(se)")
    #expect(b.reduce(0, +) / Double(b.count) > mean + 10 * se)
  }

  @Test func fewerThanTwoQualifyingGroupsGiveZeroWithCounts() throws {
    let s = Tensor([0.1, 0.2, 0.3]).requiringGrad()
    let out = try CMACMMD().term(margins: s, groups: [0, 0, 1], labels: [1, 1, 1])
    #expect(out.value.item() == 0 && out.terms == 0 && out.groupsSkipped == 1)
    try out.value.backward()
    #expect(s.grad!.scalars == [0, 0, 0])
  }

  /// The CLIP losses on the path training runs: ``CLIPClassifier/methodBatch`` (the per-sample
  /// losses every method reduces), against PyTorch: the batch mean for contrastive (open_clip's
  /// ClipLoss) and the weighted mean for prompt-CE (how reweighting reduces it).
  @Test func clipLossesMatchPyTorch() throws {
    let c = LossFixtures.shared.clip
    let v = try Tensor(c.v, shape: [5, 8]).requiringGrad(), w = try Tensor(c.w, shape: [5, 8]).requiringGrad()
    let ls = Tensor(scalar: c.logit_scale).requiringGrad()
    let t = try Tensor(c.t, shape: [2, 8]).requiringGrad()
    func batch(contrastive: Bool) throws -> MethodBatch {
      try CLIPClassifier.methodBatch(
        imageEmbeddings: v, textEmbeddings: contrastive ? w : nil, classTexts: t, logitScale: ls,
        labels: c.labels, groups: [0, 0, 0, 0, 0], contrastive: contrastive, progress: 0)
    }
    let loss = try batch(contrastive: true).perSampleLoss.mean()
    #expect(abs(loss.item() - c.contrastive) < 1e-4)
    #expect(abs(try CLIPLoss.contrastive(images: v, texts: w, logitScale: ls).item() - loss.item()) == 0)
    try loss.backward()
    #expect(
      isClose(v.grad!.scalars, c.grad_v, atol: 1e-4, rtol: 1e-4)
        && isClose(w.grad!.scalars, c.grad_w, atol: 1e-4, rtol: 1e-4))
    #expect(abs(ls.grad!.item() - c.grad_logit_scale) < 1e-4)

    v.grad = nil; ls.grad = nil
    let pce = try (batch(contrastive: false).perSampleLoss * Tensor(c.weights)).mean()
    #expect(abs(pce.item() - c.prompt_ce) < 1e-4)
    try pce.backward()
    #expect(
      isClose(v.grad!.scalars, c.pce_grad_v, atol: 1e-4, rtol: 1e-4)
        && isClose(t.grad!.scalars, c.pce_grad_t, atol: 1e-4, rtol: 1e-4))
    #expect(abs(ls.grad!.item() - c.pce_grad_logit_scale) < 1e-3)
  }

  @Test func logitScaleIsClampedAt100() {
    let big = Tensor(scalar: 10)
    #expect(abs(CLIPLoss.temperature(big).item() - 100) < 1e-3)
  }
}
