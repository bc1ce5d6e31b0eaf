import Foundation
import Tensor

/// A layer or model: a tree of named sub-modules whose leaves own parameter tensors.
///
/// Parameter paths join the names with dots and are exactly the checkpoint names
/// (`vision_model.encoder.layers.3.self_attn.q_proj.weight`), so a state dict is just the
/// enumeration of ``namedParameters()``. Parameters are tensors that are updated in place
/// (optimisers, checkpoint loading), so every holder of a reference sees new values.
///
/// A module names its members once, where it declares them, with ``Child``, ``Param`` (and
/// ``Flattened`` for an object whose members count as the module's own):
///
///     public final class MLP: Module {
///       @Child("fc1") public private(set) var fc1: Linear
///       @Child("fc2") public private(set) var fc2: Linear
///     }
///
/// The default ``localParameters`` and ``submodules`` read them off the instance in declaration
/// order, so the order of the declarations is the order of the checkpoint (and of the optimiser
/// state): declare members in the order the checkpoint lists them, whatever order `init` builds
/// them in. A dotted key (`attention.self.query`) nests: the members sharing a first component
/// form one ``ModuleGroup`` (`attention`), listed where its first member is declared, and so on
/// down (`attention.self`); a group's own parameters come before its children, as everywhere.
/// Nil members are skipped. Plain stored properties are not members. A module whose children are
/// not fixed properties (``ModuleList``) implements ``submodules`` itself.
public protocol Module: AnyObject {
  /// This module's own parameters with their local names (`weight`, `bias`).
  var localParameters: [(String, Tensor)] { get }
  /// Direct sub-modules with their local names (`self_attn`, `layers.3` is `layers` → `3`).
  var submodules: [(String, Module)] { get }
}

extension Module {
  /// The ``Param`` members whose keys have no dot, in declaration order.
  public var localParameters: [(String, Tensor)] { MemberLayout.parameters(declaredMembers(of: self)) }
  /// The ``Child`` members whose keys have no dot and the groups of dotted keys, in declaration order.
  public var submodules: [(String, Module)] { MemberLayout.modules(declaredMembers(of: self)) }

  /// Every parameter with its dotted path, depth-first in declaration order.
  public func namedParameters(prefix: String = "") -> [(path: String, tensor: Tensor)] {
    var out: [(path: String, tensor: Tensor)] = []
    for (name, t) in localParameters { out.append((prefix + name, t)) }
    for (name, m) in submodules { out += m.namedParameters(prefix: prefix + name + ".") }
    return out
  }

  /// Every module in the tree (this one first) with its dotted path ("" for the root).
  public func namedModules(prefix: String = "") -> [(path: String, module: Module)] {
    var out: [(path: String, module: Module)] = [(prefix, self)]
    for (name, m) in submodules {
      out += m.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
    }
    return out
  }

  /// The parameter at `path`, if any.
  public func parameter(_ path: String) -> Tensor? {
    namedParameters().first { $0.path == path }?.tensor
  }

  /// Parameters that currently require gradients.
  public func trainableParameters() -> [(path: String, tensor: Tensor)] {
    namedParameters().filter { $0.tensor.requiresGrad }
  }

  /// Total number of scalars in all parameters.
  public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

  /// Number of scalars in parameters that require gradients.
  public var trainableParameterCount: Int { trainableParameters().reduce(0) { $0 + $1.tensor.count } }

  /// Stops gradients for every parameter whose path starts with `prefix` ("" = all); returns how
  /// many parameters matched. A prefix matches whole path components (`layers.1` ≠ `layers.10`).
  @discardableResult
  public func freeze(prefix: String = "") -> Int { setRequiresGrad(false, prefix: prefix) }

  /// Re-enables gradients for every parameter under `prefix` ("" = all); returns the match count.
  @discardableResult
  public func unfreeze(prefix: String = "") -> Int { setRequiresGrad(true, prefix: prefix) }

  private func setRequiresGrad(_ flag: Bool, prefix: String) -> Int {
    var n = 0
    for (path, t) in namedParameters() where pathHasPrefix(path, prefix) {
      t.requiresGrad = flag
      if !flag { t.grad = nil }
      n += 1
    }
    return n
  }

  /// Clears every parameter's gradient.
  public func zeroGrad() {
    for (_, t) in namedParameters() { t.grad = nil }
  }

  /// Gives every Dropout in the tree a generator derived from `seed` and its position, so the
  /// masks of an epoch depend on the run's seed and the epoch only (a resumed run draws the same).
  public func reseedDropout(_ seed: UInt64) {
    var i: UInt64 = 0
    for (_, m) in namedModules() {
      guard let d = m as? Dropout else { continue }
      i += 1
      d.generator = SeededGenerator(seed: seed ^ (i &* 0x9E37_79B9_7F4A_7C15))
    }
  }

  /// Switches dropout (and anything else with a training mode) on or off in the whole tree.
  public func setTraining(_ on: Bool) {
    for (_, m) in namedModules() { (m as? TrainingModeSwitchable)?.isTraining = on }
  }
}

/// A module whose behaviour differs between training and inference (Dropout).
public protocol TrainingModeSwitchable: AnyObject {
  var isTraining: Bool { get set }
}

/// True when `path` equals `prefix` or continues it with a dot ("" matches everything).
public func pathHasPrefix(_ path: String, _ prefix: String) -> Bool {
  if prefix.isEmpty || path == prefix { return true }
  let p = prefix.hasSuffix(".") ? prefix : prefix + "."
  return path.hasPrefix(p)
}

/// A list of modules named `0`, `1`, … (HF `nn.ModuleList`). Its children are its items, so it
/// lists them itself rather than through declared keys.
public final class ModuleList<Element: Module>: Module {
  public var items: [Element]
  public init(_ items: [Element]) { self.items = items }
  public var submodules: [(String, Module)] { items.enumerated().map { (String($0), $1 as Module) } }
  public subscript(_ i: Int) -> Element { items[i] }
  public var count: Int { items.count }
}
