import CLIP
import Distributed
import Foundation
import NN
import Tensor
import Training

/// `--distributed PRESET` (run under `mpirun -np N`): one data-parallel CMAC-MMD fine-tuning step
/// of the `tiny` preset (global batch 64, 64×64) or of ViT-B/16 (global batch 8, 224×224), as
/// the trainer runs it: each rank encodes its shard, the embeddings are gathered, the global
/// loss is back-propagated locally and the gradients are summed by all-reduce before AdamW.
/// Rank 0 prints one JSON object: global images/s (best, median) and milliseconds per step spent
/// in collectives.
func distributedStep(preset: String, repeats: Int) throws {
  let world = try World.current.get()
  let dp = DataParallel(world: world)
  let (config, batch): (CLIPConfig, Int)
  switch preset {
  case "tiny":
    guard let tiny = ModelPresets.config(named: "tiny", imageSize: 64) else { throw BenchError("no tiny preset") }
    (config, batch) = (tiny, 64)
  case "b16": (config, batch) = (clipB16Config(), 8)
  default: throw BenchError("--distributed takes tiny or b16, got \(preset)")
  }
  let classifier = CLIPClassifier(
    model: CLIPModel(config: config, seed: 0),
    tokenizer: try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength),
    prompts: ["a dermoscopy image of a benign lesion", "a dermoscopy image of a malignant lesion"])
  let size = config.vision.imageSize
  var g = SeededGenerator(seed: 9)
  let labels = (0..<batch).map { $0 % 4 == 0 ? 1 : 0 }, groups = (0..<batch).map { $0 % 6 }
  let shards = DataParallel.shards(of: Array(0..<batch), cell: { "\(groups[$0])|\(labels[$0])" }, ranks: world.size)
  let order = shards.flatMap { $0 }
  let pixels = Tensor.randn([shards[world.rank].count, 3, size, size], using: &g)
  let params = classifier.model.trainableParameters()
  let opt = AdamW(parameters: params, weightDecay: 0.1)
  let method = CMACMMDMethod(options: CMACMMD(lambda: 1))
  try dp.broadcast(params.map(\.tensor))
  var communication: [Double] = []
  let timing = try timeMilliseconds(repeats: repeats) {
    let before = world.communicationSeconds
    opt.zeroGrad()
    let e = try classifier.encode(images: pixels, pooled: false, texts: nil)
    let mb = try CLIPClassifier.methodBatch(
      imageEmbeddings: dp.gather(e.images), textEmbeddings: nil,
      classTexts: dp.replicated(classifier.classTexts()), logitScale: dp.replicated(classifier.model.logitScale),
      labels: order.map { labels[$0] }, groups: order.map { groups[$0] }, contrastive: false, progress: 0)
    try method.loss(mb).total.backward()
    try dp.reduceGradients(summed: params.map(\.tensor), averaged: [])
    opt.step(lr: 1e-5)
    communication.append(1e3 * (world.communicationSeconds - before))
  }
  let parameterCount = params.reduce(0) { $0 + $1.tensor.count }
  let (best, median) = timing.perSecond(batch)
  let comm = communication.sorted()
  let out: [String: Any] = [
    "preset": preset, "processes": world.size, "threads_per_process": Parallel.threadCount, "global_batch": batch,
    "parameters": parameterCount, "images_per_s": best, "images_per_s_median": median,
    "step_ms": timing.best, "step_ms_median": timing.median, "communication_ms_median": comm[comm.count / 2],
    "allreduce_bytes": 4 * parameterCount,
  ]
  if world.isLeader {
    let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
}
