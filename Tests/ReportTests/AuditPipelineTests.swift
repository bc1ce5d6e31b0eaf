import Foundation
import TestSupport
import Testing
@testable import Fairness
@testable import Report

/// End to end through the entry point `fairmed audit` calls, and its failure modes.
@Suite struct AuditPipelineTests {
  /// An audit fixture of FairnessTests (Scripts/fixtures/make_audit_fixtures.py).
  static func fixture(_ name: String) -> URL { URL(fileURLWithPath: fixturePath(name, of: "FairnessTests")) }

  func request(_ csv: URL, out: URL, margin: String? = nil, bootstrap: Int = 0) throws -> AuditRequest {
    var c = AuditConfiguration()
    c.bootstrap = bootstrap > 0 ? BootstrapOptions(replicates: bootstrap, seed: 7) : nil
    c.certainty.permutations = 20
    return AuditRequest(
      predictions: csv, columns: AuditColumns(label: "y", score: "p", margin: margin),
      groups: GroupingSpec(attributes: try GroupingSpec.parse("sex,age_group,site")),
      configuration: c, output: out)
  }

  @Test func writesAllFilesWithValidJSON() throws {
    let dir = URL(fileURLWithPath: freshDirectory("audit"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("audit")
    let result = try AuditPipeline.run(
      request(Self.fixture("audit_ties.csv"), out: out, margin: "margin", bootstrap: 50))
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
    #expect(files == ["audit.html", "audit.json", "audit.md", "groups.csv"])
    let text = try String(contentsOf: out.appendingPathComponent("audit.json"), encoding: .utf8)
    #expect(!text.contains("NaN") && !text.contains("Infinity") && !text.contains("inf,"))
    let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(json["schema_version"] as? Int == 1)
    let threshold = try #require(json["threshold"] as? [String: Any])
    #expect(threshold["rule"] as? String == "argmax" && threshold["value"] as? Double == 0.5)
    let groups = try #require(json["groups"] as? [[String: Any]])
    #expect(groups.count == result.intersectional.groups.count)
    let first = groups[0]
    #expect((first["attributes"] as? [String: String])?.keys.sorted() == ["age_group", "sex", "site"])
    // The one-class groups: AUC null with a reason, flagged.
    let oneClass = try #require(groups.first { $0["name"] as? String == "male|40-59|d" })
    #expect(oneClass["auc"] is NSNull)
    #expect((oneClass["reasons"] as? [String: String])?["auc"] == "one class: no positives")
    #expect((oneClass["flags"] as? [String])?.contains("no_positives") == true)
    let delta = try #require((json["aggregates"] as? [String: Any])?["delta_tpr"] as? [String: Any])
    #expect(delta["value"] is Double && delta["max_group"] is String && delta["min_group"] is String)
    #expect((delta["ci"] as? [String: Any])?["lower"] is Double)
    #expect(json["certainty"] is [String: Any])
    let csv = try String(contentsOf: out.appendingPathComponent("groups.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\r\n").count == groups.count + 2)
    let html = try String(contentsOf: out.appendingPathComponent("audit.html"), encoding: .utf8)
    #expect(html.components(separatedBy: "<svg").count - 1 == 6)
    #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
    #expect(!html.contains("<script"))
    // No staging folder is left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["audit"])
  }

  @Test func rerunReplacesFilesInAnExistingFolder() throws {
    let dir = URL(fileURLWithPath: freshDirectory("audit"))
    defer { try? FileManager.default.removeItem(at: dir) }
    try AuditPipeline.run(request(Self.fixture("audit_ties.csv"), out: dir, bootstrap: 20))
    let first = try String(contentsOf: dir.appendingPathComponent("audit.json"), encoding: .utf8)
    let second = try AuditPipeline.run(request(Self.fixture("audit_ties.csv"), out: dir))
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [
        "audit.html", "audit.json", "audit.md", "groups.csv",
      ])
    // Every file now holds the second audit (no bootstrap), none the first.
    for (name, text) in AuditOutput.render(second) {
      #expect(
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) == text, "\(name) was not replaced")
    }
    #expect(first != (try String(contentsOf: dir.appendingPathComponent("audit.json"), encoding: .utf8)))
  }

  static let badInputs: [(String, String, String)] = [
    ("missing column", "y,p,sex,age_group\n1,0.5,f,a\n", ":1, column 'site': missing column 'site'"),
    (
      "non-numeric score", "y,p,sex,age_group,site\n1,0.5,f,a,b\n0,high,f,a,b\n",
      ":3, column 'p' (field 2): 'high' is not a number"
    ),
    (
      "label not 0/1", "y,p,sex,age_group,site\n1,0.5,f,a,b\n2,0.5,f,a,b\n",
      ":3, column 'y' (field 1): label 2.0 is not 0 or 1"
    ),
    ("NaN score", "y,p,sex,age_group,site\n1,NaN,f,a,b\n", ":2, column 'p' (field 2): 'NaN' is not a finite number"),
    (
      "inf score", "y,p,sex,age_group,site\r\n1,0.2,f,a,b\r\n1,-inf,f,a,b\r\n",
      ":3, column 'p' (field 2): '-inf' is not a finite number"
    ),
    ("empty file", "", ":1: the file is empty (no header row)"),
    ("ragged row", "y,p,sex,age_group,site\n1,0.5,f,a,b\n1,0.5,f,a\n", ":3: ragged row: expected 5 fields, found 4"),
  ]

  @Test(arguments: badInputs.indices) func badInputNamesFileLineColumnAndWritesNothing(_ i: Int) throws {
    let (_, content, message) = Self.badInputs[i]
    let dir = URL(fileURLWithPath: freshDirectory("audit"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let csv = dir.appendingPathComponent("preds.csv")
    try Data(content.utf8).write(to: csv)
    let out = dir.appendingPathComponent("out")
    do {
      try AuditPipeline.run(request(csv, out: out))
      Issue.record("no error for \(Self.badInputs[i].0)")
    } catch {
      #expect("\(error)".hasPrefix(csv.path), "\(error)")
      #expect("\(error)".contains(message), "\(error)")
    }
    #expect(!FileManager.default.fileExists(atPath: out.path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["preds.csv"])
  }

  @Test func youdenThresholdFromAValidationFile() throws {
    let dir = URL(fileURLWithPath: freshDirectory("audit"))
    defer { try? FileManager.default.removeItem(at: dir) }
    var r = try request(Self.fixture("audit_ties.csv"), out: dir.appendingPathComponent("o"))
    r.configuration.threshold = .youden(validation: Self.fixture("audit_twoattr.csv").path)
    let result = try AuditPipeline.run(r)
    let spec = try jsonObject(atPath: fixturePath("audit_twoattr.json", of: "FairnessTests"))
    #expect(result.threshold.rule == "youden")
    #expect(result.threshold.value == Double(spec["youden_threshold"] as! String)!)
    #expect(result.threshold.detail.contains("audit_twoattr.csv"))
  }
}
