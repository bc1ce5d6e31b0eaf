import Fairness
import Foundation
import Support

/// The rules for a run folder: nothing a user already has is replaced without `--overwrite`,
/// and `--resume` continues only the run the folder holds.
enum RunFolder {
  /// Options that may change on `--resume`: they change neither the weights' trajectory nor a
  /// choice already made (the epoch selection is incremental, so `--selection` may not change;
  /// the λ selection is made afresh from the members' saved validation predictions).
  static let free: Set<String> = ["logEvery", "loaderThreads", "featureCache", "lambdaDelta", "lambdaMinPositives"]

  /// Checks `directory` before a run writes anything into it; returns what `overwrite` must
  /// clear once data and model have loaded (``clear(_:_:)``).
  static func check(_ directory: String, config: RunConfig, resume: Bool, overwrite: Bool) throws -> [String] {
    guard !(resume && overwrite) else { throw TrainingError.invalidConfig(["give --resume or --overwrite, not both"]) }
    let fm = FileManager.default
    let parts = [
      RunConfig.fileName, "checkpoint", ModelFolderLayout.best, LambdaSelection.membersFolder,
      LambdaSelection.tableFile,
      LambdaSelection.markdownFile,
    ]
    AtomicWrite.recover(directory + "/checkpoint")
    if resume { try requireRun(directory) }
    let isRun = fm.fileExists(atPath: directory + "/" + RunConfig.fileName)
    // Entries named as a run's are a run's only beside its run.json: another tool's best/ is
    // neither removed by --overwrite nor replaced by this run's.
    if !isRun, let foreign = parts.first(where: { fm.fileExists(atPath: directory + "/" + $0) }) {
      throw TrainingError.file(
        directory,
        "holds \(foreign) but no run.json, so not a FairMed run's: FairMed would write its own \(foreign) there; choose another --out"
      )
    }
    let held = parts.filter { fm.fileExists(atPath: directory + "/" + $0) }
    if held.isEmpty, !overwrite, let other = OutputPath.contents(directory) {
      throw TrainingError.file(
        directory,
        "holds \(other) but no FairMed run (no run.json): choose a new or empty --out, or pass --overwrite to write the run into it"
      )
    }
    if !held.isEmpty {
      if overwrite {
        // The run's log and its default image-feature cache go too (a cache of other images must not be read).
        return held + [TrainingLog.fileName, RunConfig.defaultFeatureCacheFolder]
      } else if resume {
        let stored = try RunConfig.load(directory + "/" + RunConfig.fileName)
        let changed = try differences(stored, config)
        guard changed.isEmpty else {
          throw TrainingError.invalidConfig(
            changed.map {
              "--resume: \($0) differs from the stored run.json; resume with the same options, or start again with --overwrite"
            })
        }
      } else {
        throw TrainingError.file(
          directory,
          "already holds a run (\(held.joined(separator: ", "))): pass --resume to continue it or --overwrite to replace it"
        )
      }
    }
    return []
  }

  /// Refuses to resume a folder without `run.json` (written once a run's data and model have
  /// loaded; a run killed before that has nothing to continue).
  static func requireRun(_ directory: String) throws {
    guard !FileManager.default.fileExists(atPath: directory + "/" + RunConfig.fileName) else { return }
    var isFolder: ObjCBool = false
    let state: String
    if !FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) {
      state = "the folder does not exist"
    } else if !isFolder.boolValue {
      state = "it is a file"
    } else if let other = OutputPath.contents(directory) {
      state = "it holds \(other) but no run.json"
    } else {
      state = "the folder is empty"
    }
    throw TrainingError.file(
      directory,
      "holds no FairMed run to resume (\(state); --resume continues the run whose run.json `fairmed train` writes there once data and model have loaded): drop --resume to start a new run"
    )
  }

  /// Removes `parts` of an overwritten run and creates the folder.
  static func clear(_ directory: String, _ parts: [String]) throws {
    let fm = FileManager.default
    for p in parts { try? fm.removeItem(atPath: directory + "/" + p) }
    do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
      throw TrainingError.file(directory, "cannot create the run folder: \(error.localizedDescription)")
    }
  }

  /// The options (by flag) whose values differ between the stored and the new configuration.
  static func differences(_ stored: RunConfig, _ new: RunConfig) throws -> [String] {
    func fields(_ c: RunConfig) throws -> [String: Any] {
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as? [String: Any] ?? [:]
    }
    let a = try fields(stored), b = try fields(new)
    return Set(a.keys).union(b.keys).subtracting(free).sorted().compactMap { key in
      let x = a[key].map { "\($0)" } ?? "unset", y = b[key].map { "\($0)" } ?? "unset"
      guard (a[key] as? NSObject) != (b[key] as? NSObject) else { return nil }
      return "\(flag(key)) (\(x) → \(y))"
    }
  }

  /// The command-line spelling of a `run.json` key: `batchSize` → `--batch-size`.
  static func flag(_ key: String) -> String {
    if key == "learningRate" { return "--lr" }
    var out = "--"
    for c in key {
      if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
    }
    return out
  }
}

extension RunConfig {
  /// The options (by flag, with both values) that differ from `stored` (a `run.json`), ignoring
  /// those a resumed run may change (``RunFolder/free``), with this configuration's mode-dependent
  /// defaults filled in as `run.json` stores them: what `--resume` refuses.
  public func changes(since stored: RunConfig) throws -> [String] {
    try RunFolder.differences(stored.resolved, resolved)
  }
}
