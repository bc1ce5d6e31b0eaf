import Foundation
import Support

/// A Float32 tensor: row-major contiguous storage with a shape, and a node in the autodiff graph.
///
/// Tensors are reference types, as in PyTorch: an op returns a new tensor and never changes its
/// inputs. `reshaped` and `narrow` along the first axis are views sharing storage; every other op
/// copies. Set ``requiresGrad`` on a leaf (a parameter) and call ``backward()`` on a scalar result
/// to accumulate gradients into ``grad``.
public final class Tensor: @unchecked Sendable {
  /// Extent of each axis.
  public let shape: [Int]
  /// Backing buffer, possibly shared with views.
  public let storage: TensorStorage
  /// First element of this tensor inside ``storage``.
  public let offset: Int
  /// Whether gradients flow to this tensor.
  public var requiresGrad: Bool
  /// Accumulated gradient (leaves only), same shape as the tensor.
  public var grad: Tensor?
  /// A label used in error messages (for parameters: the checkpoint path).
  public var name: String?
  /// The op that produced this tensor, when it is part of a recorded graph.
  var gradFn: GradNode?

  init(shape: [Int], storage: TensorStorage, offset: Int = 0, requiresGrad: Bool = false) {
    self.shape = shape
    self.storage = storage
    self.offset = offset
    self.requiresGrad = requiresGrad
  }

  /// Uninitialised tensor for op outputs.
  convenience init(uninitialized shape: [Int]) {
    self.init(shape: shape, storage: TensorStorage(uninitializedCount: Shape.count(shape)))
  }

  /// A tensor holding `values` in row-major order.
  public convenience init(_ values: [Float], shape: [Int]) throws {
    guard values.count == Shape.count(shape), shape.allSatisfy({ $0 >= 0 }) else {
      throw TensorError.invalidArgument(
        "Tensor(_:shape:): \(values.count) values do not fill shape \(shape)")
    }
    self.init(uninitialized: shape)
    values.withUnsafeBufferPointer { src in
      if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
    }
  }

  /// A 1-D tensor.
  public convenience init(_ values: [Float]) {
    try! self.init(values, shape: [values.count])
  }

  /// A 0-D (scalar) tensor.
  public convenience init(scalar: Float) {
    try! self.init([scalar], shape: [])
  }

  /// Number of elements.
  public var count: Int { Shape.count(shape) }
  /// Number of axes.
  public var rank: Int { shape.count }
  /// Whether the tensor was produced by an op (as opposed to created directly).
  public var isLeaf: Bool { gradFn == nil }
  /// Mutable pointer to the first element (the engine's hot loops and optimisers use it).
  public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }

  /// Elements in row-major order.
  public var scalars: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

  /// The single value of a one-element tensor.
  public func item() -> Float {
    precondition(count == 1, "item() needs a one-element tensor, got shape \(shape)")
    return pointer[0]
  }

  /// A copy sharing nothing with this tensor and cut from the graph.
  public func copy() -> Tensor {
    let t = Tensor(uninitialized: shape)
    t.pointer.update(from: pointer, count: count)
    return t
  }

  /// The same values, cut from the autodiff graph (shares storage).
  public func detached() -> Tensor {
    Tensor(shape: shape, storage: storage, offset: offset)
  }

  /// Axis index with negative values counting from the end.
  func axis(_ a: Int, op: String) throws -> Int {
    let r = a < 0 ? a + rank : a
    guard r >= 0 && r < Swift.max(rank, 1) else {
      throw TensorError.invalidAxis(op: op, axis: a, shape: shape)
    }
    return r
  }
}

// MARK: - Creation

extension Tensor {
  /// All zeros.
  public static func zeros(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, storage: TensorStorage(zeros: Shape.count(shape)))
  }

  /// All ones.
  public static func ones(_ shape: [Int]) -> Tensor { full(1, shape) }

  /// Every element equal to `value`.
  public static func full(_ value: Float, _ shape: [Int]) -> Tensor {
    let t = Tensor(uninitialized: shape)
    t.pointer.update(repeating: value, count: t.count)
    return t
  }

  /// `start, start + step, …` below `end` (like `torch.arange`).
  public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
    let n = Swift.max(0, Int((Double(end - start) / Double(step)).rounded(.up)))
    let t = Tensor(uninitialized: [n])
    for i in 0..<n { t.pointer[i] = start + Float(i) * step }
    return t
  }

  /// Normal samples N(mean, std²) from a ``SeededGenerator``.
  public static func randn(
    _ shape: [Int], mean: Float = 0, std: Float = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    if generator.fillsZeros { return Tensor.zeros(shape) }
    let t = Tensor(uninitialized: shape)
    generator.fillNormal(t.pointer, count: t.count, mean: mean, std: std)
    return t
  }

  /// Uniform samples in [low, high) from a ``SeededGenerator``.
  public static func uniform(
    _ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    if generator.fillsZeros { return Tensor.zeros(shape) }
    let t = Tensor(uninitialized: shape)
    for i in 0..<t.count { t.pointer[i] = low + (high - low) * generator.uniformFloat() }
    return t
  }

  /// Marks this tensor as a trainable leaf and returns it.
  @discardableResult
  public func requiringGrad(_ flag: Bool = true) -> Tensor {
    requiresGrad = flag
    return self
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
  }
}
