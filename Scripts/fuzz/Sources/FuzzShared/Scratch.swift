import Foundation

/// A per-process scratch file on a RAM disk where one is available, for readers that take a path.
public enum Scratch {
  public static let directory: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = base + "/fairmed-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }()

  /// Writes `bytes` to `name` in the scratch folder and returns its path.
  public static func file(_ bytes: UnsafeRawBufferPointer, _ name: String) -> String {
    let path = directory + "/" + name
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
  }
}
