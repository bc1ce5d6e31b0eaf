import Foundation
import Tensor

/// `y = x·Wᵀ + b` with the Hugging Face / PyTorch weight layout `W: [out, in]`, plus
/// `scaling · B·A·dropout(x)` when a LoRA adapter is attached (``LoRAAdapter``).
public final class Linear: Module {
  @Param("weight") public private(set) var weight: Tensor
  @Param("bias") public private(set) var bias: Tensor? = nil
  /// The low-rank adapter, if any: its `lora_A`, `lora_B` (and `lora_dropout`) are listed beside
  /// `weight` and `bias`, as PEFT names them.
  @Flattened public internal(set) var lora: LoRAAdapter? = nil

  /// Weight ~ N(0, std²) when `std` is given, else PyTorch's default U(±1/√in); bias zero.
  public init(
    _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, std: Float? = nil,
    using generator: inout SeededGenerator
  ) {
    if let std {
      weight = Tensor.randn([outFeatures, inFeatures], std: std, using: &generator)
    } else {
      let bound = 1 / Float(max(inFeatures, 1)).squareRoot()
      weight = Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, using: &generator)
    }
    self.bias = bias ? Tensor.zeros([outFeatures]) : nil
    weight.requiresGrad = true
    self.bias?.requiresGrad = true
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let y = try linear(x, weight: weight, bias: bias)
    return try loraDelta(x).map { try y + $0 } ?? y
  }

  /// The adapter's term `scaling · B·A·dropout(x)`, or nil without an adapter.
  public func loraDelta(_ x: Tensor) throws -> Tensor? {
    guard let lora else { return nil }
    return try lora.b(lora.a(lora.dropout.map { try $0(x) } ?? x)) * lora.scaling
  }
}

/// Layer normalisation over the last axis (weight 1, bias 0 at creation).
public final class LayerNorm: Module {
  @Param("weight") public private(set) var weight: Tensor
  @Param("bias") public private(set) var bias: Tensor
  public let eps: Float

  public init(_ dim: Int, eps: Float = 1e-5) {
    self.eps = eps
    weight = Tensor.ones([dim]).requiringGrad()
    bias = Tensor.zeros([dim]).requiringGrad()
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try layerNorm(x, weight: weight, bias: bias, eps: eps) }
}

/// A lookup table `[count, dim]`: ids → rows.
public final class Embedding: Module {
  @Param("weight") public private(set) var weight: Tensor

  public init(_ count: Int, _ dim: Int, std: Float = 1, using generator: inout SeededGenerator) {
    weight = Tensor.randn([count, dim], std: std, using: &generator).requiringGrad()
  }

  /// Rows for `ids` laid out as `shape` (result `shape + [dim]`); ids outside the table throw.
  public func callAsFunction(_ ids: [Int], shape: [Int]) throws -> Tensor {
    if let bad = ids.first(where: { $0 < 0 || $0 >= weight.shape[0] }) {
      throw TensorError.invalidArgument("Embedding: id \(bad) is outside the table of \(weight.shape[0]) rows")
    }
    return try embedding(weight, ids: ids, shape: shape)
  }
}

/// Inverted dropout with its own seeded generator; identity when not training or `p` = 0.
public final class Dropout: Module, TrainingModeSwitchable {
  public let p: Float
  public var isTraining = true
  public var generator: SeededGenerator

  public init(p: Float, seed: UInt64 = 0) {
    self.p = p
    generator = SeededGenerator(seed: seed)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    guard isTraining && p > 0 else { return x }
    return try x.dropout(p: p, using: &generator)
  }
}

/// Activation functions named as in Hugging Face configs (`hidden_act`).
public enum Activation: String, Sendable, CaseIterable, Codable {
  case quickGELU = "quick_gelu"
  case gelu = "gelu"
  /// tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
  case geluNew = "gelu_new"
  case relu = "relu"

  /// Parses a config name, accepting `gelu_pytorch_tanh` as ``geluNew``.
  public init?(configName: String) {
    if configName == "gelu_pytorch_tanh" { self = .geluNew } else { self.init(rawValue: configName) }
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch self {
    case .quickGELU: return x.quickGELU()
    case .gelu: return x.gelu(approximate: false)
    case .geluNew: return x.gelu(approximate: true)
    case .relu: return x.relu()
    }
  }
}
