import Foundation
import Testing

// Helpers every test target shares (each test target depends on this one): fixture paths, fresh
// folders, the `.slow` tag, tolerance checks (Closeness.swift) and the audits' synthetic data
// (SyntheticAudit.swift). Compiled in Swift 6 mode.

extension Tag {
  /// Suites that train models, kill or launch `fairmed` processes, or run the large command-line
  /// matrices: most of the suite's time. `Scripts/test --fast` skips them, reading their names off
  /// the sources, so the tag goes in the suite's `@Suite(…)` attribute (never on a single `@Test`:
  /// split such tests into a suite of their own).
  @Tag public static var slow: Self
}

/// The committed fixture `name` in the `Fixtures` folder beside the calling test file.
public func fixturePath(_ name: String, testFile: String = #filePath) -> String {
  URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(
    name
  ).path
}

/// The committed fixture `name` of another test target (`Tests/<target>/Fixtures/<name>`), for
/// fixtures two targets read.
public func fixturePath(_ name: String, of target: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(target).appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// The JSON object in the file at `path`.
public func jsonObject(atPath path: String) throws -> [String: Any] {
  let value = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
  guard let object = value as? [String: Any] else { throw NotAJSONObject(path: path) }
  return object
}

/// A JSON file whose top level is not an object.
public struct NotAJSONObject: Error, CustomStringConvertible {
  public let path: String
  public var description: String { "\(path): the top level is not a JSON object" }
}

/// A new, empty temporary folder named after `prefix` (never reused across runs); the caller
/// removes it.
public func freshDirectory(_ prefix: String) -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-\(prefix)-\(UUID().uuidString)")
    .path
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// A suite trait that removes the folder at `path()` once the whole suite has run (however it
/// ended): for a folder the suite's tests share, which no single test may remove.
public struct RemovesFolderAfterSuite: SuiteTrait, TestScoping {
  let path: @Sendable () -> String

  public func provideScope(
    for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
  ) async throws {
    defer { try? FileManager.default.removeItem(atPath: path()) }
    try await function()
  }
}

extension Trait where Self == RemovesFolderAfterSuite {
  /// Removes the suite's shared folder `path` after the suite.
  public static func removingFolder(_ path: @autoclosure @escaping @Sendable () -> String) -> Self {
    RemovesFolderAfterSuite(path: path)
  }
}
