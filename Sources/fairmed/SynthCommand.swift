import ArgumentParser
import Datasets
import SyntheticData
import Foundation

/// `fairmed synth derm|fundus|chest`: writes the synthetic benchmarks in the real datasets' layouts
/// (chest: a generic manifest).
struct SynthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract: "Write a synthetic benchmark with controllable demographic bias (a real dataset's layout or a manifest).",
    subcommands: [SynthDermCommand.self, SynthFundusCommand.self, SynthChestCommand.self])
}

/// Parses "64" or "600x450".
func parseSize(_ text: String) throws -> (Int, Int) {
  let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
  guard parts.count == 1 || parts.count == 2, parts.allSatisfy({ $0 > 0 }) else {
    throw ValidationError("--size must be N or WxH, got '\(text)'")
  }
  return (parts[0], parts.count == 2 ? parts[1] : parts[0])
}

/// Parses repeated "GROUP=VALUE" options into a table.
func parseTable(_ items: [String], option: String) throws -> [String: Double] {
  var out: [String: Double] = [:]
  for item in items {
    guard let eq = item.lastIndex(of: "="), let v = Double(item[item.index(after: eq)...]) else {
      throw ValidationError("\(option) expects GROUP=VALUE, got '\(item)'")
    }
    out[String(item[..<eq])] = v
  }
  return out
}
