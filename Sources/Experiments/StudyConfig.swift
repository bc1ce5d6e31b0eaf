import Fairness
import Foundation
import Training

/// A study: a grid of methods × λ values × seeds × batch sizes on one dataset, evaluated on an
/// internal and optionally an external test set. Read from `study.json` (see `Examples/`).
public struct StudyConfig: Codable, Equatable, Sendable {
  public var name: String
  /// Training data (`ham10000:DIR`, `fairvlmed:DIR`, …); with ``synth`` it is generated first.
  public var data: String?
  /// Internal test data; `split` picks one split of it (e.g. FairVLMed's `test`).
  public var test: String?
  public var testSplit: String?
  /// External test data (optional), e.g. `bcn20000:DIR`.
  public var external: String?
  /// A synthetic benchmark to generate into the study folder instead of `data`/`test`/`external`.
  public var synth: SynthSpec?
  public var methods: [MethodName]
  /// λ values for methods that have one; the others run once per seed and batch size.
  public var lambdas: [Float] = [0.5]
  public var seeds: [UInt64] = [0, 1, 2]
  public var batchSizes: [Int] = [64]
  public var groups: String = GroupingSpec.sexAge.description
  /// Every other training option, as in `run.json` (its `data` key is ignored).
  public var base: [String: JSONValueLite] = [:]

  /// The synthetic benchmark of a study.
  public struct SynthSpec: Codable, Equatable, Sendable {
    /// `derm` or `fundus`.
    public var kind: String
    public var train: Int = 6000
    public var test: Int = 4000
    public var external: Int = 3000
    public var size: Int = 64
    public var seed: UInt64 = 0
    public init(kind: String, train: Int = 6000, test: Int = 4000, external: Int = 3000, size: Int = 64, seed: UInt64 = 0) {
      self.kind = kind
      self.train = train
      self.test = test
      self.external = external
      self.size = size
      self.seed = seed
    }
  }

  public init(name: String, methods: [MethodName]) {
    self.name = name
    self.methods = methods
  }

  public static func load(_ path: String) throws -> StudyConfig {
    try decodeJSONFile(StudyConfig.self, path, "study config")
  }

  /// Problems listed in one error.
  public func validate() throws {
    var problems: [String] = []
    if methods.isEmpty { problems.append("methods is empty") }
    if synth == nil && (data == nil || test == nil) { problems.append("give data and test, or synth") }
    if let s = synth, !["derm", "fundus"].contains(s.kind) { problems.append("synth.kind must be derm or fundus") }
    if seeds.isEmpty || batchSizes.isEmpty || lambdas.isEmpty { problems.append("seeds, batchSizes and lambdas must not be empty") }
    guard problems.isEmpty else { throw TrainingError.invalidConfig(problems) }
  }
}

/// A JSON scalar or list, for the free-form `base` options.
public enum JSONValueLite: Codable, Equatable, Sendable {
  case number(Double), string(String), bool(Bool), strings([String]), object([String: JSONValueLite])

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let b = try? c.decode(Bool.self) { self = .bool(b) }
    else if let d = try? c.decode(Double.self) { self = .number(d) }
    else if let s = try? c.decode(String.self) { self = .string(s) }
    else if let a = try? c.decode([String].self) { self = .strings(a) }
    else { self = .object(try c.decode([String: JSONValueLite].self)) }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .number(let d): try c.encode(d)
    case .string(let s): try c.encode(s)
    case .bool(let b): try c.encode(b)
    case .strings(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }
}

extension StudyConfig {
  /// Keys left out keep their defaults.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decodeIfPresent(String.self, forKey: .name) ?? "study"
    data = try c.decodeIfPresent(String.self, forKey: .data)
    test = try c.decodeIfPresent(String.self, forKey: .test)
    testSplit = try c.decodeIfPresent(String.self, forKey: .testSplit)
    external = try c.decodeIfPresent(String.self, forKey: .external)
    synth = try c.decodeIfPresent(SynthSpec.self, forKey: .synth)
    methods = try c.decode([MethodName].self, forKey: .methods)
    lambdas = try c.decodeIfPresent([Float].self, forKey: .lambdas) ?? [0.5]
    seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? [0, 1, 2]
    batchSizes = try c.decodeIfPresent([Int].self, forKey: .batchSizes) ?? [64]
    groups = try c.decodeIfPresent(String.self, forKey: .groups) ?? GroupingSpec.sexAge.description
    base = try c.decodeIfPresent([String: JSONValueLite].self, forKey: .base) ?? [:]
  }
}

extension StudyConfig.SynthSpec {
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    kind = try c.decode(String.self, forKey: .kind)
    train = try c.decodeIfPresent(Int.self, forKey: .train) ?? 6000
    test = try c.decodeIfPresent(Int.self, forKey: .test) ?? 4000
    external = try c.decodeIfPresent(Int.self, forKey: .external) ?? 3000
    size = try c.decodeIfPresent(Int.self, forKey: .size) ?? 64
    seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
  }
}
