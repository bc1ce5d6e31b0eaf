import Foundation

/// Maximum mean discrepancy between groups of margins (METHOD.md §3), biased V-statistic:
///   MMD²(X, Y) = mean k(x, x') + mean k(y, y') − 2·mean k(x, y),   k(a, b) = exp(−(a − b)² / (2σ²)),
/// with a permutation p-value (1 + #{perm ≥ observed}) / (1 + permutations).
public enum MMD {
  /// MMD² of two samples.
  public static func mmd2(_ x: [Double], _ y: [Double], sigma: Double) -> Double {
    let pooled = x + y
    let labels = [Bool](repeating: true, count: x.count) + [Bool](repeating: false, count: y.count)
    return statistic(kernel(pooled, sigma: sigma), n: pooled.count, inX: labels, nx: x.count)
  }

  /// MMD² and permutation p-value of two samples (seeded).
  public static func test(_ x: [Double], _ y: [Double], sigma: Double, permutations: Int, seed: UInt64) -> (mmd2: Double, pValue: Double) {
    let pooled = x + y
    let n = pooled.count
    let k = kernel(pooled, sigma: sigma)
    var inX = [Bool](repeating: true, count: x.count) + [Bool](repeating: false, count: y.count)
    let observed = statistic(k, n: n, inX: inX, nx: x.count)
    var rng = SeededRandom(seed: seed)
    var exceed = 0
    for _ in 0..<permutations {
      for i in stride(from: n - 1, to: 0, by: -1) { inX.swapAt(i, rng.below(i + 1)) }  // Fisher–Yates
      if statistic(k, n: n, inX: inX, nx: x.count) >= observed - 1e-12 { exceed += 1 }
    }
    return (observed, Double(1 + exceed) / Double(1 + permutations))
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
    for (i, a) in groups.enumerated() { for b in groups[(i + 1)...] where !values[a].isEmpty && !values[b].isEmpty { jobs.append((a, b)) } }
    var results = [MMDPair?](repeating: nil, count: jobs.count)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: jobs.count) { j in
      let (a, b) = jobs[j]
      let t = test(sample[a]!, sample[b]!, sigma: options.sigma, permutations: options.permutations,
                   seed: options.seed &+ UInt64(a * 7919 + b))
      lock.lock(); results[j] = MMDPair(a: a, b: b, mmd2: t.mmd2, pValue: t.pValue, sizes: (sample[a]!.count, sample[b]!.count)); lock.unlock()
    }
    return results.compactMap { $0 }
  }

  static func kernel(_ v: [Double], sigma: Double) -> [Double] {
    let n = v.count
    let c = -1 / (2 * sigma * sigma)
    var k = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in i..<n {
        let d = v[i] - v[j]
        let e = exp(c * d * d)
        k[i * n + j] = e; k[j * n + i] = e
      }
    }
    return k
  }

  static func statistic(_ k: [Double], n: Int, inX: [Bool], nx: Int) -> Double {
    var xx = 0.0, yy = 0.0, xy = 0.0
    k.withUnsafeBufferPointer { k in
      for i in 0..<n {
        var rx = 0.0, ry = 0.0
        let row = i * n
        for j in 0..<n { if inX[j] { rx += k[row + j] } else { ry += k[row + j] } }
        if inX[i] { xx += rx; xy += ry } else { yy += ry }
      }
    }
    let ny = n - nx
    return xx / Double(nx * nx) + yy / Double(ny * ny) - 2 * xy / Double(nx * ny)
  }
}
