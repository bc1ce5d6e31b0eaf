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

/// Model FLOPs of one forward pass of a CLIP tower on `tokens` tokens (a multiply-add is 2 FLOPs):
/// its linear layers (q, k, v, out; the MLP), attention's two products, the patch embedding
/// (`patchPixels` values per patch, vision only) and the projection to `projection`. Layer norms,
/// softmax and activations are not counted, as MFU conventionally does not.
func towerForwardFLOPs(_ c: CLIPTowerConfig, tokens: Int, patchPixels: Int?, projection: Int) -> Double {
  let t = Double(tokens), w = Double(c.hiddenSize), mlp = Double(c.intermediateSize)
  let perLayer = 2 * t * w * 4 * w + 2 * 2 * t * w * mlp + 2 * 2 * t * t * w
  let patches = patchPixels.map { 2 * (t - 1) * Double($0) * w } ?? 0
  return Double(c.numHiddenLayers) * perLayer + patches + 2 * w * Double(projection)
}

/// ViT-B/16 CLIP's model FLOPs per image: image inference (the image tower forward), and a
/// fine-tune step (both towers, 77-token texts, forward + backward = 3 × forward).
func clipB16FLOPs() -> (inference: Double, step: Double) {
  let c = clipB16Config(), v = c.vision
  let image = towerForwardFLOPs(
    v, tokens: v.gridSize * v.gridSize + 1, patchPixels: 3 * v.patchSize * v.patchSize, projection: c.projectionDim)
  let text = towerForwardFLOPs(c.text, tokens: 77, patchPixels: nil, projection: c.projectionDim)
  return (image, 3 * (image + text))
}

/// The ViT-B/16 CLIP fine-tune step of `--clip` (batch 8: both towers, CLIP loss, backward,
/// AdamW) at `precision`, timed in this process (a child of the bench, so its peak memory is its own).
func clipB16FineTuneStep(precision: Precision, repeats: Int) throws -> StepTiming {
  try Precision.withPrecision(precision) {
    let model = CLIPModel(config: clipB16Config(), seed: 0)
    var g = SeededGenerator(seed: 5)
    let batch = 8
    let pixels = Tensor.randn([batch, 3, 224, 224], using: &g)
    let ids: [[Int]] = (0..<batch).map { b in
      let words: [Int] = (0..<20).map { (b * 31 + $0 * 7) % 49000 + 1 }
      return [49406] + words + [Int](repeating: 49407, count: 56)
    }
    let opt = AdamW(parameters: model.trainableParameters(), weightDecay: 0.1)
    let t = try timeMilliseconds(repeats: repeats) {
      opt.zeroGrad()
      let loss = try model.contrastiveLoss(
        imageFeatures: model.imageFeatures(pixels), textFeatures: model.textFeatures(ids))
      try loss.backward()
      opt.step(lr: 1e-5)
    }
    let rate = t.perSecond(batch)
    return StepTiming(
      imagesPerSecondBest: rate.best, imagesPerSecondMedian: rate.median, peakRSSMB: peakRSSMegabytes(),
      trainableParameters: model.trainableParameterCount)
  }
}

/// `--clip` rows: image-tower inference (batch 32, no grad) and a full fine-tune step (batch 8:
/// both towers, CLIP loss, backward, AdamW; in its own process, with its peak memory), in images/s,
/// in fp32 and, where the CPU has the instructions, in bf16 (rows `..._bf16`); with the PyTorch
/// peers (transformers' CLIPModel, Scripts/bench/peer_clip_torch.py; open_clip in fp32 and under
/// `torch.autocast` bf16, Scripts/bench/peer_openclip_torch.py) when `peer` is set. `peaks` are the
/// machine's measured GEMM peaks (GFLOP/s; bf16 nil without it) for the `mfu_*` rows: model
/// FLOPs per second (``clipB16FLOPs()``) as a share of the peak of the row's precision.
func clipRows(repeats: Int, threads: Int, peer: Bool, peaks: (fp32: Double, bf16: Double?)) throws -> [Row] {
  let model = CLIPModel(config: clipB16Config(), seed: 0)
  var g = SeededGenerator(seed: 5)
  let inferBatch = 32
  let pixels = Tensor.randn([inferBatch, 3, 224, 224], using: &g)
  let precisions: [Precision] = BF16Support.available ? [.fp32, .bf16] : [.fp32]
  if !BF16Support.available {
    print(
      "clip: no bf16 rows (\(Precision.problem(.bf16, features: BF16Support.features, oneDNN: BF16Support.oneDNN) ?? ""))"
    )
  }
  var rows: [Row] = []
  for p in precisions {
    let suffix = p == .fp32 ? "" : "_bf16"
    let infer = try Precision.withPrecision(p) {
      try timeMilliseconds(repeats: repeats) { _ = try withNoGrad { try model.imageFeatures(pixels) } }
    }
    let step = try benchChild("clip-b16-step:\(p.rawValue)", repeats: repeats, as: StepTiming.self)
    rows.append(Row(name: "clip_b16_image_inference" + suffix, unit: "images/s", infer.perSecond(inferBatch)))
    rows.append(
      Row(
        name: "clip_b16_finetune_step" + suffix, unit: "images/s",
        (step.imagesPerSecondBest, step.imagesPerSecondMedian)))
    rows.append(Row(name: "clip_b16_finetune_step\(suffix)_peak_rss_mb", unit: "MB", fairmed: step.peakRSSMB))
  }
  guard peer else { return rows + mfuRows(rows, peers: [:], peaks: peaks) }
  rows.attachPeer(
    runPeer(script: "peer_clip_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"]))
  // open_clip, what CLIP is trained with, on the same workloads, in fp32 and under autocast.
  let workloads = ["b16_image_inference", "b16_finetune_step"]
  let names = workloads.flatMap { ["openclip_" + $0] + (precisions.count > 1 ? ["openclip_\($0)_autocast"] : []) }
  let values =
    runPeer(
      script: "peer_openclip_torch.py",
      args: ["--threads", "\(threads)", "--repeats", "\(repeats)", "--only", names.joined(separator: ",")]) ?? [:]
  var comparisons: [Row] = []
  for w in workloads {
    for p in precisions {
      guard let mine = rows.first(where: { $0.name == "clip_" + w + (p == .fp32 ? "" : "_bf16") }) else { continue }
      let against =
        p == .fp32 ? [("", "openclip_" + w)] : [("", "openclip_" + w), ("autocast_", "openclip_\(w)_autocast")]
      for (label, key) in against {
        var r = Row(
          name: "vs_open_clip_\(label)\(mine.name.dropFirst("clip_".count))", unit: mine.unit,
          (mine.fairmed, mine.fairmedMedian ?? mine.fairmed))
        r.setPeer(values[key], median: values[key + "_median"])
        comparisons.append(r)
      }
    }
  }
  // Peak memory of the step against open_clip's in the same precision (autocast for bf16).
  for i in rows.indices where rows[i].name.hasSuffix("_peak_rss_mb") {
    let key =
      rows[i].name.contains("_bf16")
      ? "openclip_b16_finetune_step_autocast_peak_rss_mb" : "openclip_b16_finetune_step_peak_rss_mb"
    rows[i].setPeer(values[key], median: nil)
  }
  return rows + comparisons + mfuRows(rows, peers: values, peaks: peaks)
}

/// `mfu_<row>` (%): each CLIP throughput row's model FLOPs per second against the measured GEMM
/// peak of its precision, FairMed's beside open_clip's on the same workload and precision (fp32,
/// or autocast for bf16).
func mfuRows(_ rows: [Row], peers: [String: Double], peaks: (fp32: Double, bf16: Double?)) -> [Row] {
  let flops = clipB16FLOPs()
  var out: [Row] = []
  for r in rows where r.unit == "images/s" {
    let bf16 = r.name.hasSuffix("_bf16")
    guard let peak = bf16 ? peaks.bf16 : peaks.fp32 else { continue }
    let perImage = r.name.contains("inference") ? flops.inference : flops.step
    func mfu(_ imagesPerSecond: Double) -> Double { 100 * imagesPerSecond * perImage / 1e9 / peak }
    var m = Row(name: "mfu_" + r.name, unit: "%", (mfu(r.fairmed), mfu(r.fairmedMedian ?? r.fairmed)))
    let workload = String(r.name.dropFirst("clip_".count))
    let base = bf16 ? String(workload.dropLast("_bf16".count)) : workload
    let key = "openclip_" + base + (bf16 ? "_autocast" : "")
    if let v = peers[key] { m.setPeer(mfu(v), median: peers[key + "_median"].map(mfu)) }
    out.append(m)
    print(
      String(
        format: "%@: %.1f model GFLOP/s = %.1f%% of the %@ GEMM peak (%.1f GFLOP/s)", r.name,
        r.fairmed * perImage / 1e9,
        mfu(r.fairmed), bf16 ? "bf16" : "fp32", peak))
  }
  return out
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
