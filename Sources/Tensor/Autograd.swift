import Foundation

/// Whether ops record the autodiff graph. Disabled inside ``withNoGrad(_:)`` and while
/// gradients are being computed. The setting is per thread, so concurrent work (tests, loaders)
/// never switches recording off for another thread.
public enum GradMode {
  private static let key: pthread_key_t = {
    var k = pthread_key_t()
    pthread_key_create(&k, nil)
    return k
  }()

  /// Nesting depth of no-grad scopes on the current thread.
  static var disabledDepth: Int {
    get { Int(bitPattern: pthread_getspecific(key)) }
    set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
  }

  /// True when new ops record their backward rule on this thread.
  public static var isEnabled: Bool { disabledDepth == 0 }
}

/// Runs `body` without recording the graph (inference, metric computation, optimiser steps).
@discardableResult
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
  GradMode.disabledDepth += 1
  defer { GradMode.disabledDepth -= 1 }
  return try body()
}

/// One recorded op: its inputs and the rule mapping the output's gradient to theirs.
final class GradNode {
  let op: String
  let inputs: [Tensor]
  /// Gradient of each input (nil when the input needs none), given the output's gradient.
  let backward: (Tensor) throws -> [Tensor?]

  init(op: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
    self.op = op
    self.inputs = inputs
    self.backward = backward
  }
}

extension Tensor {
  /// Wraps an op's freshly computed output, recording the backward rule when any input needs it.
  static func record(
    _ out: Tensor, op: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
      out.requiresGrad = true
      out.gradFn = GradNode(op: op, inputs: inputs, backward: backward)
    }
    return out
  }

  /// Makes `output` (computed outside the graph) the result of a custom differentiable op:
  /// `backward` maps the output's gradient to one gradient per input (nil where none is needed).
  /// The backward rule runs with recording disabled, so it may use any op.
  public static func customOp(
    _ output: Tensor, name: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    record(output, op: name, inputs: inputs, backward: backward)
  }

  /// Reverse-mode differentiation from this one-element tensor: adds d(self)/d(leaf) to the
  /// ``grad`` of every leaf that requires it, then frees the graph (unless `retainGraph`).
  public func backward(retainGraph: Bool = false) throws {
    guard count == 1 else { throw TensorError.notScalar(shape: shape) }
    try backward(seed: Tensor.ones(shape), retainGraph: retainGraph)
  }

  /// Reverse-mode differentiation with an explicit output gradient `seed` (same shape as self).
  public func backward(seed: Tensor, retainGraph: Bool = false) throws {
    guard seed.shape == shape else {
      throw TensorError.shapeMismatch(op: "backward(seed:)", lhs: shape, rhs: seed.shape)
    }
    guard requiresGrad else { return }
    // Topological order by iterative post-order DFS (graphs can be thousands of ops deep).
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Int)] = [(self, 0)]
    visited.insert(ObjectIdentifier(self))
    while let (t, next) = stack.popLast() {
      let inputs = t.gradFn?.inputs ?? []
      if next < inputs.count {
        stack.append((t, next + 1))
        let child = inputs[next]
        if child.requiresGrad && visited.insert(ObjectIdentifier(child)).inserted {
          stack.append((child, 0))
        }
      } else {
        order.append(t)
      }
    }
    try withNoGrad {
      var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
      for t in order.reversed() {
        guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
        guard let node = t.gradFn else {
          t.grad = try t.grad.map { try $0 + g } ?? g
          continue
        }
        let inputGrads = try node.backward(g)
        for (input, ig) in zip(node.inputs, inputGrads) {
          guard input.requiresGrad, let ig else { continue }
          let key = ObjectIdentifier(input)
          grads[key] = try grads[key].map { try $0 + ig } ?? ig
        }
        if !retainGraph { t.gradFn = nil }
      }
    }
  }
}
