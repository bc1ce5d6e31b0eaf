import Foundation

/// The one rule of every command that writes where the user says (`--out`): a new path, an
/// empty folder or an empty file is written; an existing non-empty file or folder is refused
/// unless the user passes `--overwrite` (a run or study folder may instead be continued with
/// `--resume`). Nothing a user has is replaced silently.
public enum OutputPath {
  /// What the folder at `path` holds, for messages ("'a.csv', 'b' and 3 more"); nil when it does
  /// not exist, is not a folder, or is empty (entries whose names start with "." aside).
  public static func contents(_ path: String) -> String? {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue,
      let names = try? FileManager.default.contentsOfDirectory(atPath: path)
    else { return nil }
    let shown = names.filter { !$0.hasPrefix(".") }.sorted()
    guard !shown.isEmpty else { return nil }
    let listed = shown.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
    return shown.count > 3 ? "\(listed) and \(shown.count - 3) more" : listed
  }

  /// Refuses `path` when it is a non-empty file or folder, unless `overwrite`. `resumable`: the
  /// command can also continue what the folder holds, and the message says `--resume` too.
  /// A folder swap that a kill interrupted (``AtomicWrite/directory(_:_:)``) is finished first.
  public static func check(_ path: String, overwrite: Bool, option: String = "--out", resumable: Bool = false) throws {
    AtomicWrite.recover(path)
    guard !overwrite else { return }
    let fm = FileManager.default
    var isFolder: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isFolder) else { return }
    let what: String
    if isFolder.boolValue {
      guard let held = contents(path) else { return }
      what = "already holds \(held)"
    } else {
      var st = stat()
      let size = stat(path, &st) == 0 ? Int(st.st_size) : 1
      guard size > 0 else { return }
      what = "already exists (\(size) bytes)"
    }
    let choices =
      resumable ? "pass --resume to continue it, --overwrite to replace it," : "pass --overwrite to replace it,"
    throw FileWriteError(path: path, "\(what): \(choices) or choose a new \(option)")
  }

  /// Removes the entries `names` of `directory` that exist (what a command wrote there before),
  /// for `--overwrite`; other entries stay.
  public static func remove(_ names: [String], in directory: String) throws {
    let fm = FileManager.default
    for name in names {
      let path = directory + "/" + name
      var isFolder: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
      do { try fm.removeItem(atPath: path) } catch {
        throw FileWriteError(path: path, "cannot remove it to overwrite: \(error.localizedDescription)")
      }
    }
  }
}
