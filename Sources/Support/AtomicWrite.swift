import Foundation

/// A file or folder that could not be written; names the path and the reason.
public struct FileWriteError: Error, CustomStringConvertible, LocalizedError, Equatable {
  public let path: String
  public let reason: String
  public init(path: String, _ reason: String) { self.path = path; self.reason = reason }
  public var description: String { "\(path): \(reason)" }
  public var errorDescription: String? { description }
}

/// Writes that never leave a half-written file or folder where a reader could see it.
public enum AtomicWrite {
  /// Writes `data` to a temporary sibling, then renames it over `path`.
  public static func file(_ data: Data, to path: String) throws {
    try stream(to: path) { f in
      data.isEmpty || data.withUnsafeBytes { fwrite($0.baseAddress, 1, data.count, f) == data.count }
    }
  }

  /// Streams a file through `body` (which returns false when a write failed) into a temporary
  /// sibling, syncs it, then renames it over `path`.
  public static func stream(to path: String, _ body: (UnsafeMutablePointer<FILE>) throws -> Bool) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(uniqueSuffix())")
      .path
    guard let f = fopen(tmp, "wb") else {
      throw FileWriteError(path: path, "cannot create a temporary file beside it: \(String(cString: strerror(errno)))")
    }
    var ok: Bool
    do { ok = try body(f) } catch {
      fclose(f); unlink(tmp)
      throw error
    }
    ok = fflush(f) == 0 && ok
    ok = fsync(fileno(f)) == 0 && ok
    ok = fclose(f) == 0 && ok
    guard ok else {
      let reason = String(cString: strerror(errno))
      unlink(tmp)
      throw FileWriteError(path: path, "write failed: \(reason)")
    }
    FaultInjection.point("file.written")
    guard rename(tmp, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(tmp)
      throw FileWriteError(path: path, "cannot move the written file into place: \(reason)")
    }
  }

  /// Writes UTF-8 `text` atomically.
  public static func file(_ text: String, to path: String) throws { try file(Data(text.utf8), to: path) }

  /// Fills a fresh staging folder beside `directory` with `fill`, then swaps it in whole: a
  /// reader sees the old folder or the new one, never a mix. Staging folders left by a killed
  /// earlier write are removed first.
  public static func directory(_ directory: String, _ fill: (String) throws -> Void) throws {
    let fm = FileManager.default
    let url = URL(fileURLWithPath: directory)
    let parent = url.deletingLastPathComponent(), name = url.lastPathComponent
    do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
      throw FileWriteError(path: parent.path, "cannot create folder: \(error.localizedDescription)")
    }
    recover(directory)
    removeStale(prefixes: [".\(name).staging-"], in: parent)
    let staging = parent.appendingPathComponent(".\(name).staging-\(uniqueSuffix())").path
    let old = previousPath(directory)
    do { try fm.createDirectory(atPath: staging, withIntermediateDirectories: false) } catch {
      throw FileWriteError(path: staging, "cannot create folder: \(error.localizedDescription)")
    }
    do { try fill(staging) } catch {
      try? fm.removeItem(atPath: staging)
      throw error
    }
    FaultInjection.point("directory.filled")
    var isDirectory: ObjCBool = false
    let exists = fm.fileExists(atPath: directory, isDirectory: &isDirectory)
    if exists && !isDirectory.boolValue {
      try? fm.removeItem(atPath: staging)
      throw FileWriteError(path: directory, "exists and is not a folder")
    }
    if exists, rename(directory, old) != 0 {
      let reason = String(cString: strerror(errno))
      try? fm.removeItem(atPath: staging)
      throw FileWriteError(path: directory, "cannot move the previous folder aside: \(reason)")
    }
    FaultInjection.point("directory.moved-aside")
    guard rename(staging, directory) == 0 else {
      let reason = String(cString: strerror(errno))
      if exists { _ = rename(old, directory) }
      throw FileWriteError(path: directory, "cannot move the new folder into place: \(reason)")
    }
    if exists { try? fm.removeItem(atPath: old) }
  }

  /// Finishes a swap that a kill interrupted: puts the previous folder back when the new one
  /// never arrived, or removes it when it did. Call before reading a folder written by
  /// ``directory(_:_:)``.
  public static func recover(_ directory: String) {
    let fm = FileManager.default
    let old = previousPath(directory)
    guard fm.fileExists(atPath: old) else { return }
    if fm.fileExists(atPath: directory) { try? fm.removeItem(atPath: old) } else { _ = rename(old, directory) }
  }

  /// Where ``directory(_:_:)`` keeps the previous folder during a swap.
  static func previousPath(_ directory: String) -> String {
    let url = URL(fileURLWithPath: directory)
    return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).old").path
  }

  /// Removes entries of `folder` whose names start with one of `prefixes`.
  static func removeStale(prefixes: [String], in folder: URL) {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: folder.path) else { return }
    for n in names where prefixes.contains(where: { n.hasPrefix($0) }) {
      try? fm.removeItem(at: folder.appendingPathComponent(n))
    }
  }

  static func uniqueSuffix() -> String {
    "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
  }
}

/// A file that could not be read; names the path and the reason.
public struct FileReadError: Error, CustomStringConvertible, LocalizedError, Equatable {
  public let path: String
  public let reason: String
  public init(path: String, _ reason: String) { self.path = path; self.reason = reason }
  public var description: String { "\(path): \(reason)" }
  public var errorDescription: String? { description }
}

/// The whole file at `path`, read with POSIX calls (Foundation's readers leak a buffer on some
/// inputs under Linux; this one is checked by the fuzzers).
public func readFile(_ path: String) throws -> Data {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw FileReadError(path: path, "cannot open: \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  var st = stat()
  guard fstat(fd, &st) == 0 else { throw FileReadError(path: path, "cannot stat: \(String(cString: strerror(errno)))") }
  guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileReadError(path: path, "is not a regular file") }
  let size = Int(st.st_size)
  var data = Data(count: size)
  let got = data.withUnsafeMutableBytes { raw -> Int in
    guard let base = raw.baseAddress else { return 0 }
    var done = 0
    while done < size {
      let r = read(fd, base + done, size - done)
      if r <= 0 { break }
      done += r
    }
    return done
  }
  guard got == size else { throw FileReadError(path: path, "short read (\(got) of \(size) bytes)") }
  return data
}
