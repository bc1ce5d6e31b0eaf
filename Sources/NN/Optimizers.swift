import Support
import Foundation
import Tensor

/// An optimiser updating parameter buffers in place from their gradients.
///
/// `gradScale` multiplies every gradient as it is read (global-norm clipping passes its scale
/// here), so gradients are never modified: they may share storage with each other.
public protocol Optimizer: AnyObject {
  /// Parameters being optimised, by checkpoint path.
  var parameters: [(path: String, tensor: Tensor)] { get }
  /// Steps taken so far.
  var stepCount: Int { get }
  /// One update with learning rate `lr`; parameters without a gradient are skipped.
  func step(lr: Float, gradScale: Float)
  /// Internal state (moments, step count) as named tensors, for checkpoints.
  func stateDict() -> [(String, Tensor)]
  /// Restores ``stateDict()`` output; throws if names or shapes do not match.
  func loadStateDict(_ state: [String: Tensor]) throws
}

extension Optimizer {
  public func step(lr: Float) { step(lr: lr, gradScale: 1) }

  /// Clears every optimised parameter's gradient.
  public func zeroGrad() { for p in parameters { p.tensor.grad = nil } }
}

/// Default weight-decay rule (as open_clip and HF trainers do): no decay on biases, norm
/// layers, embeddings (token, position, class) and `logit_scale`. The patch embedding is a
/// convolution projection and is decayed.
public func defaultDecays(_ path: String) -> Bool {
  let parts = path.split(separator: ".").map(String.init)
  guard let last = parts.last else { return true }
  if last == "bias" || last == "logit_scale" || last.hasPrefix("ln_") { return false }
  for p in parts {
    if p.contains("norm") || p.hasPrefix("ln_") || p == "ln_final" { return false }
    if p.hasSuffix("embedding") && p != "patch_embedding" { return false }
  }
  return true
}

/// State-dict helpers shared by the optimisers.
enum OptimizerState {
  static func restore(
    _ state: [String: Tensor], names: [(String, Tensor)], optimizer: String
  ) throws {
    var problems: [String] = []
    for (name, buf) in names {
      guard let src = state[name] else { problems.append("missing \(name)"); continue }
      guard src.shape == buf.shape else {
        problems.append("\(name): expected \(buf.shape), found \(src.shape)")
        continue
      }
    }
    guard problems.isEmpty else {
      throw TensorError.invalidArgument("\(optimizer) state does not match: " + problems.joined(separator: "; "))
    }
    for (name, buf) in names { buf.pointer.update(from: state[name]!.pointer, count: buf.count) }
  }
}

/// AdamW (Loshchilov & Hutter) exactly as `torch.optim.AdamW`: decoupled weight decay
/// `p ← p·(1 − lr·wd)`, then the bias-corrected Adam step `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`.
/// One step count t serves all parameters (torch counts per parameter; they differ only for a
/// parameter that has no gradient on some steps).
public final class AdamW: Optimizer {
  public let parameters: [(path: String, tensor: Tensor)]
  public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
  /// Whether each parameter is decayed (decided by path).
  public let decays: [Bool]
  public private(set) var stepCount = 0
  private let m: [Tensor], v: [Tensor]

  public init(
    parameters: [(path: String, tensor: Tensor)], beta1: Float = 0.9, beta2: Float = 0.999,
    eps: Float = 1e-8, weightDecay: Float = 0.01, decays: (String) -> Bool = defaultDecays
  ) {
    self.parameters = parameters
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
    self.decays = parameters.map { decays($0.path) }
    m = parameters.map { Tensor.zeros($0.tensor.shape) }
    v = parameters.map { Tensor.zeros($0.tensor.shape) }
  }

  public func step(lr: Float, gradScale: Float) {
    stepCount += 1
    let t = Double(stepCount)
    let bc1 = 1 - pow(Double(beta1), t), bc2 = 1 - pow(Double(beta2), t)
    let stepSize = Float(Double(lr) / bc1)
    let invSqrtBc2 = Float(1 / bc2.squareRoot())
    let b1 = beta1, b2 = beta2, eps = eps
    for (i, (_, p)) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      precondition(
        g.count == p.count, "AdamW: gradient of \(parameters[i].path) has shape \(g.shape), parameter \(p.shape)")
      // Each worker updates its own range of the parameter and its moments.
      let writes = (DisjointWrites(p.pointer), DisjointWrites(m[i].pointer), DisjointWrites(v[i].pointer)),
        gp = SharedReads(g.pointer)
      let decay: Float = decays[i] ? 1 - lr * weightDecay : 1
      Parallel.forRange(p.count) { r in
        let (pp, mp, vp) = (writes.0.base, writes.1.base, writes.2.base), gp = gp.base
        for j in r {
          let gj = gp[j] * gradScale
          let mj = b1 * mp[j] + (1 - b1) * gj
          let vj = b2 * vp[j] + (1 - b2) * gj * gj
          mp[j] = mj
          vp[j] = vj
          pp[j] = pp[j] * decay - stepSize * mj / (vj.squareRoot() * invSqrtBc2 + eps)
        }
      }
    }
  }

  public func stateDict() -> [(String, Tensor)] {
    var out: [(String, Tensor)] = [("step", Tensor([Float(stepCount)]))]
    for (i, p) in parameters.enumerated() {
      out.append(("exp_avg." + p.path, m[i]))
      out.append(("exp_avg_sq." + p.path, v[i]))
    }
    return out
  }

  public func loadStateDict(_ state: [String: Tensor]) throws {
    guard let s = state["step"], s.count == 1 else {
      throw TensorError.invalidArgument("AdamW state has no scalar 'step'")
    }
    let names = parameters.enumerated().flatMap { i, p in
      [("exp_avg." + p.path, m[i]), ("exp_avg_sq." + p.path, v[i])]
    }
    try OptimizerState.restore(state, names: names, optimizer: "AdamW")
    stepCount = Int(s.item())
  }
}

/// SGD with momentum as `torch.optim.SGD`: `g ← g + wd·p`, `b ← μ·b + (1−dampening)·g`
/// (b = g on the first step), then `p ← p − lr·b` (or `p ← p − lr·(g + μ·b)` with Nesterov).
public final class SGD: Optimizer {
  public let parameters: [(path: String, tensor: Tensor)]
  public var momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
  public private(set) var stepCount = 0
  private let buffers: [Tensor]
  /// Whether each momentum buffer holds a value yet (torch starts it at the first gradient).
  private var started: [Bool]

  public init(
    parameters: [(path: String, tensor: Tensor)], momentum: Float = 0.9, dampening: Float = 0,
    weightDecay: Float = 0, nesterov: Bool = false
  ) {
    self.parameters = parameters
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    buffers = parameters.map { Tensor.zeros($0.tensor.shape) }
    started = parameters.map { _ in false }
  }

  public func step(lr: Float, gradScale: Float) {
    stepCount += 1
    let mu = momentum, damp = dampening, wd = weightDecay, nest = nesterov
    for (i, (_, p)) in parameters.enumerated() {
      guard let g = p.grad else { continue }
      precondition(g.count == p.count, "SGD: gradient shape \(g.shape) does not match parameter \(p.shape)")
      let pp = p.pointer, gp = g.pointer, bp = buffers[i].pointer
      let first = !started[i]
      started[i] = true
      for j in 0..<p.count {
        var gj = gp[j] * gradScale + wd * pp[j]
        if mu != 0 {
          let b = first ? gj : mu * bp[j] + (1 - damp) * gj
          bp[j] = b
          gj = nest ? gj + mu * b : b
        }
        pp[j] -= lr * gj
      }
    }
  }

  public func stateDict() -> [(String, Tensor)] {
    [("step", Tensor([Float(stepCount)]))]
      + parameters.enumerated().map { ("momentum_buffer." + $1.path, buffers[$0]) }
  }

  public func loadStateDict(_ state: [String: Tensor]) throws {
    guard let s = state["step"], s.count == 1 else {
      throw TensorError.invalidArgument("SGD state has no scalar 'step'")
    }
    let names = parameters.enumerated().map { ("momentum_buffer." + $1.path, buffers[$0]) }
    try OptimizerState.restore(state, names: names, optimizer: "SGD")
    stepCount = Int(s.item())
    started = parameters.map { _ in stepCount > 0 }
  }
}
