import Foundation

/// Options of the certainty analysis on the margin s (docs/METHOD.md §3, §6).
public struct CertaintyOptions: Sendable, Equatable {
  /// The default bandwidth σ of every Gaussian kernel on certainty margins, in the units of s
  /// (cosine units): the audit's `--mmd-sigma` and training's CMAC-MMD `--cmac-sigma` (Training's
  /// `CMACMMD.defaultSigma` is this value), so the audit measures with the kernel training matched.
  public static let defaultSigma = 0.1

  /// Half-width of the uncertainty zone |s| < delta.
  public var delta: Double = 0.05
  /// Gaussian kernel bandwidth of MMD² (in the units of s).
  public var sigma: Double = CertaintyOptions.defaultSigma
  /// Permutations per pair for the MMD² p-value.
  public var permutations: Int = 200
  /// At most this many rows per group (seeded subsample) enter MMD².
  public var maxPerGroup: Int = 300
  /// Points of the KDE grid.
  public var kdePoints: Int = 128
  public var seed: UInt64 = 7
  public init() {}
}

/// The distribution of the margin in one group.
public struct CertaintySummary: Sendable {
  public var n: Int
  public var mean: Double?
  public var sd: Double?
  /// Quantiles at `CertaintyAnalysis.quantileLevels`.
  public var quantiles: [Double]
  /// Share of rows with |s| < delta.
  public var uncertainShare: Double?
  /// Silverman bandwidth used for the KDE (nil when undefined: fewer than two distinct values).
  public var bandwidth: Double?
  /// Density on the shared grid.
  public var density: [Double]
}

/// MMD² between two groups with its permutation p-value.
public struct MMDPair: Sendable {
  public var a: Int
  public var b: Int
  public var mmd2: Double
  public var pValue: Double
  public var sizes: (Int, Int)
}

/// Per-group certainty report.
public struct CertaintyReport: Sendable {
  public var options: CertaintyOptions
  public var grid: [Double]
  public var groups: [CertaintySummary]
  public var overall: CertaintySummary
  public var pairs: [MMDPair]
}

/// Quantiles, Gaussian KDEs (Silverman bandwidth) and uncertainty-zone shares of the margin per group.
public enum CertaintyAnalysis {
  public static let quantileLevels = [0.05, 0.25, 0.5, 0.75, 0.95]

  public static func run(
    margins: [Double], rowGroup: [Int32], groupCount: Int, options: CertaintyOptions,
    eligible: [Int]
  ) -> CertaintyReport {
    var values = [[Double]](repeating: [], count: groupCount)
    for (i, g) in rowGroup.enumerated() where g >= 0 { values[Int(g)].append(margins[i]) }
    for g in values.indices { values[g].sort() }
    let pooled = values.flatMap { $0 }.sorted()
    let lo = pooled.first ?? 0, hi = pooled.last ?? 0
    let pad = max(0.05 * (hi - lo), 1e-3) + (bandwidth(pooled) ?? 0) * 3
    let K = max(2, options.kdePoints)
    let grid = (0..<K).map { lo - pad + (hi - lo + 2 * pad) * Double($0) / Double(K - 1) }
    let groups = values.map { summary($0, grid: grid, delta: options.delta) }
    let pairs = MMD.pairs(values, among: eligible, options: options)
    return CertaintyReport(
      options: options, grid: grid, groups: groups,
      overall: summary(pooled, grid: grid, delta: options.delta), pairs: pairs)
  }

  /// Silverman's rule of thumb: 0.9·min(sd, IQR/1.34)·n^(−1/5) (sd alone when the IQR is 0).
  public static func bandwidth(_ sorted: [Double]) -> Double? {
    let n = sorted.count
    guard n >= 2 else { return nil }
    let mean = sorted.reduce(0, +) / Double(n)
    let sd = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
    let iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25)
    let spread = iqr > 0 ? min(sd, iqr / 1.34) : sd
    guard spread > 0 else { return nil }
    return 0.9 * spread * pow(Double(n), -0.2)
  }

  /// Linear-interpolation quantile of sorted data (NumPy's default).
  public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    Bootstrap.percentile(sorted, q)
  }

  static func summary(_ sorted: [Double], grid: [Double], delta: Double) -> CertaintySummary {
    let n = sorted.count
    guard n > 0 else {
      return CertaintySummary(n: 0, mean: nil, sd: nil, quantiles: [], uncertainShare: nil, bandwidth: nil, density: [])
    }
    let mean = sorted.reduce(0, +) / Double(n)
    let sd = n > 1 ? (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot() : nil
    let share = Double(sorted.filter { abs($0) < delta }.count) / Double(n)
    let h = bandwidth(sorted)
    return CertaintySummary(
      n: n, mean: mean, sd: sd, quantiles: quantileLevels.map { quantile(sorted, $0) },
      uncertainShare: share, bandwidth: h, density: h.map { kde(sorted, grid: grid, h: $0) } ?? [])
  }

  /// Gaussian KDE on `grid`; exact for small samples, linear binning on a fine grid for large ones.
  public static func kde(_ data: [Double], grid: [Double], h: Double) -> [Double] {
    let norm = 1 / (Double(data.count) * h * (2 * Double.pi).squareRoot())
    var points = data.map { ($0, 1.0) }
    // Binned only where the range is a finite number (margins of ±1e308 overflow it: exact then).
    if data.count > 4096, let lo = data.min(), let hi = data.max(), hi > lo, (hi - lo).isFinite {
      let m = 2048
      let step = (hi - lo) / Double(m - 1)
      var w = [Double](repeating: 0, count: m)
      for x in data {
        let t = (x - lo) / step
        let i = min(Int(t), m - 2)
        let f = t - Double(i)
        w[i] += 1 - f; w[i + 1] += f
      }
      points = (0..<m).compactMap { w[$0] > 0 ? (lo + Double($0) * step, w[$0]) : nil }
    }
    return grid.map { x in
      var s = 0.0
      for (c, w) in points {
        let z = (x - c) / h
        if abs(z) < 9 { s += w * exp(-0.5 * z * z) }
      }
      return s * norm
    }
  }
}
