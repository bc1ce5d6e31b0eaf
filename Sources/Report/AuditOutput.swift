import Foundation
import Fairness

/// Writes the four audit files atomically: everything is rendered in memory, written into a
/// temporary sibling folder, then moved into place by rename. On any error nothing partial is
/// left in the output folder.
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
    let fm = FileManager.default
    let parent = directory.deletingLastPathComponent()
    do {
      try fm.createDirectory(at: parent, withIntermediateDirectories: true)
    } catch {
      throw AuditError.io("cannot create \(parent.path): \(error.localizedDescription)")
    }
    let staging = parent.appendingPathComponent(".\(directory.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
    defer { try? fm.removeItem(at: staging) }
    do {
      try fm.createDirectory(at: staging, withIntermediateDirectories: false)
      for (name, text) in files {
        try Data(text.utf8).write(to: staging.appendingPathComponent(name))
      }
    } catch {
      throw AuditError.io("cannot write the audit files next to \(directory.path): \(error.localizedDescription)")
    }
    var isDirectory: ObjCBool = false
    if !fm.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
      guard rename(staging.path, directory.path) == 0 else {
        throw AuditError.io("cannot move the audit into \(directory.path): \(String(cString: strerror(errno)))")
      }
      return
    }
    guard isDirectory.boolValue else { throw AuditError.io("\(directory.path) exists and is not a folder") }
    for (name, _) in files {  // each rename atomically replaces one file
      let from = staging.appendingPathComponent(name).path, to = directory.appendingPathComponent(name).path
      guard rename(from, to) == 0 else {
        throw AuditError.io("cannot move \(name) into \(directory.path): \(String(cString: strerror(errno)))")
      }
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

  public init(predictions: URL, columns: AuditColumns, groups: GroupingSpec, configuration: AuditConfiguration, output: URL) {
    self.predictions = predictions; self.columns = columns; self.groups = groups
    self.configuration = configuration; self.output = output
  }
}

/// The library entry point of `fairmed audit`: load, audit, write.
public enum AuditPipeline {
  @discardableResult
  public static func run(_ request: AuditRequest) throws -> AuditResult {
    let input = try AuditInput.load(request.predictions, columns: request.columns, groups: request.groups)
    var configuration = request.configuration
    if configuration.loadValidation == nil {
      let columns = request.columns
      configuration.loadValidation = { path in try AuditInput.loadLabelsAndScores(URL(fileURLWithPath: path), columns: columns) }
    }
    let result = try Audit.run(input, configuration: configuration)
    try AuditOutput.write(result, to: request.output)
    return result
  }
}
