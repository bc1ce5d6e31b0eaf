import Foundation
import Tensor

/// `fairmed-bench [--json FILE] [--repeats N] [--no-peer] [--clip] [--training]`: engine throughput on this machine,
/// side by side with PyTorch running the same workloads (Scripts/bench/peer_torch.py).
struct Row: Codable {
  let name: String
  let unit: String
  let fairmed: Double
  var peer: Double?
  var ratio: Double?
}

var jsonPath: String?
var repeats = 5
var runPeer = true
var runCLIP = false
var runTraining = false
var runLoRA = false
var biomedCLIPDirectory: String?
var childSpec: String?
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
  switch a {
  case "--json": jsonPath = args.next()
  case "--repeats": repeats = Int(args.next() ?? "") ?? repeats
  case "--no-peer": runPeer = false
  case "--clip": runCLIP = true  // ViT-B/16 CLIP rows (minutes on 2 cores)
  case "--training": runTraining = true  // tiny CLIP training step, ERM vs CMAC-MMD
  case "--lora": runLoRA = true  // ViT-B/16 full vs LoRA fine-tuning step, images/s and peak memory
  case "--biomedclip": biomedCLIPDirectory = args.next()  // a folder from Scripts/fixtures/make_biomedclip_full.py
  case "--child": childSpec = args.next()  // internal: one workload in its own process
  case "-h", "--help":
    print("usage: fairmed-bench [--json FILE] [--repeats N] [--no-peer] [--clip] [--training] [--lora] [--biomedclip DIR]")
    exit(0)
  default:
    FileHandle.standardError.write("fairmed-bench: unknown argument \(a)\n".data(using: .utf8)!)
    exit(2)
  }
}

if let childSpec {
  try runBenchChild(childSpec, repeats: repeats)
  exit(0)
}
let threads = Parallel.threadCount
print("fairmed-bench: \(threads) threads (FAIRMED_NUM_THREADS), best of \(repeats) runs")
var rows: [Row] = []
for n in [1024, 2048] {
  let ours = sgemmGFLOPS(n: n, repeats: repeats)
  let native = sgemmGFLOPS(n: n, repeats: repeats, openBLASThreads: threads)
  print(String(format: "sgemm %d: FairMed split %.1f GFLOP/s, OpenBLAS's own threading %.1f GFLOP/s (%.0f%%)",
    n, ours, native, 100 * ours / native))
  rows.append(Row(name: "sgemm_\(n)", unit: "GFLOP/s", fairmed: ours))
}
for (width, heads, mlp) in [(768, 12, 3072), (192, 3, 768)] {
  let (f, t) = try blockTimings(width: width, heads: heads, mlp: mlp, batch: 8, tokens: 197, repeats: repeats)
  rows.append(Row(name: "block\(width)_forward", unit: "ms", fairmed: f))
  rows.append(Row(name: "block\(width)_forward_backward", unit: "ms", fairmed: t))
}

// The PyTorch peer, when a Python with torch is available.
if runPeer {
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Scripts/bench/peer_torch.py").standardized.path
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = ["python3", script, "--threads", "\(threads)", "--repeats", "\(repeats)"]
  let pipe = Pipe()
  p.standardOutput = pipe
  p.standardError = FileHandle.standardError
  do {
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    if p.terminationStatus == 0, let peer = try? JSONDecoder().decode([String: Double].self, from: data) {
      for i in rows.indices {
        guard let v = peer[rows[i].name] else { continue }
        rows[i].peer = v
        // Ratio of throughputs: higher is better for FairMed.
        rows[i].ratio = rows[i].unit == "ms" ? v / rows[i].fairmed : rows[i].fairmed / v
      }
    } else {
      print("peer: python3 with torch not available (pip install torch==2.13.0+cpu); FairMed only")
    }
  } catch {
    print("peer: could not start python3 (\(error)); FairMed only")
  }
}

if runTraining { rows += try trainingRows(repeats: repeats, threads: threads, peer: runPeer) }
if runCLIP { rows += try clipRows(repeats: max(1, repeats / 2), threads: threads, peer: runPeer) }
if runLoRA { rows += try loraRows(repeats: max(2, repeats / 2), threads: threads, peer: runPeer) }
if let biomedCLIPDirectory { rows += try biomedCLIPRows(directory: biomedCLIPDirectory, repeats: max(3, repeats / 2), threads: threads, peer: runPeer) }

func fmt(_ v: Double?) -> String { v.map { String(format: "%10.2f", $0) } ?? "         –" }
print("\("name".padding(toLength: 28, withPad: " ", startingAt: 0)) unit      fairmed    pytorch      ratio")
for r in rows {
  print("\(r.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(r.unit.padding(toLength: 8, withPad: " ", startingAt: 0))\(fmt(r.fairmed)) \(fmt(r.peer)) \(fmt(r.ratio))")
}
if let jsonPath {
  let enc = JSONEncoder()
  enc.outputFormatting = [.prettyPrinted, .sortedKeys]
  try enc.encode(rows).write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
  print("wrote \(jsonPath)")
}
