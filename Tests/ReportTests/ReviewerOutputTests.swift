import Foundation
import Support
import TestSupport
import Testing
@testable import Fairness
@testable import Report

/// The reviewer statistics in audit.json, audit.md and audit.html: provenance, calibration per
/// subgroup with the ECE convention, the temperature diagnostic, DeLong/TPR tests with Holm, and
/// the optimistic-threshold flag.
@Suite struct ReviewerOutputTests {
  static func fixture(_ name: String) -> URL { URL(fileURLWithPath: fixturePath(name, of: "FairnessTests")) }

  func run(threshold: ThresholdRule = .argmax, margin: String? = "margin") throws -> (
    result: AuditResult, json: [String: Any], md: String, html: String, dir: URL
  ) {
    let dir = URL(fileURLWithPath: freshDirectory("reviewer"))
    var c = AuditConfiguration()
    c.threshold = threshold
    c.certainty.permutations = 20
    let request = AuditRequest(
      predictions: Self.fixture("audit_ties.csv"), columns: AuditColumns(label: "y", score: "p", margin: margin),
      groups: GroupingSpec(attributes: try GroupingSpec.parse("sex,age_group")), configuration: c,
      output: dir.appendingPathComponent("audit"),
      commandLine: ["fairmed", "audit", "--predictions", Self.fixture("audit_ties.csv").path, "--seed", "7"])
    let result = try AuditPipeline.run(request)
    let out = dir.appendingPathComponent("audit")
    let text = try String(contentsOf: out.appendingPathComponent("audit.json"), encoding: .utf8)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    return (
      result, json, try String(contentsOf: out.appendingPathComponent("audit.md"), encoding: .utf8),
      try String(contentsOf: out.appendingPathComponent("audit.html"), encoding: .utf8), dir
    )
  }

  @Test func provenanceIsInEveryOutput() throws {
    let (r, json, md, html, dir) = try run()
    defer { try? FileManager.default.removeItem(at: dir) }
    let sha = try SHA256.hex(file: Self.fixture("audit_ties.csv").path)
    let p = try #require(json["provenance"] as? [String: Any])
    #expect(p["input_sha256"] as? String == sha)
    #expect(p["input_rows"] as? Int == r.rows)
    #expect(p["input_file"] as? String == Self.fixture("audit_ties.csv").relativePath)
    #expect(p["fairmed_version"] as? String == FairMedVersion.string)
    #expect(p["version_description"] as? String == FairMedVersion.description)
    #expect((p["command_line"] as? [String])?.last == "7")
    #expect(p["threshold_source"] is NSNull)
    let date = try #require(p["date_utc"] as? String)
    #expect(date.hasSuffix("Z") && date.count == 20)
    for text in [md, html] {
      #expect(text.contains(sha) && text.contains(FairMedVersion.string) && text.contains(date))
      #expect(text.contains("fairmed audit --predictions"))
    }
    #expect(html.contains("<div class=\"provenance\" id=\"provenance\"><b>Provenance</b>"))
    #expect(md.contains("## Provenance"))
  }

  @Test func calibrationAndTestsAreInEveryOutput() throws {
    let (r, json, md, html, dir) = try run()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cal = try #require(json["recalibration"] as? [String: Any])
    let groups = try #require(cal["groups"] as? [[String: Any]])
    #expect(groups.count == r.intersectional.groups.count)
    for (g, x) in zip(groups, r.calibration!.groups) {
      if let fit = x.fit {
        // JSON holds 17 significant digits; Foundation's parser may round the last one.
        let slope = try #require((g["slope"] as? [String: Any])?["estimate"] as? Double)
        let lower = try #require((g["intercept"] as? [String: Any])?["lower"] as? Double)
        #expect(abs(slope - fit.slope.estimate) < 1e-12 && abs(lower - fit.intercept.interval.lower) < 1e-12)
      } else {
        #expect(g["slope"] is NSNull && g["fit_reason"] is String)
      }
      #expect(g["positives"] is Int && g["negatives"] is Int)
    }
    #expect((cal["ece_binning"] as? String)?.contains("10") == true)
    let temperature = try #require(cal["temperature_scaling"] as? [String: Any])
    #expect((temperature["reason"] as? String)?.contains("needs validation predictions") == true)
    let sig = try #require(json["significance"] as? [String: Any])
    #expect(sig["reference_group"] is String)
    let auc = try #require(sig["auc_tests"] as? [String: Any])
    #expect((auc["correction"] as? String)?.hasPrefix("Holm over") == true)
    #expect((sig["tpr_tests"] as? [String: Any])?["method"] as? String == ReviewerText.tprTestMethod)
    let mmd = try #require((json["certainty"] as? [String: Any])?["mmd_testing"] as? [String: Any])
    #expect(abs(try #require(mmd["p_floor"] as? Double) - 1.0 / 21) < 1e-15)
    #expect(mmd["floor_allows_corrected_p_below_0_05"] as? Bool == false)
    #expect(((json["certainty"] as? [String: Any])?["mmd"] as? [[String: Any]])?.first?["p_holm"] is Double)
    for text in [md, html] {
      #expect(text.contains("Calibration-in-the-large") && text.contains("Holm over"))
      #expect(text.contains("the peer tools'") && text.contains("DeLong"))
      #expect(text.contains("the diagnostic needs validation predictions"))
    }
    #expect(html.contains("id=\"calibration\"") && html.contains("id=\"significance\""))
    #expect(md.contains("## Calibration") && md.contains("## Which differences are real"))
  }

  @Test func anOptimisticThresholdIsFlaggedEverywhere() throws {
    let (r, json, md, html, dir) = try run(threshold: .sensitivity(0.8, validation: nil))
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(r.threshold.chosenOnAuditedLabels)
    let t = try #require(json["threshold"] as? [String: Any])
    #expect(t["chosen_on_audited_labels"] as? Bool == true)
    #expect(t["note"] as? String == ResolvedThreshold.optimisticNote)
    #expect(md.contains(ResolvedThreshold.optimisticNote))
    #expect(html.contains(ResolvedThreshold.optimisticNote))
    // Every place that states the threshold in the report flags it, the threshold section too.
    let section = try #require(html.components(separatedBy: "id=\"thresholds\"").last)
    #expect(section.contains(ResolvedThreshold.optimisticNote))
    #expect(md.components(separatedBy: "## Net benefit").last?.contains(ResolvedThreshold.optimisticNote) == true)
  }

  @Test func thresholdCurvesAndNetBenefitAreInEveryOutput() throws {
    let (r, json, md, html, dir) = try run(threshold: .fixed(0.3))
    defer { try? FileManager.default.removeItem(at: dir) }
    let c = try #require(json["threshold_curves"] as? [String: Any])
    #expect((c["thresholds"] as? [Double])?.count == 99)
    #expect((c["delta_tpr"] as? [Any])?.count == 99)
    let dc = try #require(c["decision_curve"] as? [String: Any])
    #expect(((dc["overall"] as? [String: Any])?["model"] as? [Double])?.count == 99)
    #expect((dc["groups"] as? [String: Any])?.count == r.intersectional.groups.count)
    let nb = try #require(json["net_benefit_at_threshold"] as? [String: Any])
    let overall = try #require(nb["overall"] as? [String: Any])
    let expected = try #require(NetBenefit.at(r.intersectional.overall.counts, threshold: 0.3))
    #expect(abs(try #require(overall["model"] as? Double) - expected.model) < 1e-12)
    #expect(html.contains("Figure 5.") && html.contains("Figure 6.") && html.contains("id=\"thresholds\""))
    #expect(html.contains("Net benefit at the threshold 0.3"))
    #expect(md.contains("## Net benefit at the threshold") && md.contains(ReportFormat.sig3(expected.model)))
  }

  @Test func commandShownWithoutAbsolutePaths() {
    let shown = ReviewerText.command([
      "/nonexistent-root/a/b/bin/fairmed", "audit", "--threshold", "model:/nonexistent-root/x/runs/r1",
      "--groups", "sex,age:<40,40-59,>=60",
    ])
    #expect(!shown.contains("/nonexistent-root"))
    #expect(shown.contains("model:…/x/runs/r1"))
    #expect(shown.contains("'sex,age:<40,40-59,>=60'"))
  }
}
