import Fairness
import Foundation
import Tensor

/// **CMAC-MMD** (docs/METHOD.md §3): make the whole distribution of certainty margins equal across
/// the intersectional subgroups of a mini-batch.
///
///     MMD²_b(X, Y) = mean k(x, x′) + mean k(y, y′) − 2·mean k(x, y)     (biased, V-statistic)
///     MMD²_u       uses i ≠ j in the within-group means                  (unbiased)
///     k(a, b)      = exp(−(a − b)² / (2σ²))
///     L_CMAC       = mean over compared pairs (g, h) of MMD²(S_g, S_h)
///     L            = L_CLIP + λ·L_CMAC
public struct CMACMMD: Sendable, Codable, Equatable {
  public enum Estimator: String, Sendable, Codable, CaseIterable { case biased, unbiased }
  public enum Bandwidth: Sendable, Codable, Equatable {
    /// A fixed σ in the units of the margin (default ``CMACMMD/defaultSigma`` cosine units).
    case fixed(Float)
    /// σ = median pairwise |sᵢ − sⱼ| of the detached batch (falls back to ``CMACMMD/defaultSigma`` when 0).
    case median
    /// Mean of kernels with σ·2ᵏ, k = −2…2.
    case multi(Float)
  }
  public enum Comparison: String, Sendable, Codable, CaseIterable {
    /// Every pair of subgroups.
    case pairs
    /// Each subgroup against the whole batch.
    case pooled
    /// Each subgroup against the batch held fixed (stop-gradient): groups are pulled toward the
    /// batch, the batch is not pulled toward them.
    case pooledDetached = "pooled-detached"
    /// Lift-only (FairMed's anti-levelling design): each subgroup is pulled toward the held-fixed
    /// margins of the subgroups whose mean margin is higher; the best-served subgroup is not
    /// compared, so no subgroup is pulled down toward a worse one.
    case lift
  }
  public enum Conditioning: String, Sendable, Codable, CaseIterable {
    case none
    /// Only samples with label 1 (targets ΔTPR directly).
    case positives
    /// Within each true label separately, averaged over labels.
    case perClass = "per-class"
  }

  /// The default kernel σ (`--cmac-sigma`): the audit's default MMD bandwidth,
  /// `CertaintyOptions.defaultSigma` (0.1 cosine units), so both measure margins alike.
  public static let defaultSigma = Float(CertaintyOptions.defaultSigma)

  public var lambda: Float = 1
  public var estimator: Estimator = .biased
  public var bandwidth: Bandwidth = .fixed(CMACMMD.defaultSigma)
  // Defaults from the ablation in docs/results.md (Studies/): with balanced-cells
  // batches, pooled-detached / per-class at λ 1 lifted the worst group on two of three benchmarks
  // (and left the third unchanged) without costing AUC; the paper's pairs / none at λ 0.5 did not.
  public var comparison: Comparison = .pooledDetached
  public var conditioning: Conditioning = .perClass
  /// Groups with fewer samples in the batch (after conditioning) are skipped and counted.
  public var minGroupSize: Int = 2

  /// The defaults above, with any option given here replaced.
  public init(
    lambda: Float? = nil, estimator: Estimator? = nil, bandwidth: Bandwidth? = nil,
    comparison: Comparison? = nil, conditioning: Conditioning? = nil, minGroupSize: Int? = nil
  ) {
    if let lambda { self.lambda = lambda }
    if let estimator { self.estimator = estimator }
    if let bandwidth { self.bandwidth = bandwidth }
    if let comparison { self.comparison = comparison }
    if let conditioning { self.conditioning = conditioning }
    if let minGroupSize { self.minGroupSize = minGroupSize }
  }

  /// The unweighted term L_CMAC and what it compared.
  public struct Output {
    /// L_CMAC (multiply by ``CMACMMD/lambda`` for the loss).
    public let value: Tensor
    /// Distinct (label stratum, group) sets that entered a comparison.
    public let groupsCompared: Int
    /// Groups present in the batch but below the minimum size.
    public let groupsSkipped: Int
    /// Number of MMD² terms averaged.
    public let terms: Int
  }

  /// L_CMAC for margins `margins` `[N]`, subgroup ids `groups` and labels `labels`.
  /// Zero (with `terms == 0`) when fewer than two groups qualify.
  public func term(margins: Tensor, groups: [Int], labels: [Int]) throws -> Output {
    guard margins.rank == 1, margins.count == groups.count, groups.count == labels.count else {
      throw TensorError.invalidArgument(
        "CMAC-MMD: \(margins.shape) margins, \(groups.count) groups, \(labels.count) labels must agree")
    }
    let sigmas = bandwidths(margins)
    let strata: [[Int]]
    switch conditioning {
    case .none: strata = [Array(0..<labels.count)]
    case .positives: strata = [labels.indices.filter { labels[$0] == 1 }]
    case .perClass: strata = Set(labels).sorted().map { y in labels.indices.filter { labels[$0] == y } }
    }
    var total: Tensor? = nil
    var terms = 0, compared = 0, skipped = 0
    for members in strata {
      var byGroup: [Int: [Int]] = [:]
      for i in members { byGroup[groups[i], default: []].append(i) }
      let kept = byGroup.keys.sorted().filter { byGroup[$0]!.count >= minGroupSize }
      skipped += byGroup.count - kept.count
      guard kept.count >= 2 else { continue }
      compared += kept.count
      let sets = try kept.map { try margins.indexSelect(axis: 0, indices: byGroup[$0]!) }
      var pairTerms: [Tensor] = []
      switch comparison {
      case .pairs:
        for a in 0..<sets.count {
          for b in (a + 1)..<sets.count { pairTerms.append(try mmd2(sets[a], sets[b], sigmas)) }
        }
      case .pooled, .pooledDetached:
        let pool = try margins.indexSelect(axis: 0, indices: members)
        let target = comparison == .pooled ? pool : pool.detached()
        for s in sets { pairTerms.append(try mmd2(s, target, sigmas)) }
      case .lift:
        let values = margins.scalars
        let means = kept.map { g in byGroup[g]!.reduce(Float(0)) { $0 + values[$1] } / Float(byGroup[g]!.count) }
        for (a, s) in sets.enumerated() {
          let better = kept.indices.filter { means[$0] > means[a] }.flatMap { byGroup[kept[$0]]! }
          guard !better.isEmpty else { continue }
          pairTerms.append(try mmd2(s, try margins.indexSelect(axis: 0, indices: better).detached(), sigmas))
        }
      }
      for t in pairTerms { total = try total.map { try $0 + t } ?? t }
      terms += pairTerms.count
    }
    let value = try total.map { $0 * (1 / Float(terms)) } ?? (margins * 0).sum()
    return Output(value: value, groupsCompared: compared, groupsSkipped: skipped, terms: terms)
  }

  /// Kernel bandwidths σ for this batch (computed on detached margins).
  func bandwidths(_ margins: Tensor) -> [Float] {
    switch bandwidth {
    case .fixed(let s): return [s]
    case .multi(let s): return (-2...2).map { s * Foundation.pow(2, Float($0)) }
    case .median:
      let v = margins.scalars
      var d: [Float] = []
      for i in 0..<v.count { for j in (i + 1)..<v.count { d.append(abs(v[i] - v[j])) } }
      d.sort()
      let m = d.isEmpty ? 0 : (d.count % 2 == 1 ? d[d.count / 2] : (d[d.count / 2 - 1] + d[d.count / 2]) / 2)
      return [m > 0 ? m : Self.defaultSigma]
    }
  }

  /// k(a, b) averaged over the bandwidths: `[n, m]`.
  func kernel(_ a: Tensor, _ b: Tensor, _ sigmas: [Float]) throws -> Tensor {
    let diff = try a.reshaped([a.count, 1]) - b.reshaped([1, b.count])
    let d2 = diff.pow(2)
    var k: Tensor? = nil
    for s in sigmas {
      let ks = (d2 * (-1 / (2 * s * s))).exp()
      k = try k.map { try $0 + ks } ?? ks
    }
    return k! * (1 / Float(sigmas.count))
  }

  /// MMD²(X, Y) with the configured estimator.
  func mmd2(_ x: Tensor, _ y: Tensor, _ sigmas: [Float]) throws -> Tensor {
    try within(x, sigmas) + within(y, sigmas) - kernel(x, y, sigmas).mean() * 2
  }

  /// Mean of k over pairs inside one set: all pairs (biased) or i ≠ j (unbiased; k(x, x) = 1).
  func within(_ x: Tensor, _ sigmas: [Float]) throws -> Tensor {
    let n = Float(x.count)
    let s = try kernel(x, x, sigmas).sum()
    switch estimator {
    case .biased: return s * (1 / (n * n))
    case .unbiased: return (s - n) * (1 / (n * (n - 1)))
    }
  }
}
