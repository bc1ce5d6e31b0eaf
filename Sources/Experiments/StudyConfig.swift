import Fairness
import Foundation
import Support
import SyntheticData
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
  /// λ values for methods that have one; empty (the default) = each run chooses its λ on
  /// validation (``LambdaSelection``, `fairmed train`'s default). The others run once per seed
  /// and batch size.
  public var lambdas: [Float] = []
  /// λ values of single methods, by `--method` name, replacing ``lambdas`` for them (e.g. each
  /// baseline at its own paper's setting).
  public var methodLambdas: [String: [Float]] = [:]
  public var seeds: [UInt64] = [0, 1, 2]
  public var batchSizes: [Int] = [64]
  public var groups: String = GroupingSpec.sexAge.description
  /// Every other training option, as in `run.json` (its `data` key is ignored).
  public var base: [String: JSONValue] = [:]
  /// Fine-tune from a pretrained CLIP that FairMed builds from this recipe on first use and
  /// caches (``PretrainingRecipe``), instead of `base`'s `model` / `fromScratch`; the study then
  /// also scores that model zero-shot (`zero-shot.csv`).
  public var pretrained: PretrainingRecipe? = nil
  /// Named settings crossed with the methods (ablations); empty = the base options alone.
  public var variants: [Variant] = []

  /// A named set of training options laid over ``base`` (objects such as `cmac` merge key by key).
  public struct Variant: Codable, Equatable, Sendable {
    public var name: String
    public var options: [String: JSONValue] = [:]
    /// The methods it applies to; nil = every method of the study.
    public var methods: [MethodName]? = nil
    /// The variant whose ERM runs its runs are compared with; nil = the same variant.
    public var baseline: String? = nil
    public init(name: String, options: [String: JSONValue] = [:], methods: [MethodName]? = nil, baseline: String? = nil)
    {
      self.name = name; self.options = options; self.methods = methods; self.baseline = baseline
    }
  }

  /// The kinds of synthetic benchmark.
  public typealias SynthKind = SyntheticModality

  /// The synthetic benchmark of a study.
  public struct SynthSpec: Codable, Equatable, Sendable {
    public var kind: SynthKind
    public var train: Int = 6000
    public var test: Int = 4000
    public var external: Int = 3000
    public var size: Int = 64
    public var seed: UInt64 = 0
    /// Derm: malignant-cue strength per group, replacing the defaults (every split).
    public var signal: [String: Double]? = nil
    /// Derm: under-diagnosis per group in the *training* data only (its validation split
    /// included); test sets keep clean labels.
    public var underdiagnosis: [String: Double]? = nil
    /// Fundus: spread of the cup-to-disc ratio within a class (higher = harder).
    public var cdrSpread: Double? = nil
    public init(
      kind: SynthKind, train: Int = 6000, test: Int = 4000, external: Int = 3000, size: Int = 64, seed: UInt64 = 0
    ) {
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
    for (m, l) in methodLambdas {
      if MethodName(rawValue: m)?.takesLambda != true {
        problems.append(
          "methodLambdas: '\(m)' is not a method with a λ (\(MethodName.allCases.filter(\.takesLambda).map(\.rawValue).joined(separator: ", ")))"
        )
      }
      if l.contains(where: { !MethodName.lambdaCheck.accepts($0) }) {
        problems.append(
          "methodLambdas.\(m) must be a list (empty: chosen on validation), each \(MethodName.lambdaCheck.rule)")
      }
    }
    var names = Set<String>()
    for v in variants {
      if v.name.isEmpty || v.name.contains("/") || !names.insert(v.name).inserted {
        problems.append("variant names must be distinct, non-empty and without '/': '\(v.name)'")
      }
    }
    for v in variants {
      if let b = v.baseline, !names.contains(b) {
        problems.append("variant \(v.name): baseline '\(b)' is not a variant")
      }
    }
    if seeds.isEmpty || batchSizes.isEmpty { problems.append("seeds and batchSizes must not be empty") }
    if let bad = lambdas.first(where: { !MethodName.lambdaCheck.accepts($0) }) {
      problems.append("lambdas must each be \(MethodName.lambdaCheck.rule), got \(bad)")
    }
    problems += Self.unknownRunKeys(base, at: "base")
    for v in variants { problems += Self.unknownRunKeys(v.options, at: "variants[\(v.name)].options") }
    problems += unusedLambdaPaths()
    if let s = synth { problems += s.problems() }
    if let r = pretrained {
      problems += r.problems()
      for key in ["model", "fromScratch"] where base[key] != nil {
        problems.append("base.\(key): the model is the pretrained recipe's; remove one of them")
      }
    }
    guard problems.isEmpty else { throw TrainingError.invalidConfig(problems) }
  }
}

extension StudyConfig {
  /// Whether some run of `variant` (nil: any) chooses its λ on validation: a method with a λ
  /// that neither ``lambdas`` nor ``methodLambdas`` fixes.
  func choosesLambda(variant: Variant?) -> Bool {
    methods.contains { m in
      m.takesLambda && (variant?.methods?.contains(m) ?? true) && (methodLambdas[m.rawValue] ?? lambdas).isEmpty
    }
  }

  /// A `lambdaPath` in `base` or a variant that no run of it would train: refused, since it would
  /// be silently ignored.
  func unusedLambdaPaths() -> [String] {
    let key = "lambdaPath"
    var p: [String] = []
    let rule =
      "no run chooses λ on validation there (its methods have no λ, or lambdas/methodLambdas fix it): remove it"
    if base[key] != nil
      && !(variants.isEmpty ? choosesLambda(variant: nil) : variants.contains { choosesLambda(variant: $0) })
    {
      p.append("base.\(key): \(rule)")
    }
    for v in variants where v.options[key] != nil && !choosesLambda(variant: v) {
      p.append("variants[\(v.name)].options.\(key): \(rule)")
    }
    return p
  }

  /// Keys of `base` or a variant's `options` that are not `run.json` options (`cmac` checked
  /// key by key), each named with its path and the nearest known key.
  static func unknownRunKeys(_ options: [String: JSONValue], at path: String) -> [String] {
    var problems: [String] = []
    for (key, value) in options.sorted(by: { $0.key < $1.key }) {
      if !RunConfig.knownKeys.contains(key) {
        problems.append("\(path).\(key): " + unknownKeyMessage(key, known: RunConfig.knownKeys))
      } else if key == "cmac", case .object(let inner) = value {
        for k in inner.map({ $0.0 }).sorted() where !RunConfig.CMACOptions.knownKeys.contains(k) {
          problems.append("\(path).cmac.\(k): " + unknownKeyMessage(k, known: RunConfig.CMACOptions.knownKeys))
        }
      }
    }
    return problems
  }
}

extension StudyConfig {
  /// The first value of `options` that no `run.json` option takes, named by its key path
  /// below `path`: options are booleans, numbers, strings, lists of strings, lists of numbers
  /// (`lambdaPath`) and objects of these, never `null` (which would silently stand for the default).
  static func unsupportedRunValue(_ options: [String: JSONValue], at path: String? = nil) -> String? {
    for (key, value) in options.sorted(by: { $0.key < $1.key }) {
      let keyPath = path.map { "\($0).\(key)" } ?? key
      switch value {
      case .null:
        return "'\(keyPath)' is null, which no option takes (leave the key out for its default)"
      case .array(let items):
        let strings = items.allSatisfy { if case .string = $0 { true } else { false } }
        let numbers = items.allSatisfy { if case .number = $0 { true } else { false } }
        if !strings && !numbers { return "'\(keyPath)' must be a list of strings or a list of numbers" }
      case .object(let fields):
        if let problem = unsupportedRunValue(Dictionary(fields, uniquingKeysWith: { $1 }), at: keyPath) {
          return problem
        }
      default: continue
      }
    }
    return nil
  }
}

extension StudyConfig {
  /// The keys a study file may hold.
  public static let knownKeys = storedPropertyNames(of: StudyConfig(name: "", methods: []))

  /// Keys left out keep their defaults; an unknown key is refused, naming the nearest one.
  public init(from decoder: Decoder) throws {
    try refuseUnknownKeys(decoder, known: Self.knownKeys)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decodeIfPresent(String.self, forKey: .name) ?? "study"
    data = try c.decodeIfPresent(String.self, forKey: .data)
    test = try c.decodeIfPresent(String.self, forKey: .test)
    testSplit = try c.decodeIfPresent(String.self, forKey: .testSplit)
    external = try c.decodeIfPresent(String.self, forKey: .external)
    synth = try c.decodeIfPresent(SynthSpec.self, forKey: .synth)
    methods = try c.decode([MethodName].self, forKey: .methods)
    lambdas = try c.decodeIfPresent([Float].self, forKey: .lambdas) ?? []
    methodLambdas = try c.decodeIfPresent([String: [Float]].self, forKey: .methodLambdas) ?? [:]
    seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds) ?? [0, 1, 2]
    batchSizes = try c.decodeIfPresent([Int].self, forKey: .batchSizes) ?? [64]
    groups = try c.decodeIfPresent(String.self, forKey: .groups) ?? GroupingSpec.sexAge.description
    base = try c.decodeIfPresent([String: JSONValue].self, forKey: .base) ?? [:]
    if let problem = Self.unsupportedRunValue(base) {
      throw DecodingError.dataCorruptedError(forKey: .base, in: c, debugDescription: problem)
    }
    variants = try c.decodeIfPresent([Variant].self, forKey: .variants) ?? []
    pretrained = try c.decodeIfPresent(PretrainingRecipe.self, forKey: .pretrained)
  }
}

extension StudyConfig.SynthSpec {

  /// Every size out of range, by its key in the study file (checked before anything is written).
  func problems() -> [String] {
    var p: [String] = []
    let n = SyntheticModality.maxImages
    if !(1...n).contains(train) { p.append("synth.train must be in 1…\(n) images, got \(train)") }
    if !(1...n).contains(test) { p.append("synth.test must be in 1…\(n) images, got \(test)") }
    if !(0...n).contains(external) {
      p.append("synth.external must be in 0…\(n) images (0: no external test set), got \(external)")
    }
    let sizes = kind.sizes
    if !sizes.contains(size) {
      p.append("synth.size must be in \(sizes.lowerBound)…\(sizes.upperBound) pixels for \(kind.rawValue), got \(size)")
    }
    if kind == .fundus, (1...n).contains(train), (1...n).contains(test), train + test > n {
      p.append(
        "synth.train + synth.test must be at most \(n) images for fundus (one generated set), got \(train + test)")
    }
    // Knobs of one generator only, each in its range and, per group, for a group it draws.
    for (key, table) in [("signal", signal), ("underdiagnosis", underdiagnosis)] {
      guard let table else { continue }
      if kind != .derm { p.append("synth.\(key) applies to derm benchmarks only, not \(kind.rawValue)") }
      for (g, v) in table.sorted(by: { $0.key < $1.key }) {
        if !DermSynthConfig.groups.contains(g) {
          p.append("synth.\(key): unknown group '\(g)'; groups are \(DermSynthConfig.groups.joined(separator: ", "))")
        }
        if !(v.isFinite && (0...1).contains(v)) { p.append("synth.\(key) \(g)=\(v) must be a number in 0…1") }
      }
    }
    if let spread = cdrSpread {
      if kind != .fundus { p.append("synth.cdrSpread applies to fundus benchmarks only, not \(kind.rawValue)") }
      if !(spread.isFinite && (0...1).contains(spread)) { p.append("synth.cdrSpread must be in 0…1, got \(spread)") }
    }
    return p
  }

  public init(from decoder: Decoder) throws {
    try refuseUnknownKeys(decoder, known: storedPropertyNames(of: StudyConfig.SynthSpec(kind: .derm)))
    let c = try decoder.container(keyedBy: CodingKeys.self)
    kind = try c.decode(StudyConfig.SynthKind.self, forKey: .kind)
    train = try c.decodeIfPresent(Int.self, forKey: .train) ?? 6000
    test = try c.decodeIfPresent(Int.self, forKey: .test) ?? 4000
    external = try c.decodeIfPresent(Int.self, forKey: .external) ?? 3000
    size = try c.decodeIfPresent(Int.self, forKey: .size) ?? 64
    seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
    signal = try c.decodeIfPresent([String: Double].self, forKey: .signal)
    underdiagnosis = try c.decodeIfPresent([String: Double].self, forKey: .underdiagnosis)
    cdrSpread = try c.decodeIfPresent(Double.self, forKey: .cdrSpread)
  }
}

extension StudyConfig.Variant {
  public init(from decoder: Decoder) throws {
    try refuseUnknownKeys(decoder, known: storedPropertyNames(of: StudyConfig.Variant(name: "")))
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    options = try c.decodeIfPresent([String: JSONValue].self, forKey: .options) ?? [:]
    if let problem = StudyConfig.unsupportedRunValue(options) {
      throw DecodingError.dataCorruptedError(forKey: .options, in: c, debugDescription: problem)
    }
    methods = try c.decodeIfPresent([MethodName].self, forKey: .methods)
    baseline = try c.decodeIfPresent(String.self, forKey: .baseline)
  }
}
