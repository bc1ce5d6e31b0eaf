import Foundation
import Tensor

/// Low-rank adaptation settings (PEFT's `LoraConfig`): rank r, alpha, dropout on the adapter's
/// input, and the Linear layers adapted, named as PEFT matches them (a module whose path equals
/// a target or ends with `.` + target).
public struct LoRAConfig: Sendable, Equatable, Codable {
  public var rank: Int
  public var alpha: Float
  public var dropout: Float
  public var targets: [String]
  /// rsLoRA scaling alpha/√r instead of alpha/r.
  public var rankStabilized = false

  /// `alpha` defaults to the rank (scaling 1).
  public init(rank: Int, alpha: Float? = nil, dropout: Float = 0, targets: [String], rankStabilized: Bool = false) {
    self.rank = rank
    self.alpha = alpha ?? Float(rank)
    self.dropout = dropout
    self.targets = targets
    self.rankStabilized = rankStabilized
  }

  /// The factor on B·A: alpha / r (alpha / √r with rsLoRA).
  public var scaling: Float { rankStabilized ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

  /// Whether the module at `path` is a target.
  public func matches(_ path: String) -> Bool {
    targets.contains { path == $0 || path.hasSuffix("." + $0) }
  }
}

/// The adapter of one Linear layer: `lora_A` `[r, in]` (PEFT's default init, U(±1/√in)),
/// `lora_B` `[out, r]` (zeros, so training starts from the base model), the scaling, and the
/// dropout on its input (off until `setTraining(true)`). Its members are listed under the Linear
/// layer that holds it (``Flattened``).
public final class LoRAAdapter {
  @Child("lora_A") public private(set) var a: Linear
  @Child("lora_B") public private(set) var b: Linear
  public let scaling: Float
  @Child("lora_dropout") public private(set) var dropout: Dropout? = nil

  init(inFeatures: Int, outFeatures: Int, config: LoRAConfig, seed: UInt64, using g: inout SeededGenerator) {
    scaling = config.scaling
    a = Linear(inFeatures, config.rank, bias: false, using: &g)
    b = Linear(config.rank, outFeatures, bias: false, std: 0, using: &g)
    b.weight.pointer.update(repeating: 0, count: b.weight.count)
    dropout = config.dropout > 0 ? Dropout(p: config.dropout, seed: seed) : nil
    dropout?.isTraining = false  // inference until a trainer switches training mode on
  }
}

/// Why adapters could not be attached or loaded.
public struct LoRAError: Error, CustomStringConvertible, Equatable {
  public let problem: String
  public init(_ problem: String) { self.problem = problem }
  public var description: String { "LoRA: \(problem)" }
}

extension Module {
  /// Linear layers that carry a LoRA adapter, with their paths.
  public func loraLayers() -> [(path: String, linear: Linear)] {
    namedModules().compactMap { path, m in (m as? Linear).flatMap { $0.lora == nil ? nil : (path, $0) } }
  }

  /// Attaches adapters to every Linear layer whose path matches `config` (and starts with one of
  /// `within`, when given), freezes every other parameter and leaves only the adapters trainable.
  /// Returns the adapted paths; throws when nothing matches, naming the Linear layers there are.
  @discardableResult
  public func attachLoRA(_ config: LoRAConfig, within prefixes: [String]? = nil, seed: UInt64) throws -> [String] {
    guard config.rank > 0 else { throw LoRAError("rank must be positive, got \(config.rank) (--lora)") }
    let linears = namedModules().compactMap { path, m in (m as? Linear).map { (path, $0) } }
      .filter { path, _ in !path.contains(".lora_") && (prefixes?.contains { pathHasPrefix(path, $0) } ?? true) }
    let chosen = linears.filter { config.matches($0.0) }
    guard !chosen.isEmpty else {
      let names = Set(linears.map { String($0.0.split(separator: ".").last ?? "") }).sorted()
      throw LoRAError(
        "no Linear layer matches --lora-targets \(config.targets.joined(separator: ",")) (this model's are: \(names.joined(separator: ", ")))"
      )
    }
    if let bad = chosen.first(where: { $0.1.lora != nil }) { throw LoRAError("\(bad.0) already has an adapter") }
    _ = freeze()
    var g = SeededGenerator(seed: seed)
    for (i, (_, linear)) in chosen.enumerated() {
      let shape = linear.weight.shape
      let adapter = LoRAAdapter(
        inFeatures: shape[1], outFeatures: shape[0], config: config, seed: seed &+ UInt64(i) &+ 1, using: &g)
      adapter.a.weight.requiresGrad = true
      adapter.b.weight.requiresGrad = true
      linear.lora = adapter
    }
    return chosen.map(\.0)
  }

  /// The adapters' tensors under their model paths (`….q_proj.lora_A.weight`).
  public func loraStateDict() -> [(String, Tensor)] {
    namedParameters().filter { $0.path.contains(".lora_A.") || $0.path.contains(".lora_B.") }.map {
      ($0.path, $0.tensor)
    }
  }

  /// Runs `body` with every adapter folded into its base weight (W + scaling·B·A) and hidden from
  /// the parameter tree, then restores the base weights and adapters exactly.
  public func withLoRAMerged<T>(_ body: () throws -> T) throws -> T {
    let layers = loraLayers()
    var saved: [(Linear, [Float], LoRAAdapter)] = []
    for (_, linear) in layers {
      guard let lora = linear.lora else { continue }
      let original = Array(UnsafeBufferPointer(start: linear.weight.pointer, count: linear.weight.count))
      let delta = try withNoGrad { try matmul(lora.b.weight, lora.a.weight) * lora.scaling }
      for i in 0..<linear.weight.count { linear.weight.pointer[i] += delta.pointer[i] }
      linear.lora = nil
      saved.append((linear, original, lora))
    }
    defer {
      for (linear, original, lora) in saved {
        linear.weight.pointer.update(from: original, count: original.count)
        linear.lora = lora
      }
    }
    return try body()
  }
}
