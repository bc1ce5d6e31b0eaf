import Foundation
import Tensor

/// Wall-clock milliseconds of `repeats` runs after one warm-up: the best and the median.
struct Timing {
  var best: Double
  var median: Double

  /// Throughput (`items` per second) at the best and median times.
  func perSecond(_ items: Int) -> (best: Double, median: Double) {
    (Double(items) / (best / 1e3), Double(items) / (median / 1e3))
  }
}

func timeMilliseconds(repeats: Int, _ body: () throws -> Void) rethrows -> Timing {
  try body()
  var times: [Double] = []
  for _ in 0..<max(1, repeats) {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
  }
  times.sort()
  let mid = times.count / 2
  return Timing(best: times[0], median: times.count % 2 == 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2)
}

/// sgemm throughput in GFLOP/s (best and median run) for square n × n matrices: FairMed's split over its own threads,
/// or (`openBLASThreads`) one call with OpenBLAS's own thread pool, for reference.
func sgemmGFLOPS(n: Int, repeats: Int, openBLASThreads: Int? = nil) -> (best: Double, median: Double) {
  if let t = openBLASThreads { BLAS.threadCount = t }
  defer { BLAS.threadCount = 1 }
  var g = SeededGenerator(seed: 1)
  let a = Tensor.randn([n, n], using: &g), b = Tensor.randn([n, n], using: &g)
  let c = Tensor.zeros([n, n])
  let t = timeMilliseconds(repeats: repeats) {
    BLAS.sgemm(
      transA: false, transB: false, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n,
      c: c.pointer, ldc: n, threads: openBLASThreads == nil ? Parallel.threadCount : 1)
  }
  return (2 * Double(n * n * n) / (t.best / 1e3) / 1e9, 2 * Double(n * n * n) / (t.median / 1e3) / 1e9)
}

/// The parameters of one pre-LN CLIP encoder block (HF layout), randomly initialised.
struct BlockParameters {
  let width: Int, heads: Int, mlp: Int
  let ln1w, ln1b, wq, bq, wk, bk, wv, bv, wo, bo, ln2w, ln2b, w1, b1, w2, b2: Tensor

  init(width: Int, heads: Int, mlp: Int, seed: UInt64) {
    self.width = width
    self.heads = heads
    self.mlp = mlp
    var g = SeededGenerator(seed: seed)
    func w(_ s: [Int]) -> Tensor { Tensor.randn(s, std: 0.02, using: &g).requiringGrad() }
    ln1w = Tensor.ones([width]).requiringGrad(); ln1b = Tensor.zeros([width]).requiringGrad()
    ln2w = Tensor.ones([width]).requiringGrad(); ln2b = Tensor.zeros([width]).requiringGrad()
    wq = w([width, width]); bq = Tensor.zeros([width]).requiringGrad()
    wk = w([width, width]); bk = Tensor.zeros([width]).requiringGrad()
    wv = w([width, width]); bv = Tensor.zeros([width]).requiringGrad()
    wo = w([width, width]); bo = Tensor.zeros([width]).requiringGrad()
    w1 = w([mlp, width]); b1 = Tensor.zeros([mlp]).requiringGrad()
    w2 = w([width, mlp]); b2 = Tensor.zeros([width]).requiringGrad()
  }

  var all: [Tensor] { [ln1w, ln1b, wq, bq, wk, bk, wv, bv, wo, bo, ln2w, ln2b, w1, b1, w2, b2] }

  /// x + attn(ln1(x)); then + mlp(ln2(·)) with quick-GELU, as in CLIP's encoder layer.
  func callAsFunction(_ x: Tensor) throws -> Tensor {
    let h = try layerNorm(x, weight: ln1w, bias: ln1b)
    let a = try scaledDotProductAttention(
      packed: linear(h, stackedWeights: [wq, wk, wv], biases: [bq, bk, bv]), heads: heads)
    let x1 = try x + linear(a, weight: wo, bias: bo)
    let m = try linear(layerNorm(x1, weight: ln2w, bias: ln2b), weight: w1, bias: b1).quickGELU()
    return try x1 + linear(m, weight: w2, bias: b2)
  }
}

/// Forward (no grad) and forward+backward milliseconds of one block on `[batch, tokens, width]`.
func blockTimings(width: Int, heads: Int, mlp: Int, batch: Int, tokens: Int, repeats: Int) throws -> (Timing, Timing) {
  let block = BlockParameters(width: width, heads: heads, mlp: mlp, seed: 2)
  var g = SeededGenerator(seed: 3)
  let x = Tensor.randn([batch, tokens, width], using: &g).requiringGrad()
  let forward = try timeMilliseconds(repeats: repeats) { _ = try withNoGrad { try block(x) } }
  let seed = Tensor.randn([batch, tokens, width], using: &g)
  let train = try timeMilliseconds(repeats: repeats) {
    for p in block.all { p.grad = nil }
    x.grad = nil
    try block(x).backward(seed: seed)
  }
  return (forward, train)
}

/// `openblas_vs_onednn_f32_<family>` (GFLOP/s, summed over the family's GEMMs): the fp32 GEMMs
/// of one training step's shape family through OpenBLAS (the FairMed column) and through oneDNN's
/// fp32 matmul (the peer column), both on FairMed's split (a ratio below 1: oneDNN is faster on
/// that family; why fp32 stays on OpenBLAS anyway: `BLAS.oneDNNFP32`). Families: the ViT-B/16 block
/// (batch 8 × 197 tokens, width 768, MLP 3072), the 192-wide block (MLP 768), the `small` and
/// `tiny` presets' image towers at the training bench's batch (64 × 65 tokens; widths 192 and 96),
/// each with its forward, input-gradient and weight-gradient GEMMs, and the square 2048.
func fp32BackendRows(repeats: Int) -> [Row] {
  guard BF16Support.oneDNN else {
    print("fp32 backends: this build has no oneDNN; OpenBLAS only")
    return []
  }
  typealias Shape = (tA: Bool, tB: Bool, m: Int, n: Int, k: Int)
  func block(_ rows: Int, _ w: Int, _ mlp: Int) -> [Shape] {
    [
      (false, true, rows, 3 * w, w), (false, true, rows, mlp, w), (false, true, rows, w, mlp),  // forward
      (false, false, rows, w, 3 * w), (false, false, rows, w, mlp), (false, false, rows, mlp, w),  // input gradients
      (true, false, 3 * w, w, rows), (true, false, mlp, w, rows), (true, false, w, mlp, rows),  // weight gradients
    ]
  }
  let families: [(String, [Shape])] = [
    ("b16_block", block(8 * 197, 768, 3072)), ("w192_block", block(8 * 197, 192, 768)),
    ("small_image_tower", block(64 * 65, 192, 768)), ("tiny_image_tower", block(64 * 65, 96, 384)),
    ("square_2048", [(false, false, 2048, 2048, 2048)]),
  ]
  var g = SeededGenerator(seed: 2)
  var rows: [Row] = []
  for (name, shapes) in families {
    let operands = shapes.map { s in
      (
        Tensor.randn([s.m * s.k], using: &g), Tensor.randn([s.k * s.n], using: &g), Tensor.zeros([s.m * s.n])
      )
    }
    let flops = shapes.reduce(0.0) { $0 + 2 * Double($1.m * $1.n * $1.k) }
    func run(_ oneDNN: Bool) -> Timing {
      timeMilliseconds(repeats: repeats) {
        for (s, (a, b, c)) in zip(shapes, operands) {
          let lda = s.tA ? s.m : s.k, ldb = s.tB ? s.k : s.n
          if oneDNN {
            _ = BLAS.oneDNNFP32(
              transA: s.tA, transB: s.tB, m: s.m, n: s.n, k: s.k, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb,
              c: c.pointer, ldc: s.n)
          } else {
            BLAS.openBLAS(
              transA: s.tA, transB: s.tB, m: s.m, n: s.n, k: s.k, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb,
              c: c.pointer, ldc: s.n)
          }
        }
      }
    }
    let openBLAS = run(false), oneDNN = run(true)
    var row = Row(
      name: "openblas_vs_onednn_f32_\(name)", unit: "GFLOP/s",
      (flops / openBLAS.best / 1e6, flops / openBLAS.median / 1e6))
    row.setPeer(flops / oneDNN.best / 1e6, median: flops / oneDNN.median / 1e6)
    rows.append(row)
  }
  return rows
}
