import Foundation
import Tensor
import TestSupport
import Testing
@testable import Training

/// Training with `--precision bf16`: it follows the fp32 run's loss curve, is deterministic, and is
/// refused, naming the missing instructions, where the CPU cannot run it.
@Suite(.serialized, .tags(.slow))
struct BF16TrainingTests {
  /// The per-step training losses a run logged.
  static func losses(_ run: String) throws -> [Double] {
    let text = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
    return try text.split(separator: "\n").compactMap { line in
      let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      return record?["kind"] as? String == "step" ? record?["loss"] as? Double : nil
    }
  }

  static func train(_ precision: Precision, _ name: String) throws -> String {
    var config = TinyDerm.config(method: .cmacMMD, epochs: 3)
    config.precision = precision
    let run = TinyDerm.runDirectory(name)
    _ = try Trainer(
      config: config, runDirectory: run, log: TrainingLog(metricsPath: run + "/metrics.jsonl", quiet: true)
    )
    .run()
    return run
  }

  /// The tiny CMAC-MMD run of TrainerTests in bf16 against fp32, same seed and batches.
  /// Tolerance: every logged step's loss within 0.01 of fp32's (absolute; the first loss is about
  /// 0.73, so about 1.4 % of it), and the mean over the logged steps within 0.5 % — bf16 rounds each
  /// GEMM operand by at most 2⁻⁸ (relative), so single steps move by about that, and the curve must
  /// not drift (measured: at most 0.0042 per step, mean 0.1 %). The same seed gives the same bf16
  /// weights, which differ from fp32's (the bf16 path ran).
  @Test func bf16FollowsTheFP32LossCurveAndIsDeterministic() throws {
    guard BF16Support.available else {
      var config = TinyDerm.config()
      config.precision = .bf16
      #expect(throws: TrainingError.self) {
        try Trainer(
          config: config, runDirectory: TinyDerm.runDirectory("bf16-refused"),
          log: TrainingLog(metricsPath: nil, quiet: true)
        ).run()
      }
      return
    }
    let fp32 = try Self.train(.fp32, "fp32"), bf16 = try Self.train(.bf16, "bf16"),
      again = try Self.train(.bf16, "bf16-again")
    defer { for d in [fp32, bf16, again] { try? FileManager.default.removeItem(atPath: d) } }
    let a = try Self.losses(fp32), b = try Self.losses(bf16)
    #expect(a.count == b.count && a.count >= 12)
    var worst = 0.0
    for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) }
    let meanA = a.reduce(0, +) / Double(a.count), meanB = b.reduce(0, +) / Double(b.count)
    #expect(worst <= 0.01, "largest step difference \(worst): fp32 \(a), bf16 \(b)")
    #expect(abs(meanA - meanB) / meanA < 0.005, "mean loss \(meanA) fp32, \(meanB) bf16")
    #expect(try modelBytes(bf16) == modelBytes(again))
    #expect(try modelBytes(bf16) != modelBytes(fp32))
    let saved = try RunConfig.load(bf16 + "/run.json")
    #expect(saved.precision == .bf16)
  }
}
