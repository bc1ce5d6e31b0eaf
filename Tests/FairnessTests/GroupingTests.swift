import Foundation
import TestSupport
import Testing
@testable import Fairness

@Suite struct GroupingTests {
  @Test func parsesBinnedAttributesWithCommas() throws {
    let specs = try GroupingSpec.parse("sex,age:<40,40-59,>=60,site")
    #expect(specs.map(\.column) == ["sex", "age", "site"])
    #expect(specs[1].bins?.map(\.label) == ["<40", "40-59", ">=60"])
    let edges = try GroupingSpec.parse("age:edges=40,60")
    #expect(edges[0].bins?.map(\.label) == ["<40", "40-59", ">=60"])
    let a = try GroupingSpec.parse("age:40:60"), b = try GroupingSpec.parse("age:<40,40-59,>=60")
    #expect(edges == a && edges == b)
    #expect(try GroupingSpec.parse("age:edges=40,60.5")[0].bins?.map(\.label) == ["<40", "[40,60.5)", ">=60.5"])
    #expect(throws: AuditError.self) { try GroupingSpec.parse("age:<50,40-59,>=30") }  // overlapping bins
    #expect(throws: AuditError.self) { try GroupingSpec.parse("age:>=60,<40") }  // not ascending
    #expect(throws: AuditError.self) { try GroupingSpec.parse("age:<nan") }
    #expect(throws: AuditError.self) { try GroupingSpec.parse("sex,<40") }
    #expect(throws: AuditError.self) { try GroupingSpec.parse("age:<40,4x-59") }
    #expect(throws: AuditError.self) { try GroupingSpec.parse("sex,sex") }
  }

  @Test func groupSpecParsingAndBins() throws {
    let spec = try GroupingSpec(parsing: "sex,age:40:60")
    #expect(spec == .sexAge && spec.description == "sex,age:<40,40-59,>=60")
    #expect(spec.key(["sex": "male", "age": "39.5"]) == "male|<40")
    #expect(spec.key(["sex": "male", "age": "40"]) == "male|40-59")
    #expect(spec.key(["sex": "male", "age": "59.5"]) == "male|40-59")
    #expect(spec.key(["sex": "female", "age": "85"]) == "female|>=60")
    #expect(spec.key(["sex": "female"]) == "female|unknown")
    #expect(try GroupingSpec(parsing: "").key(["sex": "male"]) == "all")
    #expect(throws: AuditError.self) { try GroupingSpec(parsing: "age:60:40") }
  }

  @Test func binsRelabelsAndMissingLevel() throws {
    let sex = CategoricalColumn(codes: [0, 1, 2, 0, 1, 3], levels: ["F", "M", "", "unknown"])
    let age = CategoricalColumn(codes: [0, 1, 2, 3, 4, 5], levels: ["35", "45.0", "60", "", "59.5", "80"])
    let spec = GroupingSpec(attributes: [
      AttributeSpec(column: "sex", relabel: ["F": "female", "M": "male"]),
      AttributeSpec(column: "age", bins: try GroupingSpec.parse("age:<40,40-59,>=60")[0].bins),
    ])
    let g = try Grouping(spec: spec, columns: [sex, age])
    #expect(g.levels[0] == ["female", "male", "unknown"])
    #expect(g.levels[1] == ["<40", "40-59", ">=60", "unknown"])
    let names = g.rowGroup.map { g.groups[Int($0)].name }
    #expect(names == ["female|<40", "male|40-59", "unknown|>=60", "female|unknown", "male|40-59", "unknown|>=60"])
    #expect(g.outOfBins["age"] == 0)  // 59.5 is in 40-59 = [40, 60)
    let bySex = g.view(attribute: 0)
    #expect(bySex.groups.map(\.name) == ["female", "male", "unknown"])
    #expect(bySex.sizes() == [2, 2, 2])
  }

  /// The audit (columns → ``Grouping``) and training (``GroupingSpec/key(_:)`` per sample) put
  /// every value in the same group, for random specs and values.
  @Test func auditAndTrainingGroupEveryValueAlike() throws {
    var rng = SeededRandom(seed: 11)
    let specs = [
      "sex,age:<40,40-59,>=60", "sex,age:40:60", "age:edges=35.5,50,70.25,site", "age:<=30,31-45,>45,sex",
      "site,age:<0,0-9.5,>=10", "sex",
    ]
    let rawAges = [
      "", "NA", "unknown", "-3", "0", "9.5", "9.75", "30", "30.5", "31", "35.5", "39.999", "40", "45", "45.5",
      "49.99", "50", "59", "59.5", "60", "70.25", "99",
    ]
    let sexes = ["female", "male", "", "unknown", "other"], sites = ["a", "b", "NULL"]
    for text in specs {
      let spec = try GroupingSpec(parsing: text)
      #expect(try GroupingSpec(parsing: spec.description) == spec, "\(text) → \(spec.description)")
      let rows = (0..<400).map { _ in
        [
          "age": rawAges[rng.below(rawAges.count)], "sex": sexes[rng.below(sexes.count)],
          "site": sites[rng.below(sites.count)],
        ]
      }
      let columns = spec.attributes.map { a in CategoricalColumn(values: rows.map { $0[a.column] ?? "" }) }
      let g = try Grouping(spec: spec, columns: columns)
      for (i, row) in rows.enumerated() {
        #expect(g.groups[Int(g.rowGroup[i])].name == spec.key(row), "\(text): \(row)")
      }
    }
  }

  @Test func dropPolicyDropsAndCounts() throws {
    let sex = CategoricalColumn(codes: [0, 1, 2, 0], levels: ["F", "M", "NA"])
    let g = try Grouping(spec: GroupingSpec(attributes: [AttributeSpec(column: "sex")], missing: .drop), columns: [sex])
    #expect(g.rowGroup == [0, 1, -1, 0])
    #expect(g.droppedRows["sex"] == 1)
    #expect(g.groups.map(\.name) == ["F", "M"])
  }

  @Test func thresholdRulesParseAndResolve() throws {
    #expect(try ThresholdRule.parse("0.3") == .fixed(0.3))
    #expect(try ThresholdRule.parse("argmax") == .argmax)
    #expect(try ThresholdRule.parse("youden:val.csv") == .youden(validation: "val.csv"))
    #expect(try ThresholdRule.parse("sensitivity:0.9") == .sensitivity(0.9, validation: nil))
    #expect(throws: AuditError.self) { try ThresholdRule.parse("sensitivity:2") }
    let scores = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.35, 0.65]
    let labels: [UInt8] = [0, 0, 0, 1, 0, 1, 1, 1, 1, 0]
    let ranked = RankedScores(scores: scores, labels: labels, rowGroup: [Int32](repeating: 0, count: 10), groupCount: 1)
    let s = try ThresholdSelector.sensitivity(ranked, target: 0.8)
    #expect(s.threshold == 0.4 && s.tpr == 0.8)
    let r = try ThresholdSelector.resolve(.sensitivity(0.8, validation: nil), audited: ranked) { _ in ([], []) }
    #expect(r.rule == "sensitivity" && r.value == 0.4 && r.detail.contains("audited data"))
  }

  @Test func smallAndOneClassGroupsAreFlaggedAndExcluded() throws {
    var d = Synthetic(n: 400, seed: 4)
    for i in 0..<5 { d.sex[i] = "x"; d.age[i] = "<40" }  // small
    for i in 5..<30 { d.sex[i] = "y"; d.age[i] = "<40"; d.labels[i] = 0 }  // no positives
    let r = try Audit.run(d.input())
    let small = try #require(r.intersectional.groups.first { $0.name == "x|<40" })
    let noPos = try #require(r.intersectional.groups.first { $0.name == "y|<40" })
    #expect(small.flags.contains("small_group"))
    #expect(noPos.flags == ["no_positives"])
    #expect(noPos[.tpr] == nil && noPos.metrics[.tpr]?.reason == "no positives")
    #expect(noPos.metrics[.auc]?.reason == "one class: no positives")
    let members = r.intersectional.members[.tpr]!
    #expect(!members.contains { ["x|<40", "y|<40"].contains(r.intersectional.groups[$0].name) })
    // The group without positives has a defined FPR and selection rate: it enters those gaps.
    let names = { (k: MetricKey) in Set((r.intersectional.members[k] ?? []).map { r.intersectional.groups[$0].name }) }
    #expect(names(.fpr).contains("y|<40") && names(.selectionRate).contains("y|<40") && !names(.fpr).contains("x|<40"))
    #expect(r.warnings.contains { $0.contains("x|<40") })
  }
}
