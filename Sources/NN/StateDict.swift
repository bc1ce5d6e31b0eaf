import Foundation
import Tensor

/// Everything wrong between a model and a checkpoint, reported at once.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
  /// Parameters the model has but the checkpoint lacks (with the model's shape).
  public var missing: [(name: String, expected: [Int])] = []
  /// Checkpoint tensors the model has no parameter for (with their shape).
  public var unexpected: [(name: String, found: [Int])] = []
  /// Tensors present on both sides with different shapes.
  public var wrongShape: [(name: String, expected: [Int], found: [Int])] = []
  /// Where the tensors came from (a file path or a description).
  public var source: String = "state dict"

  public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && wrongShape.isEmpty }

  public var description: String {
    var lines = ["checkpoint \(source) does not match the model:"]
    if !missing.isEmpty {
      lines.append("  missing \(missing.count) tensor(s):")
      lines += missing.map { "    \($0.name) (expected shape \($0.expected))" }
    }
    if !wrongShape.isEmpty {
      lines.append("  \(wrongShape.count) tensor(s) with the wrong shape:")
      lines += wrongShape.map { "    \($0.name): expected \($0.expected), found \($0.found)" }
    }
    if !unexpected.isEmpty {
      lines.append("  \(unexpected.count) unexpected tensor(s):")
      lines += unexpected.map { "    \($0.name) (shape \($0.found))" }
    }
    return lines.joined(separator: "\n")
  }

  public static func == (a: Self, b: Self) -> Bool { a.description == b.description }
}

extension Module {
  /// The parameters as (checkpoint name, tensor) pairs, in model order.
  public func stateDict() -> [(String, Tensor)] {
    namedParameters().map { ($0.path, $0.tensor) }
  }

  /// Copies checkpoint values into the parameters (in place). Throws one ``StateDictError``
  /// listing every missing, unexpected and wrong-shape tensor before changing anything.
  /// With `strict: false` missing and unexpected names are tolerated; wrong shapes never are.
  public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true, source: String = "state dict") throws {
    try loadParameters(
      available: tensors.mapValues(\.shape), strict: strict, source: source
    ) { name, destination in
      let src = tensors[name]!
      destination.update(from: src.pointer, count: src.count)
    }
  }

  /// Loads the parameters from a safetensors file, decoding each tensor from the memory map
  /// straight into its parameter (no intermediate copy of the checkpoint).
  public func load(safetensors path: String, strict: Bool = true) throws {
    try load(from: SafetensorsFile(path: path), strict: strict)
  }

  /// Writes the parameters (F32, checkpoint names) to a safetensors file atomically.
  public func save(safetensors path: String, metadata: [String: String] = [:]) throws {
    try Safetensors.write(stateDict(), metadata: metadata, to: path)
  }

  /// Shared loader: checks names and shapes against `available`, then calls `read` for each
  /// parameter found, with the parameter's buffer.
  public func loadParameters(
    available: [String: [Int]], strict: Bool, source: String,
    read: (String, UnsafeMutablePointer<Float>) throws -> Void
  ) throws {
    let params = namedParameters()
    var report = StateDictError(source: source)
    var known = Set<String>()
    for (path, t) in params {
      known.insert(path)
      guard let shape = available[path] else {
        report.missing.append((path, t.shape))
        continue
      }
      if shape != t.shape { report.wrongShape.append((path, t.shape, shape)) }
    }
    for (name, shape) in available.sorted(by: { $0.key < $1.key }) where !known.contains(name) {
      report.unexpected.append((name, shape))
    }
    if !report.wrongShape.isEmpty || (strict && !report.isEmpty) { throw report }
    for (path, t) in params where available[path] != nil {
      try read(path, t.pointer)
      // NaN or infinite weights make every prediction meaningless: refuse them here, once.
      let values = UnsafeBufferPointer(start: t.pointer, count: t.count)
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        throw SafetensorsError(
          file: source, tensor: path, "holds a non-finite value (\(values[bad]) at element \(bad))")
      }
    }
  }
}

/// Named tensors that can be decoded into a buffer on demand (a safetensors file, several
/// shards, or a renaming view over another source).
public protocol TensorSource {
  /// Every tensor's name and shape.
  var shapes: [String: [Int]] { get }
  /// Decodes tensor `name` into `destination` (its element count, Float32).
  func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws
  /// Where the tensors come from, for error messages.
  var sourceDescription: String { get }
}

extension SafetensorsFile: TensorSource {
  public var shapes: [String: [Int]] { Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.shape) }) }
  public var sourceDescription: String { path }
}

/// Several safetensors shards seen as one source (HF `model.safetensors.index.json`).
public struct ShardedSource: TensorSource {
  public let files: [SafetensorsFile]
  private let owner: [String: Int]
  public init(files: [SafetensorsFile]) throws {
    self.files = files
    var owner: [String: Int] = [:]
    for (i, f) in files.enumerated() {
      for n in f.names {
        if let j = owner[n] { throw SafetensorsError(file: f.path, tensor: n, "also present in \(files[j].path)") }
        owner[n] = i
      }
    }
    self.owner = owner
  }
  public var shapes: [String: [Int]] { files.reduce(into: [:]) { $0.merge($1.shapes) { a, _ in a } } }
  public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
    guard let i = owner[name] else { throw SafetensorsError(file: sourceDescription, tensor: name, "no such tensor") }
    try files[i].read(name, into: destination)
  }
  public var sourceDescription: String { files.map(\.path).joined(separator: ", ") }
}

extension Module {
  /// Loads every parameter from `source` (names and shapes checked first, all problems reported
  /// together in one ``StateDictError``).
  public func load(from source: TensorSource, strict: Bool = true) throws {
    try loadParameters(available: source.shapes, strict: strict, source: source.sourceDescription) {
      try source.read($0, into: $1)
    }
  }
}
