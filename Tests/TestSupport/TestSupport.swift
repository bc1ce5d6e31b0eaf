import Foundation

/// Helpers every test target shares: fixture paths, fresh folders and tolerance checks.

/// The committed fixture `name` in the `Fixtures` folder beside the calling test file.
public func fixturePath(_ name: String, testFile: String = #filePath) -> String {
  URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// A new, empty temporary folder named after `prefix` (never reused across runs).
public func freshDirectory(_ prefix: String) -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-\(prefix)-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// |a − b| ≤ tolerance, with nil matching only nil.
public func isClose(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
  switch (a, b) {
  case (nil, nil): return true
  case let (x?, y?): return abs(x - y) <= tolerance
  default: return false
  }
}

/// The first index where `|a − b| > atol + rtol·|b|` (a count mismatch is index `min(counts)`),
/// or nil when all agree.
public func firstMismatch(_ a: [Float], _ b: [Float], rtol: Float, atol: Float) -> Int? {
  guard a.count == b.count else { return min(a.count, b.count) }
  return a.indices.first { !(abs(a[$0] - b[$0]) <= atol + rtol * abs(b[$0])) }
}
