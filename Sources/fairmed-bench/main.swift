import Foundation
import Tensor

/// `fairmed-bench [--json FILE] [--repeats N] [--no-peer] [--clip] [--training] [--cached] [--lora] [--biomedclip DIR]`
/// (`--distributed tiny|b16` under mpirun):
/// engine throughput on this machine, side by side with PyTorch running the same workloads
/// (Scripts/bench/peer_*.py). Every row has the best and the median of its runs on both sides.
struct Row: Codable {
  let name: String
  let unit: String
  /// FairMed's best run (for throughputs the highest, for times the shortest) and its median.
  let fairmed: Double
  var fairmedMedian: Double?
  var peer: Double?
  var peerMedian: Double?
  /// Best against best, > 1 when FairMed is faster (or smaller, for MB).
  var ratio: Double?

  init(name: String, unit: String, fairmed: Double) {
    self.name = name
    self.unit = unit
    self.fairmed = fairmed
  }

  init(name: String, unit: String, _ value: (best: Double, median: Double)) {
    self.init(name: name, unit: unit, fairmed: value.best)
    fairmedMedian = value.median
  }

  /// Records the peer's value; the ratio follows the unit (throughput up, time and memory down).
  mutating func setPeer(_ value: Double?, median: Double?) {
    guard let value else { return }
    peer = value
    peerMedian = median
    switch unit {
    case "ms", "s", "MB": ratio = value / fairmed
    case "%", "": ratio = nil  // compared side by side
    default: ratio = fairmed / value
    }
  }
}

extension Array where Element == Row {
  /// Fills each row's peer columns from a peer's `{name, name_median}` JSON.
  mutating func attachPeer(_ values: [String: Double]?) {
    guard let values else { return }
    for i in indices { self[i].setPeer(values[self[i].name], median: values[self[i].name + "_median"]) }
  }
}

/// The CPU model (from /proc/cpuinfo) and OpenBLAS's kernel set, so figures from different
/// machines are never confused.
func machineDescription() -> String {
  let cpu =
    (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }
    .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
    ?? "unknown CPU"
  let cores = ProcessInfo.processInfo.activeProcessorCount
  return "\(cpu), \(cores) cores, \(BLAS.kernelFamily)"
}

var jsonPath: String?
var repeats = 5
var withPeer = true
var runCLIP = false
var runTraining = false
var runLoRA = false
var biomedCLIPDirectory: String?
var childSpec: String?
var distributedPreset: String?
var runCached = false
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
  switch a {
  case "--json": jsonPath = args.next()
  case "--repeats": repeats = Int(args.next() ?? "") ?? repeats
  case "--no-peer": withPeer = false
  case "--clip": runCLIP = true  // ViT-B/16 CLIP rows (minutes on 2 cores)
  case "--training": runTraining = true  // tiny CLIP training step, ERM vs CMAC-MMD
  case "--cached": runCached = true  // the image-frozen path's training on 10k cached features, 10 epochs
  case "--lora": runLoRA = true  // ViT-B/16 full vs LoRA fine-tuning step, images/s and peak memory
  case "--biomedclip": biomedCLIPDirectory = args.next()  // a folder from Scripts/fixtures/make_biomedclip_full.py
  case "--child": childSpec = args.next()  // internal: one workload in its own process
  case "--distributed": distributedPreset = args.next()  // under mpirun: a data-parallel step (tiny|b16), JSON

  case "-h", "--help":
    print(
      "usage: fairmed-bench [--json FILE] [--repeats N] [--no-peer] [--clip] [--training] [--cached] [--lora] [--biomedclip DIR] [--distributed tiny|b16]"
    )
    exit(0)
  default:
    FileHandle.standardError.write("fairmed-bench: unknown argument \(a)\n".data(using: .utf8)!)
    exit(2)
  }
}
do { try validateComputeEnvironment() } catch {
  FileHandle.standardError.write("fairmed-bench: \(error)\n".data(using: .utf8)!)
  exit(2)
}

if let childSpec {
  try runBenchChild(childSpec, repeats: repeats)
  exit(0)
}
if let distributedPreset {
  try distributedStep(preset: distributedPreset, repeats: repeats)
  exit(0)
}
let threads = Parallel.threadCount
print(
  "fairmed-bench: \(machineDescription()); \(threads) threads (FAIRMED_NUM_THREADS); best and median of \(repeats) runs"
)
var rows: [Row] = []
for n in [1024, 2048] {
  let ours = sgemmGFLOPS(n: n, repeats: repeats)
  let native = sgemmGFLOPS(n: n, repeats: repeats, openBLASThreads: threads)
  print(
    String(
      format: "sgemm %d: FairMed split %.1f GFLOP/s, OpenBLAS's own threading %.1f GFLOP/s (%.0f%%)",
      n, ours.best, native.best, 100 * ours.best / native.best))
  rows.append(Row(name: "sgemm_\(n)", unit: "GFLOP/s", ours))
}
// The bf16 GEMM peak (oneDNN, FairMed's split), where the CPU has the instructions.
var bf16Peak: Double?
if BF16Support.available {
  let bf16 = try Precision.withPrecision(.bf16) { sgemmGFLOPS(n: 2048, repeats: repeats) }
  print(
    String(
      format: "bf16 GEMM 2048 (oneDNN %@, fp32 accumulation): %.1f GFLOP/s", BF16Support.oneDNNVersion ?? "?",
      bf16.best))
  rows.append(Row(name: "bf16_gemm_2048", unit: "GFLOP/s", bf16))
  bf16Peak = bf16.best
}
let fp32Peak = rows.first { $0.name == "sgemm_2048" }?.fairmed ?? 1
rows += fp32BackendRows(repeats: repeats)
for (width, heads, mlp) in [(768, 12, 3072), (192, 3, 768)] {
  let (f, t) = try blockTimings(width: width, heads: heads, mlp: mlp, batch: 8, tokens: 197, repeats: repeats)
  rows.append(Row(name: "block\(width)_forward", unit: "ms", (f.best, f.median)))
  rows.append(Row(name: "block\(width)_forward_backward", unit: "ms", (t.best, t.median)))
}

// The PyTorch peer, when a Python with torch is available.
if withPeer {
  if let values = runPeer(script: "peer_torch.py", args: ["--threads", "\(threads)", "--repeats", "\(repeats)"]) {
    rows.attachPeer(values)
  } else {
    print("peer: python3 with torch not available (pip install torch==2.13.0+cpu); FairMed only")
  }
}

rows += try tokenizerRows(repeats: repeats, peer: withPeer)
if runTraining { rows += try trainingRows(repeats: repeats, threads: threads, peer: withPeer) }
if runCLIP {
  rows += try clipRows(repeats: max(1, repeats / 2), threads: threads, peer: withPeer, peaks: (fp32Peak, bf16Peak))
}
if runCached { rows += try cachedFeatureRows(repeats: max(3, repeats / 2), threads: threads, peer: withPeer) }
if runLoRA { rows += try loraRows(repeats: max(2, repeats / 2), threads: threads, peer: withPeer) }
if let biomedCLIPDirectory {
  rows += try biomedCLIPRows(
    directory: biomedCLIPDirectory, repeats: max(3, repeats / 2), threads: threads, peer: withPeer)
}

func fmt(_ v: Double?) -> String { v.map { String(format: "%10.2f", $0) } ?? "         –" }
print(
  "\("name".padding(toLength: 34, withPad: " ", startingAt: 0)) unit      fairmed     median      peer     median      ratio"
)
for r in rows {
  print(
    "\(r.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(r.unit.padding(toLength: 8, withPad: " ", startingAt: 0))"
      + "\(fmt(r.fairmed)) \(fmt(r.fairmedMedian)) \(fmt(r.peer)) \(fmt(r.peerMedian)) \(fmt(r.ratio))")
}
if let jsonPath {
  let enc = JSONEncoder()
  enc.outputFormatting = [.prettyPrinted, .sortedKeys]
  try enc.encode(rows).write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
  print("wrote \(jsonPath)")
}
