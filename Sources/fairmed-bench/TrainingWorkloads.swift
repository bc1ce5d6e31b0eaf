import CLIP
import Distributed
import Foundation
import NN
import Tensor
import Training

/// `--training` rows: the tiny and small from-scratch CLIPs' training step (batch 64, 64×64, prompt-CE,
/// backward, AdamW) with ERM and with CMAC-MMD, the tiny CLIP's pretraining step (64 image–caption
/// pairs, CLIP's InfoNCE; beside open_clip's ClipLoss step), the CMAC-MMD term alone (margins → MMD² over
/// 6 subgroups → backward), and its share of the step. The PyTorch peer
/// (Scripts/bench/peer_training_torch.py) runs the same model in `transformers` and the same
/// loss formula.
func trainingRows(repeats: Int, threads: Int, peer: Bool) throws -> [Row] {
  var rows = try presetRows("tiny", repeats: repeats) + presetRows("small", repeats: repeats)
  if peer {
    rows.attachPeer(
      runPeer(script: "peer_training_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"]))
    rows += openCLIPComparisons(
      of: rows.filter { $0.name.hasSuffix("_train_step_erm") }, threads: threads, repeats: repeats
    ) { "openclip_\($0.prefix { $0 != "_" })_train_step" }
    rows += openCLIPComparisons(of: rows.filter { $0.name == "tiny_pretrain_step" }, threads: threads, repeats: repeats)
    { "openclip_" + $0 }
  }
  return rows
}

/// A preset's ERM and CMAC-MMD steps (and, for `tiny`, the term alone and its share).
func presetRows(_ preset: String, repeats: Int) throws -> [Row] {
  guard let config = ModelPresets.config(named: preset, imageSize: 64) else { throw BenchError("no preset \(preset)") }
  let model = CLIPModel(config: config, seed: 0)
  let tokenizer = try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength)
  let classifier = CLIPClassifier(
    model: model, tokenizer: tokenizer,
    prompts: ["a dermoscopy image of a benign lesion", "a dermoscopy image of a malignant lesion"])
  var g = SeededGenerator(seed: 9)
  let n = 64
  let pixels = Tensor.randn([n, 3, 64, 64], using: &g)
  let labels = (0..<n).map { $0 % 4 == 0 ? 1 : 0 }
  let groups = (0..<n).map { $0 % 6 }
  let opt = AdamW(parameters: model.trainableParameters(), weightDecay: 0.1)
  func stepMs(_ method: TrainingMethod) throws -> Timing {
    try timeMilliseconds(repeats: repeats) {
      opt.zeroGrad()
      let batch = try classifier.methodBatch(
        images: pixels, pooled: false, labels: labels, groups: groups, texts: nil,
        contrastive: false, progress: 0)
      try method.loss(batch).total.backward()
      opt.step(lr: 1e-4)
    }
  }
  let ermMs = try stepMs(ERM())
  let cmacMs = try stepMs(
    CMACMMDMethod(options: CMACMMD(lambda: 1, comparison: .pooledDetached, conditioning: .perClass)))
  // The term alone on fixed similarities.
  let sims = Tensor.uniform([n, 2], low: -0.3, high: 0.3, using: &g).requiringGrad()
  let termMs = try timeMilliseconds(repeats: repeats * 4) {
    sims.grad = nil
    let s = try CertaintyMargin.margins(similarities: sims, labels: labels)
    try CMACMMD().term(margins: s, groups: groups, labels: labels).value.backward()
  }
  let steps = [
    Row(name: "\(preset)_train_step_erm", unit: "images/s", ermMs.perSecond(n)),
    Row(name: "\(preset)_train_step_cmac", unit: "images/s", cmacMs.perSecond(n)),
  ]
  guard preset == "tiny" else { return steps }
  // `fairmed pretrain`'s step: 64 images against their own 64 captions (Trainer.pretrainingLoss).
  let captions = (0..<n).map { "lesion \($0): asymmetric, irregular border, \($0 % 9 + 2) mm, on the back" }
  let noParallel = DataParallel(world: SingleProcess())
  let pretrainMs = try timeMilliseconds(repeats: repeats) {
    opt.zeroGrad()
    try Trainer.pretrainingLoss(
      classifier: classifier, images: pixels, texts: captions, pooled: false, parallel: noParallel
    ).backward()
    opt.step(lr: 1e-3)
  }
  return steps + [
    Row(name: "tiny_pretrain_step", unit: "images/s", pretrainMs.perSecond(n)),
    Row(name: "cmac_term_batch64", unit: "ms", (termMs.best, termMs.median)),
    Row(
      name: "cmac_overhead_pct", unit: "%",
      (100 * (cmacMs.best - ermMs.best) / ermMs.best, 100 * (cmacMs.median - ermMs.median) / ermMs.median)),
  ]
}
