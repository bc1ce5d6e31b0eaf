import Foundation

/// A `FAIRMED_*` environment variable whose value is malformed or outside its accepted range.
public struct EnvironmentError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
  public let variable: String
  public let value: String
  /// What is accepted, e.g. "an integer in 1…4096".
  public let expected: String
  public init(variable: String, value: String, expected: String) {
    self.variable = variable; self.value = value; self.expected = expected
  }
  public var description: String {
    "environment variable \(variable)=\(jsonStringLiteral(value)) is not valid: expected \(expected) (unset it for the default)"
  }
  public var errorDescription: String? { description }
}

/// An integer `FAIRMED_*` environment variable and the range it accepts. Every such variable
/// FairMed reads is parsed here: a value that is not an integer in ``range`` is an
/// ``EnvironmentError`` naming the variable, its value and the range, never silently ignored.
/// An unset or empty variable means the default.
public struct EnvironmentVariable: Sendable, Equatable {
  public let name: String
  public let range: ClosedRange<Int>
  /// What it sets, for messages.
  public let meaning: String

  public init(name: String, range: ClosedRange<Int>, meaning: String) {
    self.name = name; self.range = range; self.meaning = meaning
  }

  /// `FAIRMED_MAX_IMAGE_PIXELS`: the most pixels an image header may declare (default 50 million).
  public static let maxImagePixels = EnvironmentVariable(
    name: "FAIRMED_MAX_IMAGE_PIXELS", range: 1...1_000_000_000_000,
    meaning: "the most pixels an image may declare")
  /// `FAIRMED_MAX_NPZ_EXPANSION`: how many times its compressed size an `.npz` member may expand (default 1000).
  public static let maxNpzExpansion = EnvironmentVariable(
    name: "FAIRMED_MAX_NPZ_EXPANSION", range: 1...1_000_000,
    meaning: "how many times its compressed size an .npz member may expand")
  /// `FAIRMED_NUM_THREADS`: threads of FairMed's loops (default: the active cores).
  public static let numThreads = EnvironmentVariable(
    name: "FAIRMED_NUM_THREADS", range: 1...4096,
    meaning: "the threads of FairMed's tensor loops")
  /// `FAIRMED_POOL_MB`: the buffer pool's budget in megabytes, 0 pools nothing (default: a quarter of memory).
  public static let poolMB = EnvironmentVariable(
    name: "FAIRMED_POOL_MB", range: 0...(1 << 30),
    meaning: "the tensor buffer pool's budget in megabytes")
  /// `FAIRMED_KILL_RANK`: the MPI rank that `FAIRMED_KILL_AT` kills (fault-injection tests).
  public static let killRank = EnvironmentVariable(
    name: "FAIRMED_KILL_RANK", range: 0...1_000_000,
    meaning: "the rank FAIRMED_KILL_AT kills")

  /// Every integer variable FairMed reads (``validateEnvironment(_:)`` checks them all, and
  /// `FAIRMED_KILL_AT`).
  public static let all: [EnvironmentVariable] = [.maxImagePixels, .maxNpzExpansion, .numThreads, .poolMB, .killRank]

  /// `text` checked: nil when unset or empty, the integer when it lies in ``range``.
  public func check(_ text: String?) -> Result<Int?, EnvironmentError> {
    guard let text, !text.isEmpty else { return .success(nil) }
    guard let v = Int(text), range.contains(v) else {
      return .failure(
        EnvironmentError(
          variable: name, value: text,
          expected: "an integer in \(range.lowerBound)…\(range.upperBound) (\(meaning))"))
    }
    return .success(v)
  }

  /// The value of `text` (nil when unset or empty); throws ``EnvironmentError`` when malformed or out of range.
  public func parse(_ text: String?) throws -> Int? { try check(text).get() }

  /// The variable's value in `environment` (nil when unset); throws when malformed or out of range.
  public func value(in environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
    try parse(environment[name])
  }

  /// The value, or `def` when unset, as a `Result`: for a `static let` read once and thrown where
  /// it is used (`try setting.get()`).
  public func setting(default def: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<
    Int, EnvironmentError
  > {
    check(environment[name]).map { $0 ?? def }
  }

  /// For values read where nothing can throw (a lazily initialised global): the value, or `def`
  /// when unset — and when malformed, `def` with a warning on stderr. The `fairmed` command
  /// refuses a malformed value at start-up (``validateEnvironment(_:)``), before any such read.
  public func lenientValue(default def: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int
  {
    lenientValue(environment[name], default: def)
  }

  /// ``lenientValue(default:environment:)`` of an explicit `text`.
  public func lenientValue(_ text: String?, default def: Int) -> Int {
    switch check(text) {
    case .success(let v): return v ?? def
    case .failure(let e):
      Self.warn(e, fallback: String(def))
      return def
    }
  }

  /// The warning of a lenient read: what was wrong and what is used instead.
  public static func warn(_ error: EnvironmentError, fallback: String) {
    FileHandle.standardError.write(Data("fairmed: warning: \(error.description); using \(fallback)\n".utf8))
  }
}

/// `FAIRMED_KILL_AT=POINT:N` parsed: the point's name and the hit (N ≥ 1) that kills; nil when
/// unset or empty; throws ``EnvironmentError`` when malformed.
public func parseKillSpec(_ text: String?) throws -> (point: String, count: Int)? {
  guard let text, !text.isEmpty else { return nil }
  guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
    let n = Int(text[text.index(after: colon)...]), (1...1_000_000_000).contains(n)
  else {
    throw EnvironmentError(
      variable: "FAIRMED_KILL_AT", value: text, expected: "POINT:N with N an integer in 1…1000000000 (fault injection)")
  }
  return (String(text[..<colon]), n)
}

/// Checks every `FAIRMED_*` variable FairMed reads, throwing ``EnvironmentError`` for the first
/// malformed or out-of-range one. The `fairmed` command and the library's entry points
/// (training, prediction, studies, feature export) call it through Tensor's
/// `validateComputeEnvironment`, which also checks `OPENBLAS_CORETYPE`, so a bad value is
/// refused before a lazily read setting could fall back to its default.
public func validateEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
  for v in EnvironmentVariable.all { _ = try v.value(in: environment) }
  _ = try parseKillSpec(environment["FAIRMED_KILL_AT"])
  if let dir = environment["FAIRMED_CACHE"], !dir.isEmpty, !dir.hasPrefix("/") {
    throw EnvironmentError(variable: "FAIRMED_CACHE", value: dir, expected: "an absolute folder path")
  }
}

/// FairMed's cache folder (built pretrained checkpoints, their corpora): `FAIRMED_CACHE` (an
/// absolute path), else `$XDG_CACHE_HOME/fairmed` (when absolute, as the XDG spec requires), else
/// `$HOME/.cache/fairmed`. Nothing is created here.
public func cacheDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
  try validateEnvironment(environment)
  if let dir = environment["FAIRMED_CACHE"], !dir.isEmpty { return dir }
  if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/fairmed" }
  guard let home = environment["HOME"], home.hasPrefix("/") else {
    throw EnvironmentError(
      variable: "HOME", value: environment["HOME"] ?? "",
      expected: "an absolute folder path (or set FAIRMED_CACHE to FairMed's cache folder)")
  }
  return home + "/.cache/fairmed"
}
