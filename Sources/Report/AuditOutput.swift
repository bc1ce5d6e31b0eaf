import Foundation
import Fairness
import Support

/// Writes the four audit files as one folder: rendered in memory, written into a staging
/// sibling, then swapped in whole, so a reader never sees new and old files mixed.
public enum AuditOutput {
  /// File name → contents.
  public static func render(_ result: AuditResult) -> [(String, String)] {
    [
      ("audit.json", AuditJSON.document(result).serialized() + "\n"),
      ("groups.csv", GroupsCSV.text(result)),
      ("audit.md", MarkdownReport.text(result)),
      ("audit.html", HTMLReport.text(result)),
    ]
  }

  public static func write(_ result: AuditResult, to directory: URL) throws {
    try write(files: render(result), to: directory)
  }

  static func write(files: [(String, String)], to directory: URL) throws {
    let names = Set(files.map(\.0))
    if let present = try? FileManager.default.contentsOfDirectory(atPath: directory.path),
      let other = present.first(where: { !names.contains($0) })
    {
      throw AuditError.io(
        "\(directory.path) holds '\(other)', which is not an audit file: choose an empty or new --out")
    }
    do {
      try AtomicWrite.directory(directory.path) { staging in
        for (name, text) in files { try AtomicWrite.file(text, to: staging + "/" + name) }
      }
    } catch let e as FileWriteError {
      throw AuditError.io(e.description)
    }
  }
}

/// One audit request, as the `fairmed audit` command builds it.
public struct AuditRequest: Sendable {
  public var predictions: URL
  public var columns: AuditColumns
  public var groups: GroupingSpec
  public var configuration: AuditConfiguration
  public var output: URL
  /// The command as given (`CommandLine.arguments`), recorded in every output; nil: none.
  public var commandLine: [String]?

  public init(
    predictions: URL, columns: AuditColumns, groups: GroupingSpec, configuration: AuditConfiguration, output: URL,
    commandLine: [String]? = nil
  ) {
    self.predictions = predictions; self.columns = columns; self.groups = groups
    self.configuration = configuration; self.output = output; self.commandLine = commandLine
  }
}

/// The library entry point of `fairmed audit`: load, audit, write.
public enum AuditPipeline {
  @discardableResult
  public static func run(_ request: AuditRequest) throws -> AuditResult {
    var timer = PhaseTimer()
    let input = try AuditInput.load(request.predictions, columns: request.columns, groups: request.groups)
    timer.mark("read CSV + groups")
    var configuration = request.configuration
    if configuration.loadValidation == nil {
      let columns = request.columns
      configuration.loadValidation = { path in
        try AuditInput.loadLabelsAndScores(URL(fileURLWithPath: path), columns: columns)
      }
    }
    var result = try Audit.run(input, configuration: configuration)
    timer.mark("audit")
    do {
      result.provenance?.inputSHA256 = try SHA256.hex(file: request.predictions.path)
    } catch let e as FileReadError {
      throw AuditError.io(e.description)
    }
    result.provenance?.commandLine = request.commandLine
    timer.mark("sha-256")
    let files = AuditOutput.render(result)
    timer.mark("render")
    try AuditOutput.write(files: files, to: request.output)
    timer.mark("write")
    result.timings = [timer.phases[0]] + result.timings + Array(timer.phases[2...])
    return result
  }

  /// The lines `fairmed audit` prints: rows, groups, threshold, ΔTPR and where the files went.
  public static func headline(_ result: AuditResult, out: String) -> String {
    let names = result.intersectional.groups.map(\.name)
    var lines = [
      "audited \(result.rowsUsed) rows, \(names.count) groups; threshold \(result.threshold.rule) = \(result.threshold.value)"
    ]
    if let d = result.intersectional.aggregates[.deltaTPR], let v = d.value, let hi = d.maxGroup, let lo = d.minGroup {
      lines.append(String(format: "ΔTPR %.3f (%@ vs %@)", v, names[hi], names[lo]))
    }
    lines.append("wrote \(out)/audit.json, groups.csv, audit.md, audit.html")
    return lines.joined(separator: "\n")
  }
}
