import Foundation
import TestSupport
import Testing
@testable import Experiments
import Training

/// The library's **default** CMAC-MMD — λ chosen on each run's validation predictions from the
/// default path (docs/METHOD.md §11) — against ERM with the same data, sampler, budget and seeds,
/// at the threshold each run chose on its own validation predictions, means over 3 seeds, on two
/// benchmarks with different bias mechanisms (each at its study size: `Studies/selection-derm.json`
/// and `Studies/selection-underdiagnosis.json` without the external set):
/// - the accuracy budget everywhere: AUC at most ``Margins/aucLoss`` and overall TPR at most
///   ``Margins/tprLoss`` below ERM's (the issue's goal: 0.01 and 0.02);
/// - **subtle lesions**, where ERM leaves a gap: the worst group's TPR rises by ≥
///   ``Margins/worstGain``, ΔTPR falls by ≥ ``Margins/gapCut`` (relative), and no seed's worst
///   group falls below its ERM twin's by more than ``Margins/seedWorstLoss``. The study measured
///   +0.103, −13 %, AUC −0.001 and every seed at or above its twin (docs/results.md); a no-op
///   (λ 0 kept everywhere) fails the lift.
/// - **under-diagnosed labels**, where validation kept λ 0 in two seeds and the study measured no
///   gain (worst group −0.004, ΔTPR +6 %, AUC −0.002): no levelling down — the worst group at most
///   ``Margins/worstLoss`` below ERM's.
/// The goal's −25 % gap is not asserted: the study did not reach it. No wall-clock limit: this is
/// about results only.
@Suite(.tags(.slow)) struct MethodWorksTests {
  /// The stated margins (see the type's comment).
  enum Margins {
    static let aucLoss = 0.01, tprLoss = 0.02, worstGain = 0.05, gapCut = 0.05, seedWorstLoss = 0.02,
      worstLoss = 0.02
  }

  static let seeds: [UInt64] = [0, 1, 2]

  static func study(_ name: String, _ synth: StudyConfig.SynthSpec) -> StudyConfig {
    var c = StudyConfig(name: name, methods: [.erm, .cmacMMD])
    c.synth = synth
    c.lambdas = []  // λ chosen on validation, the default
    c.seeds = seeds
    c.batchSizes = [64]
    c.base = [
      "fromScratch": .string("tiny"), "imageSize": .number(32), "epochs": .number(4), "loss": .string("prompt-ce"),
    ]
    return c
  }

  static let benchmarks: [(String, StudyConfig.SynthSpec)] = {
    let derm = StudyConfig.SynthSpec(kind: .derm, train: 4000, test: 3000, external: 0, size: 32, seed: 0)
    var under = StudyConfig.SynthSpec(kind: .derm, train: 4000, test: 3000, external: 0, size: 32, seed: 0)
    under.signal = ["female|<40": 1]
    under.underdiagnosis = ["female|<40": 0.75]
    return [("subtle-lesions", derm), ("under-diagnosis", under)]
  }()

  @Test(arguments: [0, 1])
  func cmacMMDWithLambdaChosenOnValidationLiftsTheSubtleLesionGroupWithinTheAccuracyBudget(_ index: Int) throws {
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
      for (e, c) in zip(erm.sorted { $0.seed < $1.seed }, cmac.sorted { $0.seed < $1.seed }) {
        #expect(
          (c.metrics.worstGroupTPR ?? 0) >= (e.metrics.worstGroupTPR ?? 0) - Margins.seedWorstLoss,
          "\(name) seed \(c.seed), λ \(c.selectedLambda.map { "\($0)" } ?? "?"): \(report)")
      }
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
