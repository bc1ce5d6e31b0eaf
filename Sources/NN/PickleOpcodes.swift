import Foundation

extension RestrictedUnpickler {
  /// Runs one opcode on the stack machine; opcodes that create arbitrary objects are refused.
  mutating func execute(_ op: UInt8) throws {
    switch op {
    case 0x80: _ = try byte()  // PROTO
    case 0x95: _ = try bytes(8)  // FRAME
    case 0x28: marks.append(stack.count)  // MARK
    case 0x4E: try push(.none)
    case 0x88: try push(.bool(true))
    case 0x89: try push(.bool(false))
    case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
    case 0x4B: try push(.int(try uint(1)))  // BININT1
    case 0x4D: try push(.int(try uint(2)))  // BININT2
    case 0x8A: try push(.int(try long(try uint(1))))  // LONG1
    case 0x8B: try push(.int(try long(try uint(4))))  // LONG4
    case 0x49: try push(try textInt())  // INT
    case 0x47: try push(.float(Double(bitPattern: try bytes(8).reduce(0) { $0 << 8 | UInt64($1) })))  // BINFLOAT
    case 0x58: try push(.string(try text(try uint(4))))  // BINUNICODE
    case 0x8C: try push(.string(try text(try uint(1))))  // SHORT_BINUNICODE
    case 0x8D: try push(.string(try text(try uint(8))))  // BINUNICODE8
    case 0x54: try push(.string(try text(try uint(4))))  // BINSTRING
    case 0x55: try push(.string(try text(try uint(1))))  // SHORT_BINSTRING
    case 0x42: try push(.bytes(Array(try bytes(try uint(4)))))  // BINBYTES
    case 0x43: try push(.bytes(Array(try bytes(try uint(1)))))  // SHORT_BINBYTES
    case 0x8E: try push(.bytes(Array(try bytes(try uint(8)))))  // BINBYTES8
    case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
    case 0x74: let (items, d) = try popMarkEntries(); try push(.tuple(items), depth: d + 1)  // TUPLE
    case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
      let n = Int(op - 0x84)
      guard stack.count >= n else { throw fail("stack underflow at byte \(position - 1)") }
      let items = stack.suffix(n)
      stack.removeLast(n)
      try push(.tuple(items.map(\.value)), depth: (items.map(\.depth).max() ?? 0) + 1)
    case 0x5D: try push(.list([]))  // EMPTY_LIST
    case 0x6C: let (items, d) = try popMarkEntries(); try push(.list(items), depth: d + 1)  // LIST
    case 0x61: let e = try popEntry(); try append([e.value], depth: e.depth)  // APPEND
    case 0x65: let (items, d) = try popMarkEntries(); try append(items, depth: d)  // APPENDS
    case 0x7D: try push(.dict([]))  // EMPTY_DICT
    case 0x64: let (items, d) = try popMarkEntries(); try push(.dict(try pairs(items)), depth: d + 1)  // DICT
    case 0x73:  // SETITEM
      let v = try popEntry(), k = try popEntry()
      try setItems([(k.value, v.value)], depth: max(k.depth, v.depth))
    case 0x75: let (items, d) = try popMarkEntries(); try setItems(try pairs(items), depth: d)  // SETITEMS
    case 0x63: try push(try global(module: try line(), name: try line()))  // GLOBAL
    case 0x93:  // STACK_GLOBAL
      let name = try pop(), module = try pop()
      guard let n = name.string, let m = module.string else { throw fail("STACK_GLOBAL needs two strings") }
      try push(try global(module: m, name: n))
    case 0x52: try reduce()  // REDUCE
    case 0x62: try build()  // BUILD
    case 0x51: try push(try persistent(try pop()), depth: 1)  // BINPERSID
    case 0x71: try memoize(try uint(1))  // BINPUT
    case 0x72: try memoize(try uint(4))  // LONG_BINPUT
    case 0x70: try memoize(try textIndex())  // PUT
    case 0x94: try memoize(memo.count)  // MEMOIZE
    case 0x68: try recall(try uint(1))  // BINGET
    case 0x6A: try recall(try uint(4))  // LONG_BINGET
    case 0x67: try recall(try textIndex())  // GET
    case 0x30: _ = try pop()  // POP
    case 0x32:  // DUP
      guard let top = stack.last else { throw fail("DUP with an empty stack") }
      try push(top.value, depth: top.depth)
    case 0x31: _ = try popMark()  // POP_MARK
    case 0x69: throw fail("refused opcode INST (\(try line()).\(try line())): it creates an arbitrary object")
    case 0x6F, 0x81, 0x92:
      throw fail(
        "refused opcode \(["o": "OBJ", "\u{81}": "NEWOBJ", "\u{92}": "NEWOBJ_EX"][String(UnicodeScalar(op))] ?? "") at byte \(position - 1): it creates an arbitrary object"
      )
    default:
      throw fail(String(format: "unsupported pickle opcode 0x%02x at byte %d", op, position - 1))
    }
  }

  mutating func text(_ n: Int) throws -> String { String(decoding: try bytes(n), as: UTF8.self) }

  /// A little-endian two's-complement integer of `n` bytes (at most 8).
  mutating func long(_ n: Int) throws -> Int {
    guard n <= 8 else { throw fail("an integer of \(n) bytes at byte \(position) is too large") }
    let b = try bytes(n)
    guard n > 0 else { return 0 }
    var v: UInt64 = 0
    for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
    if n < 8, b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }
    return Int(Int64(bitPattern: v))
  }

  mutating func textInt() throws -> PickleValue {
    let s = try line()
    if s == "00" { return .bool(false) }
    if s == "01" { return .bool(true) }
    guard let i = Int(s) else { throw fail("INT '\(s)' is not an integer") }
    return .int(i)
  }

  mutating func textIndex() throws -> Int {
    let s = try line()
    guard let i = Int(s), i >= 0 else { throw fail("memo index '\(s)' is not a non-negative integer") }
    return i
  }

  mutating func memoize(_ index: Int) throws {
    guard index >= 0 else { throw fail("a negative memo index") }
    guard let top = stack.last else { throw fail("PUT with an empty stack") }
    guard memo.count < 1 << 22 || memo[index] != nil else { throw fail("the pickle's memo exceeds \(1 << 22) entries") }
    memo[index] = top
  }

  mutating func recall(_ index: Int) throws {
    guard let v = memo[index] else { throw fail("GET of memo entry \(index), which was never stored") }
    try push(v.value, depth: v.depth)
  }

  func pairs(_ flat: [PickleValue]) throws -> [(PickleValue, PickleValue)] {
    guard flat.count % 2 == 0 else { throw fail("a dict with an odd number of keys and values") }
    return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
  }

  mutating func append(_ items: [PickleValue], depth: Int) throws {
    let target = try popEntry()
    guard case var .list(a) = target.value else { throw fail("APPEND to something that is not a list") }
    a += items
    try push(.list(a), depth: max(target.depth, depth + 1))
  }

  mutating func setItems(_ items: [(PickleValue, PickleValue)], depth: Int) throws {
    let target = try popEntry()
    guard case var .dict(d) = target.value else { throw fail("SETITEM on something that is not a dict") }
    d += items
    try push(.dict(d), depth: max(target.depth, depth + 1))
  }

  /// `('storage', <storage type>, key, location, numel)`, the persistent id `torch.save` writes.
  func persistent(_ pid: PickleValue) throws -> PickleValue {
    guard let t = pid.items, t.count == 5, t[0].string == "storage", case let .global(module, name) = t[1],
      module == "torch", let dtype = Self.storageTypes[name], let key = t[2].string, let count = t[4].int, count >= 0
    else {
      throw fail("a persistent id that is not a torch storage reference ('storage', type, key, location, numel)")
    }
    return .storage(PickledStorage(dtype: dtype, key: key, count: count))
  }

  /// Calls one of the allowed globals with its arguments, interpreting it without running anything.
  mutating func reduce() throws {
    let argsEntry = try popEntry(), callable = try pop()
    let args = argsEntry.value
    guard case let .global(module, name) = callable, let role = Self.allowedGlobals[module + "." + name],
      let a = args.items
    else {
      throw fail("REDUCE of something that is not an allowed global")
    }
    switch role {
    case "dict":
      guard let items = a.first?.items else { try push(.dict([])); return }
      try push(
        .dict(
          try items.map { pair in
            guard let kv = pair.items, kv.count == 2 else { throw fail("OrderedDict items must be pairs") }
            return (kv[0], kv[1])
          }), depth: argsEntry.depth)
    case "tensor":
      try push(.tensor(try rebuildTensor(a)), depth: 1)
    case "parameter":
      guard let first = a.first, case .tensor = first else {
        throw fail("_rebuild_parameter of something that is not a tensor")
      }
      try push(first, depth: 1)
    default:
      throw fail("refused call of \(module).\(name)")
    }
  }

  /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`.
  func rebuildTensor(_ a: [PickleValue]) throws -> PickledTensor {
    guard a.count >= 4, case let .storage(s) = a[0], let offset = a[1].int, let size = a[2].items,
      let stride = a[3].items
    else {
      throw fail("_rebuild_tensor_v2 needs (storage, offset, size, stride)")
    }
    let shape = size.compactMap(\.int), strides = stride.compactMap(\.int)
    guard shape.count == size.count, strides.count == stride.count, shape.count == strides.count, shape.count <= 64
    else {
      throw fail("a tensor's size \(size.count) and stride \(stride.count) are not integer tuples of one length")
    }
    return PickledTensor(storage: s, offset: offset, shape: shape, strides: strides)
  }

  /// `BUILD` sets an object's state; FairMed only meets it on OrderedDicts (`_metadata`) and
  /// tensors, and ignores the state.
  mutating func build() throws {
    _ = try pop()
    guard let target = stack.last?.value else { throw fail("BUILD with an empty stack") }
    switch target {
    case .dict, .tensor: return
    default: throw fail("BUILD on something that is not a state dict or a tensor")
    }
  }
}
