import Foundation

/// Named points where fault-injection tests kill the process: `FAIRMED_KILL_AT=POINT:N` sends
/// SIGKILL to this process the N-th time POINT is reached (unset: nothing happens). Under an MPI
/// launcher, `FAIRMED_KILL_RANK=R` limits it to rank R.
public enum FaultInjection {
  static let target: (point: String, count: Int)? = {
    let env = ProcessInfo.processInfo.environment
    guard let spec = env["FAIRMED_KILL_AT"],
          let colon = spec.lastIndex(of: ":"), let n = Int(spec[spec.index(after: colon)...]), n > 0 else { return nil }
    if let rank = env["FAIRMED_KILL_RANK"] {
      let launcherRank = env["OMPI_COMM_WORLD_RANK"] ?? env["PMI_RANK"] ?? env["PMIX_RANK"]
      guard launcherRank == rank else { return nil }
    }
    return (String(spec[..<colon]), n)
  }()
  static let hits = HitCounter()

  /// Marks `name`; kills the process here when `FAIRMED_KILL_AT` asks for this hit.
  @inline(__always)
  public static func point(_ name: String) {
    guard let t = target, t.point == name, hits.increment() == t.count else { return }
    kill(getpid(), SIGKILL)
  }
}

final class HitCounter: @unchecked Sendable {
  private var n = 0
  private let lock = NSLock()
  func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
