import Foundation
import Tensor

/// A learning-rate schedule: a pure function of the (0-based) optimiser step.
public enum LRSchedule: Sendable, Equatable, Codable {
  /// The same rate at every step.
  case constant(Float)
  /// Linear warm-up to `peak` over `warmup` steps (step s gets peak·(s+1)/warmup, as open_clip),
  /// then half a cosine from `peak` down to `floor` at `total` steps; `floor` afterwards.
  case warmupCosine(peak: Float, warmup: Int, total: Int, floor: Float = 0)

  /// Learning rate at `step`.
  public func callAsFunction(_ step: Int) -> Float {
    switch self {
    case let .constant(lr):
      return lr
    case let .warmupCosine(peak, warmup, total, floor):
      let s = max(step, 0)
      if s < warmup { return peak * Float(s + 1) / Float(warmup) }
      let span = total - warmup
      guard span > 0, s < total else { return span > 0 ? floor : peak }
      let progress = Double(s - warmup) / Double(span)
      return floor + (peak - floor) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
  }
}

/// Global-norm gradient clipping (`torch.nn.utils.clip_grad_norm_`), without touching the
/// gradients: returns the norm and the factor min(1, maxNorm / (norm + 1e-6)) to pass to
/// ``Optimizer/step(lr:gradScale:)``.
public enum GradientClipping {
  /// L2 norm over all gradients of `parameters` (those without a gradient count as zero).
  public static func globalNorm(_ parameters: [(path: String, tensor: Tensor)]) -> Float {
    var total = 0.0
    for (_, p) in parameters {
      guard let g = p.grad else { continue }
      let gp = g.pointer
      // Float partial sums over short runs, accumulated in Double (big tensors stay accurate).
      var j = 0
      while j < g.count {
        let end = min(j + 4096, g.count)
        var s: Float = 0
        for k in j..<end { s += gp[k] * gp[k] }
        total += Double(s)
        j = end
      }
    }
    return Float(total.squareRoot())
  }

  /// The gradient norm and the scale that brings it down to `maxNorm` (1 when already below).
  public static func scale(_ parameters: [(path: String, tensor: Tensor)], maxNorm: Float)
    -> (norm: Float, scale: Float)
  {
    let norm = globalNorm(parameters)
    return (norm, min(1, maxNorm / (norm + 1e-6)))
  }
}
