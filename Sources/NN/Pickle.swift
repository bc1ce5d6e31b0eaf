import Foundation

/// A value decoded from a pickle by ``RestrictedUnpickler``: plain data, plus the few objects a
/// PyTorch state dict is made of. Nothing in it is ever executed.
public indirect enum PickleValue: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple([PickleValue])
  case list([PickleValue])
  /// A dict or an `OrderedDict`, keys in insertion order.
  case dict([(PickleValue, PickleValue)])
  /// An allowed global (a storage type or a callable FairMed interprets itself).
  case global(module: String, name: String)
  /// A `persistent_load` storage reference: `('storage', type, key, location, numel)`.
  case storage(PickledStorage)
  /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2` (or `_rebuild_parameter`).
  case tensor(PickledTensor)

  var string: String? { if case let .string(s) = self { return s }; return nil }
  var int: Int? {
    switch self {
    case let .int(i): return i
    case let .bool(b): return b ? 1 : 0
    default: return nil
    }
  }
  var items: [PickleValue]? {
    switch self {
    case let .tuple(a), let .list(a): return a
    default: return nil
    }
  }
}

/// A storage a tensor views: its element type, archive key (`data/<key>`) and element count.
public struct PickledStorage: Sendable, Equatable {
  public let dtype: SafetensorsDType
  public let key: String
  public let count: Int
}

/// A tensor: a strided view of a storage.
public struct PickledTensor: Sendable, Equatable {
  public let storage: PickledStorage
  public let offset: Int
  public let shape: [Int]
  public let strides: [Int]
}

/// Why a pickle was refused.
public struct PickleError: Error, CustomStringConvertible, Equatable {
  public let file: String
  public let problem: String
  public var description: String { "PyTorch checkpoint \(file): \(problem)" }
}

/// A pickle reader for PyTorch state dicts that never executes anything: it understands the
/// opcodes of protocols 2–5 and accepts only the globals a state dict needs
/// (``allowedGlobals``); every other global (`os.system`, `builtins.eval`, any class) is refused
/// by name before anything is built. Sizes, memo indices and nesting are bounded.
public struct RestrictedUnpickler {
  /// Globals a state dict may name, with what they are to FairMed.
  public static let allowedGlobals: [String: String] = {
    var g = [
      "collections.OrderedDict": "dict",
      "torch._utils._rebuild_tensor_v2": "tensor",
      "torch._utils._rebuild_tensor": "tensor",
      "torch._utils._rebuild_parameter": "parameter",
    ]
    for name in storageTypes.keys { g["torch." + name] = "storage" }
    return g
  }()

  /// PyTorch storage classes and the element type they hold.
  static let storageTypes: [String: SafetensorsDType] = [
    "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
    "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
    "ByteStorage": .u8, "BoolStorage": .bool,
  ]
  /// Deepest nesting of tuples, lists and dicts accepted.
  static let maxDepth = 200

  let data: [UInt8]
  let file: String
  var position = 0
  /// Values with their nesting depth (bounded by ``maxDepth``, so nothing deep is ever built or
  /// torn down recursively).
  var stack: [(value: PickleValue, depth: Int)] = []
  var marks: [Int] = []
  var memo: [Int: (value: PickleValue, depth: Int)] = [:]

  public init(data: [UInt8], file: String) {
    self.data = data
    self.file = file
  }

  func fail(_ problem: String) -> PickleError { PickleError(file: file, problem: problem) }

  /// Decodes the whole pickle (up to `STOP`).
  public mutating func load() throws -> PickleValue {
    while true {
      let op = try byte()
      if op == 0x2E /* STOP */ {
        guard let top = stack.popLast() else { throw fail("STOP with an empty stack") }
        return top.value
      }
      try execute(op)
    }
  }

  mutating func byte() throws -> UInt8 {
    guard position < data.count else { throw fail("the pickle ends before its STOP opcode") }
    defer { position += 1 }
    return data[position]
  }

  mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
    guard n >= 0, n <= data.count - position else {
      throw fail("a \(n)-byte field at byte \(position) runs past the end of the pickle (\(data.count) bytes)")
    }
    defer { position += n }
    return data[position..<(position + n)]
  }

  mutating func uint(_ n: Int) throws -> Int {
    let b = try bytes(n)
    var v: UInt64 = 0
    for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
    guard v <= UInt64(Int.max) else { throw fail("a length at byte \(position - n) is out of range") }
    return Int(v)
  }

  mutating func line() throws -> String {
    guard let end = data[position...].firstIndex(of: 0x0A) else {
      throw fail("an unterminated text field at byte \(position)")
    }
    defer { position = end + 1 }
    return String(decoding: data[position..<end], as: UTF8.self)
  }

  mutating func popEntry() throws -> (value: PickleValue, depth: Int) {
    guard let v = stack.popLast() else { throw fail("stack underflow at byte \(position - 1)") }
    return v
  }

  mutating func pop() throws -> PickleValue { try popEntry().value }

  /// Everything above the last MARK (which is removed), with the depth of the deepest.
  mutating func popMarkEntries() throws -> (values: [PickleValue], depth: Int) {
    guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK before byte \(position - 1)") }
    defer { stack.removeSubrange(m...) }
    return (stack[m...].map(\.value), stack[m...].map(\.depth).max() ?? 0)
  }

  mutating func popMark() throws -> [PickleValue] { try popMarkEntries().values }

  /// Pushes `v`; `depth` is that of its deepest child plus one for containers (0 for scalars).
  mutating func push(_ v: PickleValue, depth: Int = 0) throws {
    guard stack.count < 1 << 20 else { throw fail("the pickle's stack exceeds \(1 << 20) entries") }
    guard depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
    stack.append((v, depth))
  }

  mutating func global(module: String, name: String) throws -> PickleValue {
    let full = module + "." + name
    guard Self.allowedGlobals[full] != nil else {
      throw fail(
        "refused global \(full): FairMed reads state dicts only (allowed: collections.OrderedDict, "
          + "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch storage types); "
          + "a pickle naming anything else could run code, so it is never loaded")
    }
    return .global(module: module, name: name)
  }
}
