import CLIP
import Foundation
import NN
import Tensor
import Training

/// `--training` rows: the tiny from-scratch CLIP's training step (batch 64, 64×64, prompt-CE,
/// backward, AdamW) with ERM and with CMAC-MMD, the CMAC-MMD term alone (margins → MMD² over
/// 6 subgroups → backward), and its share of the step. The PyTorch peer
/// (Scripts/bench/peer_training_torch.py) runs the same model in `transformers` and the same
/// loss formula.
func trainingRows(repeats: Int, threads: Int, peer: Bool) throws -> [Row] {
  let config = ModelPresets.config(named: "tiny", imageSize: 64)!
  let model = CLIPModel(config: config, seed: 0)
  let tokenizer = try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength)
  let classifier = CLIPClassifier(model: model, tokenizer: tokenizer,
    prompts: ["a dermoscopy image of a benign lesion", "a dermoscopy image of a malignant lesion"])
  var g = SeededGenerator(seed: 9)
  let n = 64
  let pixels = Tensor.randn([n, 3, 64, 64], using: &g)
  let labels = (0..<n).map { $0 % 4 == 0 ? 1 : 0 }
  let groups = (0..<n).map { $0 % 6 }
  let opt = AdamW(parameters: model.trainableParameters(), weightDecay: 0.1)
  func stepMs(_ method: TrainingMethod) throws -> Double {
    try bestMilliseconds(repeats: repeats) {
      opt.zeroGrad()
      let batch = try classifier.methodBatch(images: pixels, pooled: false, labels: labels, groups: groups, texts: nil,
        contrastive: false, progress: 0)
      try method.loss(batch).total.backward()
      opt.step(lr: 1e-4)
    }
  }
  let ermMs = try stepMs(ERM())
  let cmacMs = try stepMs(CMACMMDMethod(options: CMACMMD(lambda: 1, comparison: .pooledDetached, conditioning: .perClass)))
  // The term alone on fixed similarities.
  let sims = Tensor.uniform([n, 2], low: -0.3, high: 0.3, using: &g).requiringGrad()
  let termMs = try bestMilliseconds(repeats: repeats * 4) {
    sims.grad = nil
    let s = try CertaintyMargin.margins(similarities: sims, labels: labels)
    try CMACMMD().term(margins: s, groups: groups, labels: labels).value.backward()
  }
  var rows = [
    Row(name: "tiny_train_step_erm", unit: "images/s", fairmed: Double(n) / (ermMs / 1e3)),
    Row(name: "tiny_train_step_cmac", unit: "images/s", fairmed: Double(n) / (cmacMs / 1e3)),
    Row(name: "cmac_term_batch64", unit: "ms", fairmed: termMs),
    Row(name: "cmac_overhead_pct", unit: "%", fairmed: 100 * (cmacMs - ermMs) / ermMs),
  ]
  if peer, let values = runPeer(script: "peer_training_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"]) {
    for i in rows.indices {
      guard let v = values[rows[i].name] else { continue }
      rows[i].peer = v
      switch rows[i].unit {
      case "images/s": rows[i].ratio = rows[i].fairmed / v
      case "ms": rows[i].ratio = v / rows[i].fairmed
      default: rows[i].ratio = nil  // percentages are compared side by side, not as throughput
      }
    }
  }
  return rows
}
