import Foundation
import Support

/// Where a run reports progress: a live bar on a terminal (plain lines otherwise), and every
/// step and epoch as one JSON object per line in `metrics.jsonl`.
public final class TrainingLog {
  /// The file a run folder keeps its log records in.
  public static let fileName = "metrics.jsonl"
  private var jsonl: FileHandle?
  private let metricsPath: String?
  private let isTTY: Bool
  private let quiet: Bool
  /// Put before every console line (a λ path's member: "λ 0.1: ").
  private let prefix: String
  private var started = Date()
  private var lastDraw = Date.distantPast

  /// `metricsPath` nil = no file; `quiet` silences the console (tests). Nothing is written
  /// until the trainer opens the file with ``truncate(toStep:)``.
  public init(metricsPath: String?, quiet: Bool = false, prefix: String = "") throws {
    self.metricsPath = metricsPath
    isTTY = isatty(STDERR_FILENO) == 1
    self.quiet = quiet
    self.prefix = prefix
  }

  /// Whether the console is silenced.
  public var isQuiet: Bool { quiet }

  deinit { try? jsonl?.close() }

  /// A log that writes nothing (the ranks other than 0 of a data-parallel run).
  public static var silent: TrainingLog { TrainingLog(quietNoFile: ()) }
  private init(quietNoFile: ()) {
    metricsPath = nil
    isTTY = false
    quiet = true
    prefix = ""
  }

  /// Appends one record to `metrics.jsonl`.
  public func record(_ fields: [String: Any]) {
    guard let jsonl,
      let data = try? JSONSerialization.data(withJSONObject: fields.mapValues(Self.jsonSafe), options: [.sortedKeys])
    else { return }
    jsonl.write(data)
    jsonl.write(Data("\n".utf8))
  }

  static func jsonSafe(_ v: Any) -> Any {
    if let d = v as? Double { return d.isFinite ? d : NSNull() }
    if let f = v as? Float { return f.isFinite ? Double(f) : NSNull() }
    if let o = v as? Double?, o == nil { return NSNull() }
    return v
  }

  /// Keeps only the records up to optimiser step `step` (0: none), so a resumed run logs each
  /// step once.
  public func truncate(toStep step: Int) throws {
    guard let metricsPath else { return }
    let text = (try? String(contentsOfFile: metricsPath, encoding: .utf8)) ?? ""
    let kept =
      step == 0
      ? []
      : text.split(separator: "\n").filter { line in
        guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let s = record["step"] as? Int
        else { return false }
        return s <= step
      }
    // The kept records replace the file at once (a kill here leaves the old log or the new one,
    // never an empty one); the handle then appends to the new file.
    try? jsonl?.close()
    jsonl = nil
    do {
      try AtomicWrite.file(Data(kept.map { $0 + "\n" }.joined().utf8), to: metricsPath)
    } catch {
      throw TrainingError.file(metricsPath, "cannot rewrite the log for the resumed run: \(error)")
    }
    guard let h = FileHandle(forWritingAtPath: metricsPath) else {
      throw TrainingError.file(metricsPath, "cannot open for writing")
    }
    h.seekToEndOfFile()
    jsonl = h
  }

  /// Marks the start of the timed part (ETA).
  public func start() { started = Date() }

  /// A training step: a redrawn bar on a terminal, a line every `every` steps otherwise.
  public func step(epoch: Int, epochs: Int, step: Int, total: Int, images: Int, terms: [String: Double], every: Int) {
    guard !quiet else { return }
    let elapsed = Date().timeIntervalSince(started)
    let rate = Double(images) / max(elapsed, 1e-9)
    let eta = elapsed / Double(max(step, 1)) * Double(max(total - step, 0))
    let loss = terms.keys.sorted().filter { $0.hasPrefix("l_") || $0 == "loss" }
      .map { String(format: "%@ %.4f", $0, terms[$0]!) }.joined(separator: "  ")
    let text =
      prefix
      + String(
        format: "epoch %d/%d  step %d/%d  %@  %.1f img/s  ETA %@", epoch + 1, epochs, step, total, loss, rate,
        Self.clock(eta))
    if isTTY {
      guard Date().timeIntervalSince(lastDraw) > 0.1 || step == total else { return }
      lastDraw = Date()
      let width = 24, filled = Int(Double(width) * Double(step) / Double(max(total, 1)))
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      FileHandle.standardError.write(Data("\r\u{1B}[2K[\(bar)] \(text)".utf8))
    } else if step % max(every, 1) == 0 || step == total {
      FileHandle.standardError.write(Data((text + "\n").utf8))
    }
  }

  /// A line that ends any bar in progress.
  public func line(_ text: String) {
    guard !quiet else { return }
    FileHandle.standardError.write(Data(((isTTY ? "\r\u{1B}[2K" : "") + prefix + text + "\n").utf8))
  }

  static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600
      ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
  }
}
