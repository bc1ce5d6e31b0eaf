import Datasets
import Foundation
import NN
import Tensor
import Training

/// `--cached` row: what the image-frozen path trains once the feature cache exists, 10 epochs
/// over 10 000 cached 512-wide pooled image features at batch 256 (shuffled, last partial batch
/// dropped): the image and text projections (512 → 512, no bias) and the temperature, prompt-CE
/// against two class embeddings plus CMAC-MMD (pooled-detached, per-class, σ 0.1, λ 1) on the
/// cosine margins, six subgroups, AdamW. The text tower below its projection is held fixed (its
/// pooled outputs are given), so both sides time the head alone. Seconds for all 10 epochs, in fp32
/// and, where the CPU has the instructions, in bf16 (`..._bf16`: the 256×512×512 projections and
/// their gradients run in bf16). PyTorch peer (fp32): Scripts/bench/peer_cached_torch.py.
func cachedFeatureRows(repeats: Int, threads: Int, peer: Bool) throws -> [Row] {
  let n = 10_000, width = 512, batch = 256, epochs = 10
  var g = SeededGenerator(seed: 21)
  let features = Tensor.randn([n, width], using: &g)
  let textPooled = Tensor.randn([2, width], using: &g)
  let labels = (0..<n).map { $0 % 5 == 0 ? 1 : 0 }, groups = (0..<n).map { $0 % 6 }
  let sampler = ShuffleBatchSampler(count: n, batchSize: batch, seed: 0, dropLast: true)
  func timed(_ precision: Precision) throws -> Timing {
    try Precision.withPrecision(precision) { try run() }
  }
  func run() throws -> Timing {
    try timeMilliseconds(repeats: repeats) {
      var initializer = SeededGenerator(seed: 5)
      let wImage = Tensor.randn([width, width], std: 0.02, using: &initializer).requiringGrad()
      let wText = Tensor.randn([width, width], std: 0.02, using: &initializer).requiringGrad()
      let logitScale = Tensor(scalar: 2.6592).requiringGrad()
      let opt = AdamW(
        parameters: [
          ("visual_projection.weight", wImage), ("text_projection.weight", wText), ("logit_scale", logitScale),
        ],
        weightDecay: 0.1)
      let method = CMACMMDMethod(options: CMACMMD(lambda: 1))
      for epoch in 0..<epochs {
        for idx in sampler.batches(epoch: epoch) {
          opt.zeroGrad()
          let v = try linear(features.indexSelect(axis: 0, indices: idx), weight: wImage).l2Normalized()
          let t = try linear(textPooled, weight: wText).l2Normalized()
          let mb = try CLIPClassifier.methodBatch(
            imageEmbeddings: v, textEmbeddings: nil, classTexts: t, logitScale: logitScale,
            labels: idx.map { labels[$0] }, groups: idx.map { groups[$0] }, contrastive: false, progress: 0)
          try method.loss(mb).total.backward()
          opt.step(lr: 1e-4)
        }
      }
    }
  }
  var rows: [Row] = []
  for precision in BF16Support.available ? [Precision.fp32, .bf16] : [.fp32] {
    let timing = try timed(precision)
    rows.append(
      Row(
        name: "cached_features_cmac_10_epochs" + (precision == .fp32 ? "" : "_bf16"), unit: "s",
        (timing.best / 1e3, timing.median / 1e3)))
  }
  if peer,
    let values = runPeer(script: "peer_cached_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"])
  {
    rows[0].setPeer(values[rows[0].name], median: values[rows[0].name + "_median"])
  }
  return rows
}
