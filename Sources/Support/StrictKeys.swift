import Foundation

/// A coding key of any name, for reading the keys an object actually has.
public struct AnyCodingKey: CodingKey, Sendable {
  public let stringValue: String
  public let intValue: Int?
  public init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
  public init(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

/// The stored-property names of `value`: the keys of a synthesized `Codable` conformance, read
/// off the type itself so that the list of known keys is never written a second time.
public func storedPropertyNames(of value: Any) -> [String] {
  Mirror(reflecting: value).children.compactMap(\.label)
}

/// Refuses an object with a key outside `known` (a misspelled key in a file the user wrote would
/// otherwise be dropped silently, its option left at the default): a `DecodingError` at that key
/// whose message names the key and the nearest known one.
public func refuseUnknownKeys(_ decoder: Decoder, known: [String]) throws {
  guard let c = try? decoder.container(keyedBy: AnyCodingKey.self) else { return }
  for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
    throw DecodingError.dataCorrupted(
      .init(codingPath: c.codingPath + [key], debugDescription: unknownKeyMessage(key.stringValue, known: known)))
  }
}

/// "unknown key 'lamda' (did you mean 'lambda'?)", or the known keys when none is close.
public func unknownKeyMessage(_ key: String, known: [String]) -> String {
  if let near = nearestName(key, in: known) { return "unknown key '\(key)' (did you mean '\(near)'?)" }
  return "unknown key '\(key)' (known: \(known.sorted().joined(separator: ", ")))"
}

/// The name of `candidates` closest to `name` in edit distance (case-insensitive), when it is
/// close enough to be a misspelling: at most 2 edits or a third of the longer name, and fewer edits than the shorter name has letters.
public func nearestName(_ name: String, in candidates: [String]) -> String? {
  let a = Array(name.lowercased())
  var best: (String, Int)?
  for candidate in candidates {
    let b = Array(candidate.lowercased())
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
      var previous = row[0]
      row[0] = i
      for j in stride(from: 1, through: b.count, by: 1) {
        let current = row[j]
        row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
        previous = current
      }
    }
    let d = a.isEmpty ? b.count : row[b.count]
    if d <= max(2, max(a.count, b.count) / 3), d < min(a.count, b.count), d < (best?.1 ?? Int.max) {
      best = (candidate, d)
    }
  }
  return best?.0
}
