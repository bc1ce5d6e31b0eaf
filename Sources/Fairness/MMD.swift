import Foundation
import Support

/// Maximum mean discrepancy between groups of margins (docs/METHOD.md §3), biased V-statistic:
///   MMD²(X, Y) = mean k(x, x') + mean k(y, y') − 2·mean k(x, y),   k(a, b) = exp(−(a − b)² / (2σ²)),
/// with a permutation p-value (1 + #{perm ≥ observed}) / (1 + permutations).
public enum MMD {
  /// MMD² of two samples.
  public static func mmd2(_ x: [Double], _ y: [Double], sigma: Double) -> Double {
    Pooled(x, y, sigma: sigma).statistic(Array(0..<x.count))
  }

  /// MMD² and permutation p-value of two samples (seeded).
  public static func test(_ x: [Double], _ y: [Double], sigma: Double, permutations: Int, seed: UInt64) -> (
    mmd2: Double, pValue: Double
  ) {
    let pooled = Pooled(x, y, sigma: sigma)
    let observed = pooled.statistic(Array(0..<x.count))
    var rng = SeededRandom(seed: seed)
    var order = Array(0..<pooled.n)
    var exceed = 0
    for _ in 0..<permutations {
      for i in 0..<x.count { order.swapAt(i, i + rng.below(pooled.n - i)) }  // a uniform random X of size nx
      if pooled.statistic(Array(order.prefix(x.count))) >= observed - 1e-12 { exceed += 1 }
    }
    return (observed, Double(1 + exceed) / Double(1 + permutations))
  }

  /// The pooled kernel matrix with its row sums: a relabelling only needs Σ_{X×X} K, since
  /// Σ_{X×Y} K = Σ_{i∈X} rowSum_i − Σ_{X×X} K and Σ_{Y×Y} K = total − Σ_{X×X} K − 2 Σ_{X×Y} K.
  struct Pooled {
    let n: Int
    let nx: Int
    let k: [Double]
    let rowSums: [Double]
    let total: Double

    init(_ x: [Double], _ y: [Double], sigma: Double) {
      let v = x + y
      self.n = v.count; nx = x.count
      let c = -1 / (2 * sigma * sigma)
      let n = v.count
      var k = [Double](repeating: 0, count: n * n)
      var sums = [Double](repeating: 0, count: n)
      for i in 0..<n {
        for j in i..<n {
          let d = v[i] - v[j]
          let e = exp(c * d * d)
          k[i * n + j] = e; k[j * n + i] = e
          sums[i] += e
          if j != i { sums[j] += e }
        }
      }
      self.k = k
      rowSums = sums
      total = sums.reduce(0, +)
    }

    /// MMD² (biased) with the rows `xs` as X and the rest as Y.
    func statistic(_ xs: [Int]) -> Double {
      var xx = 0.0, xRows = 0.0
      k.withUnsafeBufferPointer { k in
        xs.withUnsafeBufferPointer { xs in
          for a in 0..<xs.count {
            let row = xs[a] * n
            xRows += rowSums[xs[a]]
            var s = 0.5 * k[row + xs[a]]
            for b in (a + 1)..<max(a + 1, xs.count) { s += k[row + xs[b]] }
            xx += 2 * s
          }
        }
      }
      let xy = xRows - xx
      let yy = total - xx - 2 * xy
      let ny = n - nx
      return xx / Double(nx * nx) + yy / Double(ny * ny) - 2 * xy / Double(nx * ny)
    }
  }

  /// MMD² with p-values for every pair of the listed groups, each subsampled to `maxPerGroup`.
  static func pairs(_ values: [[Double]], among groups: [Int], options: CertaintyOptions) -> [MMDPair] {
    var sample: [Int: [Double]] = [:]
    for g in groups {
      var v = values[g]
      if v.count > options.maxPerGroup {
        var rng = SeededRandom(seed: options.seed, stream: UInt64(1000 + g))
        for i in 0..<options.maxPerGroup { v.swapAt(i, i + rng.below(v.count - i)) }
        v = Array(v.prefix(options.maxPerGroup))
      }
      sample[g] = v
    }
    var jobs: [(Int, Int)] = []
    for (i, a) in groups.enumerated() {
      for b in groups[(i + 1)...] where !values[a].isEmpty && !values[b].isEmpty { jobs.append((a, b)) }
    }
    let pairs = jobs, samples = sample
    return concurrentMap(pairs.count) { j in
      let (a, b) = pairs[j]
      let x = samples[a] ?? [], y = samples[b] ?? []
      let t = test(
        x, y, sigma: options.sigma, permutations: options.permutations, seed: options.seed &+ UInt64(a * 7919 + b))
      return MMDPair(a: a, b: b, mmd2: t.mmd2, pValue: t.pValue, sizes: (x.count, y.count))
    }
  }
}
