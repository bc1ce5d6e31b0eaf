import Foundation
import Tensor

/// Entropic optimal transport between two 1-D point clouds with uniform weights, in the log
/// domain, with the cost C(x, y) = |x − y|²/2 and ε = blur² (the conventions of geomloss's
/// `SamplesLoss("sinkhorn", p=2, blur=…)`). The debiased Sinkhorn divergence
/// S = OT_ε(α, β) − ½OT_ε(α, α) − ½OT_ε(β, β) is the default.
///
/// Gradients follow the envelope theorem: ∂OT/∂xᵢ = Σⱼ πᵢⱼ (xᵢ − yⱼ) with the converged plan π.
public struct Sinkhorn: Sendable, Codable, Equatable {
  public var blur: Float = 0.05
  public var debiased = true
  /// Sinkhorn sweeps at the final ε (after ε-scaling).
  public var maxIterations = 500
  public var tolerance = 1e-9

  public init(blur: Float = 0.05, debiased: Bool = true, maxIterations: Int = 500) {
    self.blur = blur
    self.debiased = debiased
    self.maxIterations = maxIterations
  }

  /// The divergence between the values of `x` `[n]` and `y` `[m]` (differentiable in both).
  public func divergence(_ x: Tensor, _ y: Tensor) throws -> Tensor {
    guard x.rank == 1, y.rank == 1, x.count > 0, y.count > 0 else {
      throw TensorError.invalidArgument("Sinkhorn: needs two non-empty 1-D tensors, got \(x.shape) and \(y.shape)")
    }
    let xs = x.scalars.map(Double.init), ys = y.scalars.map(Double.init)
    let eps = Double(blur) * Double(blur)
    let ab = solve(xs, ys, eps)
    var value = ab.cost
    var gx = ab.gradX, gy = ab.gradY
    if debiased {
      let aa = solve(xs, xs, eps), bb = solve(ys, ys, eps)
      value -= 0.5 * (aa.cost + bb.cost)
      // OT(α, α) depends on x through both arguments: ½·(gradX + gradY) = gradX by symmetry.
      for i in gx.indices { gx[i] -= 0.5 * (aa.gradX[i] + aa.gradY[i]) }
      for j in gy.indices { gy[j] -= 0.5 * (bb.gradX[j] + bb.gradY[j]) }
    }
    let out = Tensor(scalar: Float(value))
    return Tensor.customOp(out, name: "sinkhorn", inputs: [x, y]) { [gx, gy] g in
      let s = g.item()
      return [Tensor(gx.map { Float($0) * s }), Tensor(gy.map { Float($0) * s })]
    }
  }

  struct Solution { let cost: Double; let gradX: [Double]; let gradY: [Double] }

  /// Dual potentials by symmetric log-domain Sinkhorn with ε-scaling, then the dual cost
  /// ⟨α, f⟩ + ⟨β, g⟩ and the envelope gradients.
  func solve(_ x: [Double], _ y: [Double], _ eps: Double) -> Solution {
    let n = x.count, m = y.count
    let la = -Foundation.log(Double(n)), lb = -Foundation.log(Double(m))
    var c = [Double](repeating: 0, count: n * m)
    for i in 0..<n { for j in 0..<m { c[i * m + j] = 0.5 * (x[i] - y[j]) * (x[i] - y[j]) } }
    // softmin_ε over k of (C − h_k) with uniform log-weights lw: −ε log Σ_k exp(lw + (h_k − C_rk)/ε),
    // stabilised by its largest term; f takes it over j (weights β), g over i (weights α).
    func softmin(_ rows: Int, _ columns: Int, _ lw: Double, _ h: [Double], _ e: Double, _ cost: (Int, Int) -> Double)
      -> [Double]
    {
      (0..<rows).map { r in
        var mx = -Double.infinity
        for k in 0..<columns { mx = Swift.max(mx, lw + (h[k] - cost(r, k)) / e) }
        var s = 0.0
        for k in 0..<columns { s += Foundation.exp(lw + (h[k] - cost(r, k)) / e - mx) }
        return -e * (mx + Foundation.log(s))
      }
    }
    func updateF(_ g: [Double], _ e: Double) -> [Double] { softmin(n, m, lb, g, e) { i, j in c[i * m + j] } }
    func updateG(_ f: [Double], _ e: Double) -> [Double] { softmin(m, n, la, f, e) { j, i in c[i * m + j] } }
    let diameter = Swift.max(1e-12, (x + y).max()! - (x + y).min()!)
    var e = Swift.max(eps, 0.5 * diameter * diameter)
    var f = [Double](repeating: 0, count: n), g = [Double](repeating: 0, count: m)
    // ε-scaling: halve ε until the target, a few symmetric sweeps each.
    while true {
      for _ in 0..<4 {
        let f2 = updateF(g, e), g2 = updateG(f, e)
        f = zip(f, f2).map { 0.5 * ($0 + $1) }
        g = zip(g, g2).map { 0.5 * ($0 + $1) }
      }
      if e <= eps { break }
      e = Swift.max(eps, e * 0.25)
    }
    for _ in 0..<maxIterations {
      let f2 = updateF(g, eps), g2 = updateG(f, eps)
      let change = Swift.max(zip(f, f2).map { abs($0 - $1) }.max()!, zip(g, g2).map { abs($0 - $1) }.max()!)
      f = zip(f, f2).map { 0.5 * ($0 + $1) }
      g = zip(g, g2).map { 0.5 * ($0 + $1) }
      if change < tolerance { break }
    }
    // Final half-steps give a consistent pair for the plan.
    f = updateF(g, eps)
    g = updateG(f, eps)
    let cost = f.reduce(0, +) / Double(n) + g.reduce(0, +) / Double(m)
    var gradX = [Double](repeating: 0, count: n), gradY = [Double](repeating: 0, count: m)
    for i in 0..<n {
      for j in 0..<m {
        let p = Foundation.exp(la + lb + (f[i] + g[j] - c[i * m + j]) / eps)
        gradX[i] += p * (x[i] - y[j])
        gradY[j] += p * (y[j] - x[i])
      }
    }
    return Solution(cost: cost, gradX: gradX, gradY: gradY)
  }
}
