import Foundation

/// Named points where fault-injection tests kill the process: `FAIRMED_KILL_AT=POINT:N` sends
/// SIGKILL to this process the N-th time POINT is reached (unset: nothing happens). Under an MPI
/// launcher, `FAIRMED_KILL_RANK=R` limits it to rank R.
public enum FaultInjection {
  static let target: (point: String, count: Int)? = {
    let env = ProcessInfo.processInfo.environment
    // A malformed value is refused by `validateEnvironment()` at start-up; read here, it kills nothing.
    guard let spec = try? parseKillSpec(env["FAIRMED_KILL_AT"]) else { return nil }
    switch EnvironmentVariable.killRank.check(env["FAIRMED_KILL_RANK"]) {
    case .failure: return nil
    case .success(let rank?):
      let launcherRank = (env["OMPI_COMM_WORLD_RANK"] ?? env["PMI_RANK"] ?? env["PMIX_RANK"]).flatMap { Int($0) }
      guard launcherRank == rank else { return nil }
    case .success(nil): break
    }
    return spec
  }()
  static let hits = SharedCounter()

  /// Marks `name`; kills the process here when `FAIRMED_KILL_AT` asks for this hit.
  @inline(__always)
  public static func point(_ name: String) {
    guard let t = target, t.point == name, hits.increment() == t.count else { return }
    kill(getpid(), SIGKILL)
  }
}
