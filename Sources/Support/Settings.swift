import Foundation

/// An option of a configuration, declared once where the configuration declares the property:
///
///     @Setting(help: "Epochs.", .range(1...10_000)) public var epochs = 10
///
/// From that one declaration come the `run.json` key (the property's name), the command-line flag
/// (the name in kebab case, `--epochs`, unless `flag:` names another), the `--help` line with the
/// default shown once, the value's parsing from an argument, and its range check. A configuration
/// made of settings (``SettingGroup``) is read from JSON over its defaults, so a key left out keeps
/// its default and no key is listed a second time.
@propertyWrapper
public struct Setting<Value: SettingValue>: Codable, Equatable, Sendable {
  public var wrappedValue: Value
  /// The `--help` text (without the default, which is appended from the declared value).
  public let help: String
  /// The flag's name without dashes; nil = the property's name in kebab case.
  public let flag: String?
  /// The check a value must pass; nil when any value of the type is valid.
  public let check: SettingCheck<Value>?
  /// How the flag takes its value; nil = the type's way (``SettingValue/arity``).
  public let arityOverride: SettingArity?

  public init(
    wrappedValue: Value, help: String, flag: String? = nil, arity: SettingArity? = nil,
    _ check: SettingCheck<Value>? = nil
  ) {
    self.wrappedValue = wrappedValue
    self.help = help
    self.flag = flag
    self.check = check
    arityOverride = arity
  }

  /// A value read from JSON carries no declaration: checks and help always come from the
  /// declared defaults (``SettingGroup/settingProblems()``).
  public init(from decoder: Decoder) throws {
    wrappedValue = try decoder.singleValueContainer().decode(Value.self)
    help = ""
    flag = nil
    check = nil
    arityOverride = nil
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(wrappedValue)
  }

  public static func == (a: Self, b: Self) -> Bool { a.wrappedValue == b.wrappedValue }
}

/// A rule a setting's value must satisfy, with the words `--help` and errors use for it.
public struct SettingCheck<Value>: Sendable {
  /// "in 1…10000", "a finite number > 0".
  public let rule: String
  public let accepts: @Sendable (Value) -> Bool

  public init(_ rule: String, _ accepts: @escaping @Sendable (Value) -> Bool) {
    self.rule = rule
    self.accepts = accepts
  }
}

extension SettingCheck where Value: Comparable & Sendable {
  /// Inside a closed range.
  public static func range(_ r: ClosedRange<Value>) -> Self {
    Self("in \(r.lowerBound)…\(r.upperBound)") { r.contains($0) }
  }
}

extension SettingCheck where Value: BinaryFloatingPoint & Sendable {
  /// A finite number inside a closed range.
  public static func finite(in r: ClosedRange<Value>, _ rule: String? = nil) -> Self {
    Self(rule ?? "a finite number in \(plainNumber(Double(r.lowerBound)))…\(plainNumber(Double(r.upperBound)))") {
      $0.isFinite && r.contains($0)
    }
  }
  /// A finite number > 0.
  public static var positive: Self { Self("a finite number > 0") { $0.isFinite && $0 > 0 } }
  /// A finite number ≥ 0.
  public static var nonNegative: Self { Self("a finite number ≥ 0") { $0.isFinite && $0 >= 0 } }
}

extension SettingCheck {
  /// The check of the wrapped value, a nil value passing.
  public static func whenSet<W>(_ inner: SettingCheck<W>) -> SettingCheck<W?> {
    SettingCheck<W?>(inner.rule) { $0.map(inner.accepts) ?? true }
  }
}

/// `1000` for 1000.0, `0.5` for 0.5: a bound as a person writes it.
func plainNumber(_ x: Double) -> String {
  x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}

/// How a flag takes its value(s).
public enum SettingArity: Sendable {
  /// `--flag VALUE` or `--flag=VALUE`.
  case one
  /// `--flag` sets true, `--no-flag` false.
  case flag
  /// `--flag A B C`: every argument up to the next option.
  case upToNextOption
}

/// A type a setting can hold: read from one command-line argument, written back in `--help`.
public protocol SettingValue: Codable, Equatable, Sendable {
  /// The value of one argument, or nil with the words for what was expected.
  static func parseArgument(_ text: String) -> Self?
  /// What an argument must be, for errors ("an integer").
  static var expected: String { get }
  /// The value as `--help` and errors show it.
  var settingDescription: String { get }
  static var arity: SettingArity { get }
  /// The accepted values of a fixed set, for `--help`.
  static var choices: [String]? { get }
  /// The value of a flag's arguments: one for `.one`, any number for `.upToNextOption`.
  static func parseArguments(_ texts: [String], arity: SettingArity) -> Self?
}

extension SettingValue {
  public static var arity: SettingArity { .one }
  public static var choices: [String]? { nil }
  public var settingDescription: String { "\(self)" }
  public static func parseArguments(_ texts: [String], arity: SettingArity) -> Self? {
    texts.count == 1 ? parseArgument(texts[0]) : nil
  }
}

/// Numbers parse as Swift spells them (`3`, `0.25`, `1e-3`).
extension SettingValue where Self: LosslessStringConvertible {
  public static func parseArgument(_ text: String) -> Self? { Self(text) }
}

extension Int: SettingValue { public static var expected: String { "an integer" } }
extension UInt64: SettingValue { public static var expected: String { "an integer ≥ 0" } }
extension Float: SettingValue { public static var expected: String { "a number" } }
extension Double: SettingValue { public static var expected: String { "a number" } }

extension String: SettingValue {
  public static func parseArgument(_ text: String) -> String? { text }
  public static var expected: String { "text" }
  public var settingDescription: String { self }
}

extension Bool: SettingValue {
  public static func parseArgument(_ text: String) -> Bool? { ["true": true, "false": false][text] }
  public static var expected: String { "true or false" }
  public static var arity: SettingArity { .flag }
}

/// A type whose values a list setting may hold (`--prompts A B`, `--lambda-path 0,0.01,1`).
public protocol SettingListElement: SettingValue {}
extension String: SettingListElement {}
extension Float: SettingListElement {}

extension Array: SettingValue where Element: SettingListElement {
  /// One argument: a comma-separated list (`q_proj,v_proj`, `0,0.01,1`).
  public static func parseArgument(_ text: String) -> [Element]? {
    parseElements(
      text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) })
  }
  /// `.upToNextOption`: every argument is one element (`--prompts "benign" "a malignant lesion"`).
  public static func parseArguments(_ texts: [String], arity: SettingArity) -> [Element]? {
    if arity == .upToNextOption { return texts.isEmpty ? nil : parseElements(texts) }
    return texts.count == 1 ? parseArgument(texts[0]) : nil
  }
  /// Every element parsed, or nil when one does not parse.
  static func parseElements(_ texts: [String]) -> [Element]? {
    var out: [Element] = []
    for t in texts {
      guard let v = Element.parseArgument(t) else { return nil }
      out.append(v)
    }
    return out
  }
  public static var expected: String {
    Element.self == String.self ? "a list" : "a comma-separated list, each \(Element.expected)"
  }
  public var settingDescription: String {
    map { ($0 as? Float).map { String(format: "%g", $0) } ?? $0.settingDescription }.joined(separator: ",")
  }
}

extension Optional: SettingValue where Wrapped: SettingValue {
  public static func parseArgument(_ text: String) -> Wrapped?? { Wrapped.parseArgument(text).map { .some($0) } }
  public static func parseArguments(_ texts: [String], arity: SettingArity) -> Wrapped?? {
    Wrapped.parseArguments(texts, arity: arity).map { .some($0) }
  }
  public static var expected: String { Wrapped.expected }
  public static var arity: SettingArity { Wrapped.arity }
  public static var choices: [String]? { Wrapped.choices }
  public var settingDescription: String { map(\.settingDescription) ?? "none" }
}

/// A fixed set of named values (`--method erm|cmac-mmd|…`).
public protocol SettingChoice: SettingValue, RawRepresentable, CaseIterable where RawValue == String {}

extension SettingChoice {
  public static func parseArgument(_ text: String) -> Self? { Self(rawValue: text) }
  public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
  public static var choices: [String]? { allCases.map(\.rawValue) }
  public var settingDescription: String { rawValue }
}

/// Type-erased view of a ``Setting`` for the reflection below.
protocol AnySetting {
  var help: String { get }
  var flag: String? { get }
  var valueDescription: String { get }
  var ruleDescription: String? { get }
  var arity: SettingArity { get }
  var choices: [String]? { get }
  var expected: String { get }
  /// The problem of `other`'s value under this declaration's check ("in 1…10000, got 0").
  func problem(of other: Any) -> (rule: String, value: String)?
  /// The JSON value of the arguments given to the flag, or what is wrong with them ("must be
  /// in 1…10000, got 0", "'abc' is not an integer").
  func jsonValue(arguments: [String]) -> Result<Any, SettingArgumentError>
}

extension Setting: AnySetting {
  var valueDescription: String { wrappedValue.settingDescription }
  var ruleDescription: String? { check?.rule }
  var arity: SettingArity { arityOverride ?? Value.arity }
  var choices: [String]? { Value.choices }
  var expected: String { Value.expected }

  func problem(of other: Any) -> (rule: String, value: String)? {
    guard let check, let other = other as? Setting<Value>, !check.accepts(other.wrappedValue) else { return nil }
    return (check.rule, other.wrappedValue.settingDescription)
  }

  func jsonValue(arguments: [String]) -> Result<Any, SettingArgumentError> {
    guard let value = Value.parseArguments(arguments, arity: arity) else {
      return .failure(SettingArgumentError(": '\(arguments.joined(separator: " "))' is not \(Value.expected)"))
    }
    if let check, !check.accepts(value) {
      return .failure(SettingArgumentError(" must be \(check.rule), got \(value.settingDescription)"))
    }
    // JSON has no NaN or infinity: a value it cannot hold is refused by name, never dropped.
    guard let data = try? JSONEncoder().encode(value),
      let json = try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
    else {
      return .failure(SettingArgumentError(" must be a finite number, got \(value.settingDescription)"))
    }
    return .success(json)
  }
}

/// A configuration whose options are ``Setting``s (and nested groups of them, e.g. `cmac`), read
/// over its defaults and from the command line by reflection.
public protocol SettingGroup: Codable, Sendable {
  /// The configuration with every default.
  static var defaults: Self { get }
}

/// One setting of a group, found by reflection: its JSON key path and flag.
public struct SettingEntry {
  /// `["cmac", "sigma"]`.
  public let path: [String]
  /// `cmac-sigma`.
  public let flag: String
  public let help: String
  public let defaultDescription: String
  public let rule: String?
  public let choices: [String]?
  public let arity: SettingArity
  let setting: AnySetting
}

extension SettingGroup {
  /// Every setting of the group, nested groups' flags prefixed with their name.
  public static var settingEntries: [SettingEntry] { entries(of: defaults, path: [], prefix: "") }

  static func entries(of value: Any, path: [String], prefix: String) -> [SettingEntry] {
    Mirror(reflecting: value).children.flatMap { child -> [SettingEntry] in
      guard let label = child.label.map({ $0.hasPrefix("_") ? String($0.dropFirst()) : $0 }) else { return [] }
      if let s = child.value as? AnySetting {
        return [
          SettingEntry(
            path: path + [label], flag: prefix + (s.flag ?? kebabCase(label)), help: s.help,
            defaultDescription: s.valueDescription, rule: s.ruleDescription, choices: s.choices, arity: s.arity,
            setting: s)
        ]
      }
      if child.value is any SettingGroupMember {
        return entries(of: child.value, path: path + [label], prefix: prefix + kebabCase(label) + "-")
      }
      return []
    }
  }

  /// The JSON keys the group accepts at its top level.
  public static var settingKeys: [String] { settingKeys(of: defaults) }

  /// The JSON keys of a group or nested member `value`.
  public static func settingKeys(of value: Any) -> [String] {
    Mirror(reflecting: value).children.compactMap { $0.label.map { $0.hasPrefix("_") ? String($0.dropFirst()) : $0 } }
  }

  /// "--epochs must be in 1…10000, got 0" for every setting whose value fails its declared check.
  public func settingProblems() -> [String] {
    func walk(_ mine: Any, _ declared: Any, prefix: String) -> [String] {
      zip(Mirror(reflecting: mine).children, Mirror(reflecting: declared).children).flatMap { m, d -> [String] in
        guard let label = d.label.map({ $0.hasPrefix("_") ? String($0.dropFirst()) : $0 }) else { return [] }
        if let s = d.value as? AnySetting {
          return s.problem(of: m.value).map {
            ["--\(prefix + (s.flag ?? kebabCase(label))) must be \($0.rule), got \($0.value)"]
          } ?? []
        }
        if d.value is any SettingGroupMember { return walk(m.value, d.value, prefix: prefix + kebabCase(label) + "-") }
        return []
      }
    }
    return walk(self, Self.defaults, prefix: "")
  }

  /// The group's JSON object with every default.
  public static func defaultObject() throws -> [String: Any] {
    let data = try JSONEncoder().encode(defaults)
    return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
  }

  /// The group read from `object` laid over the defaults (nested objects merged key by key). A
  /// key the defaults do not have is refused (``UnknownKeyError``), naming its path and the
  /// nearest known key: a misspelled option is never dropped silently.
  public static func decode(overDefaults object: [String: Any]) throws -> Self {
    let defaults = try defaultObject()
    try checkKeys(object, against: defaults, path: [])
    let merged = mergeJSON(defaults, object)
    let data = try JSONSerialization.data(withJSONObject: merged)
    return try JSONDecoder().decode(Self.self, from: data)
  }

  /// Lays `--flag value` arguments over `object` (the configuration file's JSON, or empty).
  /// Throws ``SettingArgumentError`` naming the flag and what was expected; an unknown flag is
  /// named with the nearest known one.
  /// With `only`, a flag whose top-level key is not in it is refused as not applying to
  /// `context` (e.g. a classification option given to `fairmed pretrain`).
  public static func apply(
    arguments: [String], to object: inout [String: Any], only: Set<String>? = nil, context: String = ""
  ) throws {
    let entries = settingEntries
    var byFlag: [String: SettingEntry] = [:]
    for e in entries { byFlag[e.flag] = e }
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      guard argument.hasPrefix("--"), argument.count > 2 else {
        throw SettingArgumentError("unexpected argument '\(argument)'")
      }
      var name = String(argument.dropFirst(2)), inline: String?
      if let eq = name.firstIndex(of: "=") {
        inline = String(name[name.index(after: eq)...])
        name = String(name[..<eq])
      }
      var entry = byFlag[name], negated = false
      if entry == nil, name.hasPrefix("no-"), let e = byFlag[String(name.dropFirst(3))], e.arity == .flag {
        entry = e
        negated = true
      }
      guard let entry else {
        let near = nearestName(name, in: Array(byFlag.keys)).map { " (did you mean '--\($0)'?)" } ?? ""
        throw SettingArgumentError("unknown option '--\(name)'\(near)")
      }
      if let only, let key = entry.path.first, !only.contains(key) {
        throw SettingArgumentError("--\(name) does not apply to \(context)")
      }
      i += 1
      var values: [String]
      switch entry.arity {
      case .flag:
        guard inline == nil else { throw SettingArgumentError("--\(name) takes no value") }
        values = [negated ? "false" : "true"]
      case .one:
        if let inline {
          values = [inline]
        } else {
          guard i < arguments.count else {
            throw SettingArgumentError("--\(name) needs a value (\(entry.setting.expected))")
          }
          values = [arguments[i]]
          i += 1
        }
      case .upToNextOption:
        values = inline.map { [$0] } ?? []
        while i < arguments.count && !(arguments[i].hasPrefix("--") && arguments[i].count > 2) {
          values.append(arguments[i])
          i += 1
        }
      }
      switch entry.setting.jsonValue(arguments: values) {
      case .success(let json): setJSON(&object, path: entry.path, json)
      case .failure(let problem): throw SettingArgumentError("--\(name)" + problem.description)
      }
    }
  }

  /// `--help` lines: flag, what it takes, help, choices and the default, each shown once,
  /// wrapped to `width` columns under the flag.
  public static func helpText(width: Int = 78, only: Set<String>? = nil) -> String {
    settingEntries.filter { e in only.map { e.path.first.map($0.contains) ?? false } ?? true }.map { e in
      let value: String
      switch e.arity {
      case .flag: value = ""
      case .one: value = " <\(e.choices == nil ? kebabCase(e.path.last ?? "value") : "choice")>"
      case .upToNextOption: value = " <\(kebabCase(e.path.last ?? "value"))> ..."
      }
      var text = e.help
      if let choices = e.choices { text += " One of: \(choices.joined(separator: ", "))." }
      if e.arity == .flag {
        text += e.defaultDescription == "true" ? " (default: on; --no-\(e.flag) turns it off)" : " (default: off)"
      } else if e.defaultDescription != "none" && !e.defaultDescription.isEmpty {
        text += " (default: \(e.defaultDescription))"
      }
      return "  --\(e.flag)\(value)\n" + wrapWords(text, width: width, indent: "      ")
    }.joined(separator: "\n")
  }
}

/// `text` broken at spaces into lines of at most `width` columns, each starting with `indent`.
func wrapWords(_ text: String, width: Int, indent: String) -> String {
  var lines: [String] = [], line = ""
  for word in text.split(separator: " ") {
    if !line.isEmpty && indent.count + line.count + 1 + word.count > width {
      lines.append(indent + line)
      line = ""
    }
    line += (line.isEmpty ? "" : " ") + word
  }
  if !line.isEmpty { lines.append(indent + line) }
  return lines.joined(separator: "\n")
}

/// Refuses keys of `object` that `reference` (a defaults object) lacks, descending into objects.
func checkKeys(_ object: [String: Any], against reference: [String: Any], path: [String]) throws {
  for key in object.keys.sorted() {
    guard let known = reference[key] else {
      throw UnknownKeyError(path: path + [key], message: unknownKeyMessage(key, known: Array(reference.keys)))
    }
    if let inner = object[key] as? [String: Any], let knownInner = known as? [String: Any] {
      try checkKeys(inner, against: knownInner, path: path + [key])
    }
  }
}

/// A key a configuration does not have: "key 'cmac.sigmaa': unknown key 'sigmaa' (did you mean 'sigma'?)".
public struct UnknownKeyError: Error, CustomStringConvertible, Sendable {
  public let path: [String]
  public let message: String
  public var description: String { "key '\(path.joined(separator: "."))': \(message)" }
}

/// Marks a nested struct of settings (e.g. `cmac`) so reflection descends into it.
public protocol SettingGroupMember {}

/// A bad command-line setting: the message names the flag and what was expected.
public struct SettingArgumentError: Error, CustomStringConvertible, LocalizedError, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
  public var errorDescription: String? { description }
}

/// `learningRate` → `learning-rate`.
public func kebabCase(_ name: String) -> String {
  var out = ""
  for c in name {
    if c.isUppercase {
      if !out.isEmpty { out.append("-") }
      out.append(contentsOf: c.lowercased())
    } else {
      out.append(c)
    }
  }
  return out
}

/// `b` laid over `a`, objects merged key by key.
public func mergeJSON(_ a: [String: Any], _ b: [String: Any]) -> [String: Any] {
  var out = a
  for (k, v) in b {
    if let inner = v as? [String: Any], let outer = out[k] as? [String: Any] {
      out[k] = mergeJSON(outer, inner)
    } else {
      out[k] = v
    }
  }
  return out
}

/// Sets `value` at a key path, creating objects on the way.
func setJSON(_ object: inout [String: Any], path: [String], _ value: Any) {
  guard let first = path.first else { return }
  if path.count == 1 {
    object[first] = value
    return
  }
  var inner = object[first] as? [String: Any] ?? [:]
  setJSON(&inner, path: Array(path.dropFirst()), value)
  object[first] = inner
}
