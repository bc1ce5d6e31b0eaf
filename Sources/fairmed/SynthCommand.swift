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

/// `fairmed synth KIND --corpus`: the modality's balanced captioned corpus, refusing the
/// benchmark-only options that were `given` (flag name, whether set).
func writeSyntheticCorpus(
  _ kind: SyntheticModality, n: Int, size: String, seed: UInt64, output: OutputOptions<some OutputWording>,
  given: [(String, Bool)]
) throws {
  let set = given.filter(\.1).map(\.0)
  guard set.isEmpty else {
    throw ValidationError("--corpus writes a balanced corpus: \(set.joined(separator: ", ")) does not apply")
  }
  guard (1...SyntheticModality.maxImages).contains(n) else {
    throw ValidationError("--n must be in 1…\(SyntheticModality.maxImages), got \(n)")
  }
  let (w, h) = try parseSize(size)
  guard w == h else { throw ValidationError("--corpus images are square: give --size N, got \(size)") }
  try output.check()
  let start = Date()
  let positives = try SyntheticCorpus.write(
    kind, count: n, size: w, seed: seed, to: output.out, replacing: output.overwrite)
  print(
    "wrote a corpus of \(n) captioned images (\(positives) positive) of \(w)x\(w) to \(output.out)/\(SyntheticCorpus.manifest) in \(String(format: "%.1f", Date().timeIntervalSince(start)))s"
  )
}
