import Foundation

/// Writes that never leave a half-written file or folder behind.
public enum AtomicFile {
  /// Writes `data` to a temporary sibling, then renames it over `path`.
  public static func write(_ data: Foundation.Data, to path: String) throws {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw TrainingError.file(path, "cannot write: \(error.localizedDescription)")
    }
  }

  /// Fills a fresh temporary sibling folder with `fill`, then swaps it in for `directory`
  /// (the previous folder stays as `directory.old` until the swap succeeded).
  public static func replaceDirectory(_ directory: String, _ fill: (String) throws -> Void) throws {
    let fm = FileManager.default
    let staging = directory + ".new"
    let old = directory + ".old"
    try? fm.removeItem(atPath: staging)
    try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
    do { try fill(staging) } catch {
      try? fm.removeItem(atPath: staging)
      throw error
    }
    try? fm.removeItem(atPath: old)
    if fm.fileExists(atPath: directory) { try fm.moveItem(atPath: directory, toPath: old) }
    try fm.moveItem(atPath: staging, toPath: directory)
    try? fm.removeItem(atPath: old)
  }

  /// The folder to resume from: `directory`, or `directory.old` when a swap was interrupted.
  public static func existingDirectory(_ directory: String) -> String? {
    let fm = FileManager.default
    if fm.fileExists(atPath: directory + "/trainer_state.json") { return directory }
    if fm.fileExists(atPath: directory + ".old/trainer_state.json") { return directory + ".old" }
    return nil
  }
}
