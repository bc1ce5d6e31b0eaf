import Foundation
import Tensor

// Checkpoint keys written once, where a module's properties are declared (as mlx-swift's
// `@ModuleInfo(key:)` / `@ParameterInfo(key:)`). ``Module``'s default `localParameters` and
// `submodules` read these wrappers off the instance (Mirror) in declaration order.

/// A child module stored under its checkpoint key:
///
///     @Child("self_attn") public private(set) var selfAttn: MultiHeadAttention
///     @Child("attention.self.query") private(set) var query: Linear   // a nested Hugging Face name
///     @Child("pooler.dense") private(set) var pooler: Linear? = nil   // listed only when set
///
/// Assign it in `init` after the plain stored properties (`let heads`, `let config`), so that
/// `self` is complete when the wrapper's setter runs. Optional children are declared `= nil`; a
/// nil child is not listed. Keys with dots nest as described under ``Module``.
public typealias Child<Value> = Member<ChildRole, Value>

/// A parameter tensor stored under its checkpoint key:
///
///     @Param("weight") public private(set) var weight: Tensor
///     @Param("bias") public private(set) var bias: Tensor? = nil        // listed only when set
///     @Param("patch_embedding.weight") public private(set) var patchWeight: Tensor
///
/// The same rules as ``Child`` apply. A dotted key puts the tensor in a ``ModuleGroup`` named by
/// its prefix (`patch_embedding` above is a module holding `weight`).
public typealias Param<Value> = Member<ParamRole, Value>

/// What a declared member holds: a child module or a parameter tensor.
public protocol MemberRole {
  /// `Child` or `Param`, for messages.
  static var name: String { get }
  /// Whether members of this role hold modules (else tensors).
  static var holdsModules: Bool { get }
}

/// The role of ``Child`` members.
public enum ChildRole: MemberRole {
  public static var name: String { "Child" }
  public static var holdsModules: Bool { true }
}

/// The role of ``Param`` members.
public enum ParamRole: MemberRole {
  public static var name: String { "Param" }
  public static var holdsModules: Bool { false }
}

/// A member stored under its checkpoint key (``Child`` and ``Param`` are its two roles).
@propertyWrapper
public struct Member<Role: MemberRole, Value> {
  /// The key under the holding module: `fc1`, `weight`, or a dotted path (`attention.self.query`).
  public let key: String
  var value: Value?

  /// A member assigned in the holder's `init`.
  public init(_ key: String) { self.key = key }

  /// A member with an initial value (`@Param("bias") var bias: Tensor? = nil`).
  public init(wrappedValue: Value, _ key: String) {
    self.key = key
    value = wrappedValue
  }

  public var wrappedValue: Value {
    get {
      guard let value else { preconditionFailure("@\(Role.name)(\"\(key)\") was read before it was assigned") }
      return value
    }
    set { value = newValue }
  }
}

/// An object whose own `@Child` / `@Param` members are listed as members of the holding module,
/// under no key of its own: a ``Linear`` layer's ``LoRAAdapter`` adds `lora_A`, `lora_B` and
/// `lora_dropout` beside `weight` and `bias`, as PEFT names them. Nil adds nothing.
@propertyWrapper
public struct Flattened<Value> {
  public var wrappedValue: Value
  public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
}

/// The module a shared key prefix stands for: `attention` and `attention.self` for
/// `@Child("attention.self.query")`. It holds nothing of its own and is built afresh on every
/// enumeration (``Module/namedModules(prefix:)`` lists it, as PyTorch lists the real module).
public final class ModuleGroup: Module {
  public let localParameters: [(String, Tensor)]
  public let submodules: [(String, Module)]

  init(_ members: [DeclaredMember]) {
    localParameters = MemberLayout.parameters(members)
    submodules = MemberLayout.modules(members)
  }
}

// MARK: - Reading the declarations

/// What a declared key holds.
enum DeclaredValue {
  case parameter(Tensor)
  case module(Module)
}

/// One member found on an instance: its (possibly dotted) key and what it holds.
struct DeclaredMember {
  var key: String
  var value: DeclaredValue
}

/// A stored property that declares members (the wrappers above).
protocol MemberDeclaring {
  func appendMembers(to members: inout [DeclaredMember])
}

extension Member: MemberDeclaring {
  func appendMembers(to members: inout [DeclaredMember]) {
    guard let value else { return }  // an optional member never assigned
    if Role.holdsModules, let module = value as? Module {
      members.append(DeclaredMember(key: key, value: .module(module)))
    } else if !Role.holdsModules, let tensor = value as? Tensor {
      members.append(DeclaredMember(key: key, value: .parameter(tensor)))
    } else if unwrappingOptionals(value) != nil {
      preconditionFailure(
        "@\(Role.name)(\"\(key)\") holds a \(type(of: value)), which is not a \(Role.holdsModules ? "Module (tensors are @Param)" : "Tensor (modules are @Child)")"
      )
    }
  }
}

extension Flattened: MemberDeclaring {
  func appendMembers(to members: inout [DeclaredMember]) {
    members += declaredMembers(of: wrappedValue)
  }
}

/// `x` without its Optional layers, or nil when one of them is nil.
func unwrappingOptionals(_ x: Any) -> Any? {
  let mirror = Mirror(reflecting: x)
  guard mirror.displayStyle == .optional else { return x }
  guard let wrapped = mirror.children.first else { return nil }
  return unwrappingOptionals(wrapped.value)
}

/// The members `subject` declares with ``Child``, ``Param`` and ``Flattened``, in declaration
/// order (a superclass's before its subclass's); nothing for nil.
func declaredMembers(of subject: Any) -> [DeclaredMember] {
  let mirror = Mirror(reflecting: subject)
  if mirror.displayStyle == .optional {
    guard let wrapped = mirror.children.first else { return [] }
    return declaredMembers(of: wrapped.value)
  }
  var levels = [mirror]
  while let superclass = levels[levels.count - 1].superclassMirror { levels.append(superclass) }
  var members: [DeclaredMember] = []
  for level in levels.reversed() {
    for property in level.children {
      (property.value as? MemberDeclaring)?.appendMembers(to: &members)
    }
  }
  return members
}

/// How declared members become ``Module/localParameters`` and ``Module/submodules``.
enum MemberLayout {
  /// The parameters whose keys have no dot, in declaration order.
  static func parameters(_ members: [DeclaredMember]) -> [(String, Tensor)] {
    members.compactMap { member -> (String, Tensor)? in
      guard case .parameter(let tensor) = member.value, !member.key.contains(".") else { return nil }
      return (member.key, tensor)
    }
  }

  /// The child modules whose keys have no dot and one ``ModuleGroup`` per first component of the
  /// dotted keys (modules and parameters alike), each where its first member is declared.
  static func modules(_ members: [DeclaredMember]) -> [(String, Module)] {
    var order: [(name: String, module: Module?)] = []  // nil: the group of that name
    var groups: [String: [DeclaredMember]] = [:]
    for member in members {
      if let dot = member.key.firstIndex(of: ".") {
        let head = String(member.key[..<dot])
        let rest = String(member.key[member.key.index(after: dot)...])
        if groups[head] == nil { order.append((name: head, module: nil)) }
        groups[head, default: []].append(DeclaredMember(key: rest, value: member.value))
      } else if case .module(let module) = member.value {
        order.append((name: member.key, module: module))
      }
    }
    let modules = order.map { entry -> (String, Module) in
      if let module = entry.module { return (entry.name, module) }
      return (entry.name, ModuleGroup(groups[entry.name] ?? []))
    }
    assert(
      Set(modules.map { $0.0 }).count == modules.count,
      "two members share a module key: \(modules.map { $0.0 }) (a key is either a child or a dotted prefix)")
    return modules
  }
}
