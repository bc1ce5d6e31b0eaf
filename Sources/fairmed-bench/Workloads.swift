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
