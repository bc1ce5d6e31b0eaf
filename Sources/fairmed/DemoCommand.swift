import ArgumentParser
import Experiments
import Foundation
import Training

private let d = Demo.Options(directory: "")

/// `fairmed demo`: the README's main job — ERM vs CMAC-MMD on the built-in synthetic benchmark.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Generate the synthetic derm benchmark, train ERM and CMAC-MMD, predict, audit, summarise.",
    discussion: """
      Everything is seeded and runs offline. Re-running with the same --out and --resume reuses \
      the generated data and resumes finished or interrupted training runs; --overwrite removes \
      what the demo wrote there and starts again (an --out holding anything needs one of them). \
      The table printed is what this run measured.
      """)

  @Option(help: "Output folder (default: a new temporary folder).") var out: String?
  @Flag(help: "Continue the demo that --out holds.") var resume = false
  @Flag(help: "Remove what the demo wrote in --out and start again.") var overwrite = false
  @Option(help: "Random seed.") var seed: UInt64 = d.seed
  @Option(help: "Training images.") var trainImages = d.trainImages
  @Option(help: "Epochs per method.") var epochs = d.epochs
  @Option(name: .customLong("lambda"), help: "CMAC-MMD weight λ (default: chosen on validation, as train does).")
  var lambda: Float?
  @Option(help: "CMAC-MMD comparison.") var comparison = d.comparison
  @Option(help: "CMAC-MMD conditioning.") var conditioning = d.conditioning
  @Option(help: "Batch sampler of both methods.") var sampler = d.sampler

  func run() throws {
    let dir =
      out
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-demo-\(UUID().uuidString.prefix(8))")
      .path
    var o = Demo.Options(directory: dir)
    o.seed = seed
    o.trainImages = trainImages
    o.epochs = epochs
    o.lambda = lambda
    o.comparison = comparison
    o.conditioning = conditioning
    o.sampler = sampler
    let start = Date()
    let rows = try Demo.run(o, resume: resume, overwrite: overwrite)
    print(Demo.markdown(rows))
    print(
      String(
        format: "done in %.0f s. Report: %@/report.html (figures in %@/figures); audits: %@/audits/*/audit.html",
        Date().timeIntervalSince(start), dir, dir, dir))
    print(Demo.pretrainedRegimeHint)
  }
}
