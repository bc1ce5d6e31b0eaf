import Foundation
import Testing
@testable import Experiments
import Training

/// The method really works, with the library's **default** options, on two benchmarks with
/// different bias mechanisms (a subtler-lesion subgroup; under-diagnosed training labels): at the
/// threshold each run chose on its own validation predictions, averaged over 3 seeds, CMAC-MMD
/// against ERM with the same data, sampler, budget and seeds must
/// - raise the worst group's TPR by at least ``Margins/worstGain``, and in every seed not lower it
///   by more than ``Margins/seedSlack``;
/// - lower ΔTPR by at least ``Margins/gapCut`` (relative);
/// - cost at most ``Margins/aucLoss`` AUC and ``Margins/tprLoss`` overall TPR (no levelling down).
/// The margins are the goal scaled to a test budget (3,000 training images at 32×32, 4
/// epochs: smaller than the README's studies, so the effects are smaller and noisier); README
/// "Method works" gives the full-size numbers. No wall-clock limit: this is about results only.
struct MethodWorksTests {
  /// What the test budget can show (see the type's comment).
  enum Margins {
    static let worstGain = 0.05, seedSlack = 0.05, gapCut = 0.10, aucLoss = 0.015, tprLoss = 0.05
  }

  static let seeds: [UInt64] = [0, 1, 2]

  static func study(_ name: String, _ synth: StudyConfig.SynthSpec) -> StudyConfig {
    var c = StudyConfig(name: name, methods: [.erm, .cmacMMD])
    c.synth = synth
    c.lambdas = [RunConfig.defaults.lambda]
    c.seeds = seeds
    c.batchSizes = [64]
    c.base = ["fromScratch": .string("tiny"), "imageSize": .number(32), "epochs": .number(4), "loss": .string("prompt-ce")]
    return c
  }

  static let benchmarks: [(String, StudyConfig.SynthSpec)] = {
    var derm = StudyConfig.SynthSpec(kind: .derm, train: 3000, test: 2000, external: 0, size: 32, seed: 0)
    var under = derm
    under.signal = ["female|<40": 1]
    under.underdiagnosis = ["female|<40": 0.75]
    return [("subtle-lesions", derm), ("under-diagnosis", under)]
  }()

  @Test(arguments: [0, 1])
  func cmacMMDDefaultsLiftTheWorstGroupWithoutLevellingDown(_ index: Int) throws {
    let (name, synth) = Self.benchmarks[index]
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fairmed-method-works-\(name)-\(UUID().uuidString.prefix(6))").path
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
    #expect(mean(cmac, \.worstGroupTPR) >= mean(erm, \.worstGroupTPR) + Margins.worstGain, "\(name): \(report)")
    #expect(mean(cmac, \.deltaTPR) <= mean(erm, \.deltaTPR) * (1 - Margins.gapCut), "\(name): \(report)")
    #expect(mean(cmac, \.auc) >= mean(erm, \.auc) - Margins.aucLoss, "\(name): \(report)")
    #expect(mean(cmac, \.tpr) >= mean(erm, \.tpr) - Margins.tprLoss, "\(name): \(report)")
    for (e, c) in zip(erm.sorted { $0.seed < $1.seed }, cmac.sorted { $0.seed < $1.seed }) {
      #expect((c.metrics.worstGroupTPR ?? 0) >= (e.metrics.worstGroupTPR ?? 0) - Margins.seedSlack, "\(name) seed \(c.seed): \(report)")
    }
    print("method works (\(name), 3 seeds, internal test, validation threshold): \(report)")
  }

  @Test func headlineTableNamesTheThresholdAndPutsTheValidationOneFirst() {
    let rows = [Demo.Row(method: "erm", split: "internal", threshold: .validation, thresholdValue: 0.31, auc: 0.9, deltaTPR: 0.5,
                         worstGroupTPR: 0.2, worstGroup: "female|<40", tpr: 0.8),
                Demo.Row(method: "cmac-mmd", split: "internal", threshold: .half, thresholdValue: 0.5, auc: nil, deltaTPR: 0.3,
                         worstGroupTPR: 0.4, worstGroup: nil, tpr: 0.8)]
    let md = Demo.markdown(rows)
    #expect(md.contains("| internal | validation (Youden 0.310) | erm | 0.900 | 0.500 | 0.200 (female|<40) | 0.800 |"))
    #expect(md.contains("| internal | 0.5 | cmac-mmd | – | 0.300 | 0.400 (–) | 0.800 |"))
  }
}
