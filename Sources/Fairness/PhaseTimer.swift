import Foundation

/// Wall-clock phase timer.
public struct PhaseTimer: Sendable {
  private var last = DispatchTime.now().uptimeNanoseconds
  public private(set) var phases: [(phase: String, seconds: Double)] = []
  public init() {}
  /// Records the time since the previous mark under `phase`.
  public mutating func mark(_ phase: String) {
    let now = DispatchTime.now().uptimeNanoseconds
    phases.append((phase, Double(now - last) / 1e9))
    last = now
  }
}
