import Foundation
import Support

/// A PyTorch checkpoint written by `torch.save` (the zip format: `<name>/data.pkl` plus one
/// `<name>/data/<key>` member per storage) read as named tensors, without running Python's
/// unpickler: ``RestrictedUnpickler`` decodes the pickle and refuses every global a state dict
/// does not need. Accepts a state dict, an `OrderedDict`, or a dict wrapping one under
/// `state_dict` / `model` (other entries, such as `epoch`, are ignored). Every tensor's view is
/// checked against its storage before anything is read.
public final class TorchCheckpoint: TensorSource {
  public let path: String
  public let tensors: [String: PickledTensor]
  let archive: ZipReader
  let root: String

  /// Opens and validates `path` (`.bin`, `.pt`, `.pth`).
  public init(path: String) throws {
    self.path = path
    if let head = try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 2),
      head.count == 2, head[head.startIndex] == 0x80
    {
      throw PickleError(
        file: path,
        problem: "a legacy (pre-1.6) PyTorch file, not the zip format; "
          + "re-save it with torch.save(state_dict, path) from a current PyTorch, or convert it to safetensors")
    }
    do { archive = try ZipReader(path: path) } catch let e as ZipError {
      throw PickleError(file: path, problem: e.isMissing ? "no such file" : e.reason)
    }
    guard let pkl = archive.members.first(where: { $0.name.hasSuffix("/data.pkl") || $0.name == "data.pkl" }) else {
      throw PickleError(file: path, problem: "no data.pkl in the archive: not a PyTorch checkpoint")
    }
    let root = String(pkl.name.dropLast("data.pkl".count))
    self.root = root
    if let order = archive.members.first(where: { $0.name == root + "byteorder" }),
      let text = try? archive.read(order, limit: 16), String(decoding: text, as: UTF8.self) != "little"
    {
      throw PickleError(file: path, problem: "big-endian storages are not supported")
    }
    let bytes = try archive.read(pkl, limit: 1 << 30)
    var unpickler = RestrictedUnpickler(data: [UInt8](bytes), file: path)
    let value = try unpickler.load()
    tensors = try Self.stateDict(in: value, file: path)
    try validate()
  }

  /// The tensors of a state dict, looking inside one `state_dict` / `model` wrapper.
  static func stateDict(in value: PickleValue, file: String) throws -> [String: PickledTensor] {
    guard case let .dict(items) = value else {
      throw PickleError(file: file, problem: "holds no state dict (the pickle's top level is not a dict)")
    }
    for wrapper in ["state_dict", "model", "module"] {
      if let inner = items.first(where: { $0.0.string == wrapper })?.1, case .dict = inner {
        return try stateDict(in: inner, file: file)
      }
    }
    var out: [String: PickledTensor] = [:]
    for (k, v) in items {
      guard case let .tensor(t) = v else { continue }
      guard let name = k.string else { throw PickleError(file: file, problem: "a tensor whose key is not a string") }
      out[name] = t
    }
    guard !out.isEmpty else { throw PickleError(file: file, problem: "holds no tensors: not a state dict") }
    return out
  }

  /// Each tensor's storage exists, holds its declared elements, and contains the whole view.
  func validate() throws {
    let members = Dictionary(archive.members.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for (name, t) in tensors.sorted(by: { $0.key < $1.key }) {
      func refuse(_ why: String) -> PickleError { PickleError(file: path, problem: "tensor '\(name)': \(why)") }
      guard let m = members[root + "data/" + t.storage.key] else {
        throw refuse("its storage data/\(t.storage.key) is not in the archive")
      }
      guard let bytes = checkedProduct([t.storage.count, t.storage.dtype.size]), bytes == m.size else {
        throw refuse(
          "storage data/\(t.storage.key) declares \(t.storage.count) \(t.storage.dtype.rawValue) elements but holds \(m.size) bytes"
        )
      }
      guard t.shape.allSatisfy({ $0 >= 0 }), t.strides.allSatisfy({ $0 >= 0 }), t.offset >= 0,
        checkedProduct(t.shape) != nil
      else {
        throw refuse("size \(t.shape), stride \(t.strides) or offset \(t.offset) is negative or overflows")
      }
      if t.shape.contains(0) { continue }
      var last = t.offset
      for (s, st) in zip(t.shape, t.strides) {
        guard let step = checkedProduct([s - 1, st]) else { throw refuse("its strides overflow") }
        let (sum, o) = last.addingReportingOverflow(step)
        guard !o else { throw refuse("its strides overflow") }
        last = sum
      }
      guard last < t.storage.count else {
        throw refuse(
          "a view of size \(t.shape), stride \(t.strides) at offset \(t.offset) needs \(last + 1) elements "
            + "but its storage data/\(t.storage.key) holds \(t.storage.count)")
      }
    }
  }

  public var shapes: [String: [Int]] { tensors.mapValues(\.shape) }
  public var sourceDescription: String { path }

  /// Decodes tensor `name` (any layout, any of torch's numeric types) into Float32, row-major.
  public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
    guard let t = tensors[name], let m = archive.members.first(where: { $0.name == root + "data/" + t.storage.key })
    else {
      throw PickleError(file: path, problem: "tensor '\(name)': no such tensor")
    }
    let raw = try archive.read(m, limit: Int.max)
    let count = t.shape.reduce(1, *)
    raw.withUnsafeBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      var index = [Int](repeating: 0, count: t.shape.count)
      var element = t.offset
      for i in 0..<count {
        destination[i] = t.storage.dtype.decode(base, element: element)
        // Advance the multi-index (last axis fastest) and the storage element with it.
        var axis = t.shape.count - 1
        while axis >= 0 {
          index[axis] += 1
          element += t.strides[axis]
          if index[axis] < t.shape[axis] { break }
          element -= t.strides[axis] * t.shape[axis]
          index[axis] = 0
          axis -= 1
        }
      }
    }
  }
}
