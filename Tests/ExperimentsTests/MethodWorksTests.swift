import Foundation
import TestSupport
import Testing
@testable import Experiments
import Training

/// The library's **default** CMAC-MMD against ERM with the same data, sampler, budget and seeds,
/// at the threshold each run chose on its own validation predictions, means over 3 seeds, on two
/// benchmarks with different bias mechanisms:
/// - **subtle lesions** (docs/results.md's benchmark 1 at its study size: 4,000 training images at
///   32×32, 4 epochs): the worst group's TPR rises by ≥ ``Margins/worstGain``, ΔTPR falls by
///   ≥ ``Margins/gapCut`` (relative), AUC falls by ≤ ``Margins/aucLoss`` and overall TPR by
///   ≤ ``Margins/tprLoss``. The study measured +0.086, −18 %, −0.009 and −0.015 (docs/results.md "What
///   CMAC-MMD does here"); the margins leave room for run-to-run differences of the floating-point
///   path on other CPUs, and a no-op (λ 0) fails them.
/// - **under-diagnosed labels** (3,000 training images), where the study found no gain: no
///   levelling down — AUC, overall TPR and worst-group TPR at most ``Margins/aucLoss``,
///   ``Margins/tprLoss`` and ``Margins/worstLoss`` below ERM's.
/// These are the goal margins (−40 %, +0.10) scaled to what the method was measured to
/// do; the goal itself is not met (docs/results.md). No wall-clock limit: this is about results only.
@Suite(.tags(.slow)) struct MethodWorksTests {
  /// The stated margins (see the type's comment).
  enum Margins {
    static let worstGain = 0.05, gapCut = 0.10, aucLoss = 0.015, tprLoss = 0.05, worstLoss = 0.05
  }

  static let seeds: [UInt64] = [0, 1, 2]

  static func study(_ name: String, _ synth: StudyConfig.SynthSpec) -> StudyConfig {
    var c = StudyConfig(name: name, methods: [.erm, .cmacMMD])
    c.synth = synth
    c.lambdas = [RunConfig.defaults.lambda]
    c.seeds = seeds
    c.batchSizes = [64]
    c.base = [
      "fromScratch": .string("tiny"), "imageSize": .number(32), "epochs": .number(4), "loss": .string("prompt-ce"),
    ]
    return c
  }

  static let benchmarks: [(String, StudyConfig.SynthSpec)] = {
    let derm = StudyConfig.SynthSpec(kind: .derm, train: 4000, test: 3000, external: 0, size: 32, seed: 0)
    var under = StudyConfig.SynthSpec(kind: .derm, train: 3000, test: 2000, external: 0, size: 32, seed: 0)
    under.signal = ["female|<40": 1]
    under.underdiagnosis = ["female|<40": 0.75]
    return [("subtle-lesions", derm), ("under-diagnosis", under)]
  }()

  @Test(arguments: [0, 1])
  func cmacMMDDefaultsLiftTheSubtleLesionGroupAndNeverLevelDown(_ index: Int) throws {
    let (name, synth) = Self.benchmarks[index]
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "fairmed-method-works-\(name)-\(UUID().uuidString.prefix(6))"
    ).path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let results = try Study(config: Self.study(name, synth), directory: dir, quiet: true).run()
      .filter { $0.split == "internal" && $0.threshold == .validation }
    let erm = results.filter { $0.method == .erm }, cmac = results.filter { $0.method == .cmacMMD }
    try #require(erm.count == 3 && cmac.count == 3)
    func mean(_ rs: [Study.Result], _ k: KeyPath<EvalMetrics, Double?>) -> Double {
      rs.compactMap { $0.metrics[keyPath: k] }.reduce(0, +) / Double(rs.count)
    }
    let report = [("AUC", \EvalMetrics.auc), ("ΔTPR", \.deltaTPR), ("worst TPR", \.worstGroupTPR), ("TPR", \.tpr)]
      .map { n, k in String(format: "%@ %.3f → %.3f", n, mean(erm, k), mean(cmac, k)) }.joined(separator: ", ")
    #expect(mean(cmac, \.auc) >= mean(erm, \.auc) - Margins.aucLoss, "\(name): \(report)")
    #expect(mean(cmac, \.tpr) >= mean(erm, \.tpr) - Margins.tprLoss, "\(name): \(report)")
    if name == "subtle-lesions" {
      #expect(mean(cmac, \.worstGroupTPR) >= mean(erm, \.worstGroupTPR) + Margins.worstGain, "\(name): \(report)")
      #expect(mean(cmac, \.deltaTPR) <= mean(erm, \.deltaTPR) * (1 - Margins.gapCut), "\(name): \(report)")
    } else {
      #expect(mean(cmac, \.worstGroupTPR) >= mean(erm, \.worstGroupTPR) - Margins.worstLoss, "\(name): \(report)")
    }
    print("method works (\(name), 3 seeds, internal test, validation threshold): \(report)")
  }
}

/// The demo's headline table.
@Suite struct DemoTableTests {
  @Test func headlineTableNamesTheThresholdAndPutsTheValidationOneFirst() {
    let rows = [
      Demo.Row(
        method: "erm", split: "internal", threshold: .validation, thresholdValue: 0.31, auc: 0.9, deltaTPR: 0.5,
        worstGroupTPR: 0.2, worstGroup: "female|<40", tpr: 0.8),
      Demo.Row(
        method: "cmac-mmd", split: "internal", threshold: .half, thresholdValue: 0.5, auc: nil, deltaTPR: 0.3,
        worstGroupTPR: 0.4, worstGroup: nil, tpr: 0.8),
    ]
    let md = Demo.markdown(rows)
    #expect(md.contains("| internal | validation (Youden 0.310) | erm | 0.900 | 0.500 | 0.200 (female|<40) | 0.800 |"))
    #expect(md.contains("| internal | 0.5 | cmac-mmd | – | 0.300 | 0.400 (–) | 0.800 |"))
  }
}
