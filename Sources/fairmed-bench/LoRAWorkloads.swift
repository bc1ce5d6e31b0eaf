import CLIP
import Foundation
import NN
import Tensor
import Training

/// Peak resident memory of this process so far, in MB: `VmHWM` from /proc/self/status (reset by
/// exec, unlike getrusage's ru_maxrss, which a spawned child inherits from its parent on Linux).
func peakRSSMegabytes() -> Double {
  if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
    let kb = Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "")
  {
    return kb / 1024
  }
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_maxrss) / 1024
}

/// One fine-tuning step's timings: best and median over `repeats` after a warm-up.
struct StepTiming: Codable {
  var imagesPerSecondBest: Double
  var imagesPerSecondMedian: Double
  var peakRSSMB: Double
  var trainableParameters: Int
}

/// A prompt-CE step (batch 8 at the model's size, both towers, AdamW) of `classifier` with `method`,
/// full fine-tuning or LoRA r 8 / alpha 16 on the model's default targets, timed in this process.
func fineTuneStep(_ classifier: CLIPClassifier, lora: Bool, method: TrainingMethod, repeats: Int) throws -> StepTiming {
  let model = classifier.model
  if lora { try model.attachLoRA(LoRAConfig(rank: 8, alpha: 16, targets: model.defaultLoRATargets), seed: 0) }
  classifier.invalidateCaches()
  var g = SeededGenerator(seed: 5)
  let batch = 8, size = model.imageSize
  let pixels = Tensor.randn([batch, 3, size, size], using: &g)
  let labels = (0..<batch).map { $0 % 2 }, groups = (0..<batch).map { $0 % 4 }
  let opt = AdamW(parameters: model.trainableParameters(), weightDecay: 0.1)
  var times: [Double] = []
  for i in 0...repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    opt.zeroGrad()
    let b = try classifier.methodBatch(
      images: pixels, pooled: false, labels: labels, groups: groups, texts: nil, contrastive: false, progress: 0)
    try method.loss(b).total.backward()
    opt.step(lr: 1e-5)
    if i > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
  }
  times.sort()
  return StepTiming(
    imagesPerSecondBest: Double(batch) / times[0], imagesPerSecondMedian: Double(batch) / times[times.count / 2],
    peakRSSMB: peakRSSMegabytes(), trainableParameters: model.trainableParameterCount)
}

/// The child process of `--lora` / `--biomedclip`: one workload, its JSON on stdout, so each
/// mode's peak memory is its own.
func runBenchChild(_ spec: String, repeats: Int) throws {
  let parts = spec.split(separator: ":", maxSplits: 2).map(String.init)
  let prompts = ["a dermoscopy image of a benign lesion", "a dermoscopy image of a malignant lesion"]
  let output: Data
  switch (parts.first, parts.count) {
  case ("clip-b16", 2), ("clip-b16", 3):  // clip-b16:full|lora[:fp32|bf16]
    guard let precision = parts.count == 3 ? Precision(rawValue: parts[2]) : .fp32 else {
      throw BenchError("clip-b16:MODE:fp32|bf16, got \(spec)")
    }
    let tokenizer = try CLIPTokenizer.bundledOpenAI(contextLength: 77)
    let classifier = CLIPClassifier(
      model: CLIPModel(config: clipB16Config(), seed: 0), tokenizer: tokenizer, prompts: prompts)
    output = try JSONEncoder().encode(
      Precision.withPrecision(precision) {
        try fineTuneStep(classifier, lora: parts[1] == "lora", method: ERM(), repeats: repeats)
      })
  case ("clip-b16-step", 2):  // clip-b16-step:fp32|bf16, the --clip fine-tune step
    guard let precision = Precision(rawValue: parts[1]) else {
      throw BenchError("clip-b16-step:fp32|bf16, got \(spec)")
    }
    output = try JSONEncoder().encode(clipB16FineTuneStep(precision: precision, repeats: repeats))
  case ("biomedclip", 3) where parts[1] == "encode":
    output = try JSONEncoder().encode(biomedCLIPEncode(directory: parts[2], repeats: repeats))
  case ("biomedclip", 3):
    let classifier = try CLIPClassifier.load(directory: parts[2], prompts: prompts)
    let cmac = CMACMMDMethod(options: CMACMMD())
    output = try JSONEncoder().encode(
      fineTuneStep(classifier, lora: parts[1] == "lora", method: cmac, repeats: repeats))
  case ("block", 3):  // block:WIDTH:HEADS, for profiling one encoder block alone
    guard let width = Int(parts[1]), let heads = Int(parts[2]), width > 0, heads > 0 else {
      throw BenchError("block:WIDTH:HEADS, got \(spec)")
    }
    let (f, t) = try blockTimings(width: width, heads: heads, mlp: 4 * width, batch: 8, tokens: 197, repeats: repeats)
    output = try JSONEncoder().encode(["forward_ms": f.best, "forward_backward_ms": t.best])
  case ("step", 2):  // step:PRESET, for profiling one preset's training step alone
    let rows = try presetRows(parts[1], repeats: repeats)
    output = try JSONEncoder().encode(Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0.fairmed) }))
  default:
    throw BenchError("unknown child workload \(spec)")
  }
  FileHandle.standardOutput.write(output)
}

struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// Encoding a BiomedCLIP-shaped folder (Scripts/fixtures/make_biomedclip_full.py): load time,
/// best and median seconds for 4 images and 4 texts, the largest difference from open_clip's
/// features, peak memory.
func biomedCLIPEncode(directory: String, repeats: Int) throws -> [String: Double] {
  let start = DispatchTime.now().uptimeNanoseconds
  let model = try CLIPFolder.load(directory).model
  let load = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  let expected = try SafetensorsFile(path: directory + "/expected.safetensors")
  let pixels = try expected.tensor("pixels"), idTensor = try expected.tensor("token_ids")
  let ids = (0..<idTensor.shape[0]).map { r in
    (0..<idTensor.shape[1]).map { Int(idTensor.pointer[r * idTensor.shape[1] + $0]) }
  }
  func timed(_ body: () throws -> Tensor) throws -> (Tensor, Double, Double) {
    var out = try withNoGrad { try body() }
    var times: [Double] = []
    for _ in 0..<repeats {
      let t0 = DispatchTime.now().uptimeNanoseconds
      out = try withNoGrad { try body() }
      times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    return (out, times[0], times[times.count / 2])
  }
  let (image, imageBest, imageMedian) = try timed { try model.imageFeatures(pixels, normalized: false) }
  let (text, textBest, textMedian) = try timed { try model.textFeatures(ids, normalized: false) }
  func maxDiff(_ a: Tensor, _ name: String) throws -> Double {
    Double(zip(a.scalars, try expected.tensor(name).scalars).map { abs($0 - $1) }.max() ?? .infinity)
  }
  return [
    "load_s": load, "image_batch4_best_s": imageBest, "image_batch4_median_s": imageMedian,
    "text_batch4_best_s": textBest,
    "text_batch4_median_s": textMedian, "image_max_abs_diff": try maxDiff(image, "image_features"),
    "text_max_abs_diff": try maxDiff(text, "text_features"), "peak_rss_mb": peakRSSMegabytes(),
  ]
}

/// Runs this executable as a child on `spec` and decodes its JSON.
func benchChild<T: Decodable>(_ spec: String, repeats: Int, as: T.Type) throws -> T {
  let p = Process()
  p.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
  p.arguments = ["--child", spec, "--repeats", "\(repeats)"]
  let pipe = Pipe()
  p.standardOutput = pipe
  try p.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else { throw BenchError("child \(spec) exited with status \(p.terminationStatus)") }
  return try JSONDecoder().decode(T.self, from: data)
}

/// `--lora` rows: a ViT-B/16 CLIP fine-tuning step, full against LoRA (r 8, q_proj/v_proj), in
/// images/s and peak MB, each mode in its own process, beside PyTorch + PEFT
/// (Scripts/bench/peer_lora_torch.py).
func loraRows(repeats: Int, threads: Int, peer: Bool) throws -> [Row] {
  var rows: [Row] = []
  for precision in BF16Support.available ? [Precision.fp32, .bf16] : [.fp32] {
    let suffix = precision == .fp32 ? "" : "_bf16"
    for mode in ["full", "lora"] {
      let t = try benchChild("clip-b16:\(mode):\(precision.rawValue)", repeats: repeats, as: StepTiming.self)
      print(
        String(
          format: "clip_b16_%@_step%@: %.3f images/s best, %.3f median, peak %.0f MB, %d trainable parameters",
          mode, suffix, t.imagesPerSecondBest, t.imagesPerSecondMedian, t.peakRSSMB, t.trainableParameters))
      rows.append(
        Row(name: "clip_b16_\(mode)_step\(suffix)", unit: "images/s", (t.imagesPerSecondBest, t.imagesPerSecondMedian)))
      rows.append(Row(name: "clip_b16_\(mode)_step\(suffix)_peak_rss_mb", unit: "MB", fairmed: t.peakRSSMB))
    }
  }
  if peer {
    rows.attachPeer(
      runPeer(script: "peer_lora_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"]))
  }
  return rows
}

/// `--biomedclip DIR` rows: encoding the full-size BiomedCLIP-shaped folder against open_clip
/// (`make_biomedclip_full.py --peer`), then a CMAC-MMD fine-tuning step of it, full against LoRA.
func biomedCLIPRows(directory: String, repeats: Int, threads: Int, peer: Bool) throws -> [Row] {
  let e = try benchChild("biomedclip:encode:\(directory)", repeats: repeats, as: [String: Double].self)
  print(
    "biomedclip encode: "
      + e.sorted { $0.key < $1.key }.map { String(format: "%@ %.4g", $0.key, $0.value) }.joined(separator: ", "))
  var rows = [
    "load_s", "image_batch4_best_s", "image_batch4_median_s", "text_batch4_best_s", "text_batch4_median_s",
    "peak_rss_mb",
    "image_max_abs_diff", "text_max_abs_diff",
  ].map {
    Row(
      name: "biomedclip_" + $0, unit: $0.hasSuffix("_mb") ? "MB" : $0.hasSuffix("diff") ? "" : "s",
      fairmed: e[$0] ?? .nan)
  }
  if peer,
    let values = runPeer(
      script: "../fixtures/make_biomedclip_full.py",
      args: ["--peer", directory, "--threads", "\(threads)", "--repeats", "\(repeats)"])
  {
    for i in rows.indices where !rows[i].name.hasSuffix("diff") {
      rows[i].setPeer(values[String(rows[i].name.dropFirst("biomedclip_".count))], median: nil)
    }
  }
  for mode in ["full", "lora"] {
    let t = try benchChild("biomedclip:\(mode):\(directory)", repeats: repeats, as: StepTiming.self)
    print(
      String(
        format: "biomedclip_cmac_%@_step: %.3f images/s best, %.3f median, peak %.0f MB, %d trainable parameters",
        mode, t.imagesPerSecondBest, t.imagesPerSecondMedian, t.peakRSSMB, t.trainableParameters))
    rows.append(
      Row(name: "biomedclip_cmac_\(mode)_step", unit: "images/s", (t.imagesPerSecondBest, t.imagesPerSecondMedian)))
    rows.append(Row(name: "biomedclip_cmac_\(mode)_step_peak_rss_mb", unit: "MB", fairmed: t.peakRSSMB))
  }
  return rows
}
