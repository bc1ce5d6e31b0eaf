import CLIP
import Foundation
import NN
import Tensor

/// ViT-B/16 CLIP at 224×224 (random init), as `openai/clip-vit-base-patch16`.
func clipB16Config() -> CLIPConfig {
  let vision = CLIPTowerConfig(
    hiddenSize: 768, intermediateSize: 3072, numAttentionHeads: 12, numHiddenLayers: 12,
    hiddenAct: .quickGELU, layerNormEps: 1e-5, imageSize: 224, patchSize: 16)
  let text = CLIPTowerConfig(
    hiddenSize: 512, intermediateSize: 2048, numAttentionHeads: 8, numHiddenLayers: 12,
    hiddenAct: .quickGELU, layerNormEps: 1e-5)
  return CLIPConfig(vision: vision, text: text, projectionDim: 512)
}

/// `--clip` rows: image-tower inference (batch 32, no grad) and a full fine-tune step (batch 8:
/// both towers, CLIP loss, backward, AdamW), in images/s, with the PyTorch peer
/// (Scripts/bench/peer_clip_torch.py, transformers' CLIPModel) when `peer` is set.
func clipRows(repeats: Int, threads: Int, peer: Bool) throws -> [Row] {
  let model = CLIPModel(config: clipB16Config(), seed: 0)
  var g = SeededGenerator(seed: 5)
  let inferBatch = 32, trainBatch = 8
  let pixels = Tensor.randn([inferBatch, 3, 224, 224], using: &g)
  let infer = try timeMilliseconds(repeats: repeats) { _ = try withNoGrad { try model.imageFeatures(pixels) } }
  let trainPixels = Tensor.randn([trainBatch, 3, 224, 224], using: &g)
  let ids: [[Int]] = (0..<trainBatch).map { b in
    let words: [Int] = (0..<20).map { (b * 31 + $0 * 7) % 49000 + 1 }
    return [49406] + words + [Int](repeating: 49407, count: 56)
  }
  let opt = AdamW(parameters: model.trainableParameters(), weightDecay: 0.1)
  let train = try timeMilliseconds(repeats: repeats) {
    opt.zeroGrad()
    let loss = try model.contrastiveLoss(
      imageFeatures: model.imageFeatures(trainPixels), textFeatures: model.textFeatures(ids))
    try loss.backward()
    opt.step(lr: 1e-5)
  }
  var rows = [
    Row(name: "clip_b16_image_inference", unit: "images/s", infer.perSecond(inferBatch)),
    Row(name: "clip_b16_finetune_step", unit: "images/s", train.perSecond(trainBatch)),
  ]
  if peer {
    rows.attachPeer(
      runPeer(script: "peer_clip_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"]))
    // open_clip, what CLIP is trained with, on the same workloads (its rows are named openclip_b16_*).
    rows += openCLIPComparisons(
      of: rows.filter { $0.name.hasPrefix("clip_b16_") }, threads: threads, repeats: repeats
    ) { "openclip_" + String($0.dropFirst("clip_".count)) }
  }
  return rows
}

/// `vs_open_clip_*` rows: FairMed's figure of each of `rows` against open_clip's on the same
/// workload (Scripts/bench/peer_openclip_torch.py), `peerName` naming open_clip's row.
func openCLIPComparisons(of rows: [Row], threads: Int, repeats: Int, peerName: (String) -> String) -> [Row] {
  let names = rows.map { peerName($0.name) }
  guard
    let values = runPeer(
      script: "peer_openclip_torch.py",
      args: ["--threads", "\(threads)", "--repeats", "\(repeats)", "--only", names.joined(separator: ",")])
  else { return [] }
  return zip(rows, names).map { base, key in
    var r = Row(
      name: "vs_open_clip_" + String(key.dropFirst("openclip_".count)), unit: base.unit,
      (base.fairmed, base.fairmedMedian ?? base.fairmed))
    r.setPeer(values[key], median: values[key + "_median"])
    return r
  }
}

/// Runs a peer script from Scripts/bench and decodes its `{name: value}` JSON.
func runPeer(script: String, args: [String]) -> [String: Double]? {
  let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Scripts/bench/\(script)").standardized.path
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = ["python3", path] + args
  let pipe = Pipe()
  p.standardOutput = pipe
  p.standardError = FileHandle.standardError
  guard (try? p.run()) != nil else { return nil }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0, let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
    return nil
  }
  // Numbers only: peers may also report versions or notes.
  return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
}
