import Foundation
import Testing
@testable import Fairness

@Suite struct GroupingTests {
  @Test func parsesBinnedAttributesWithCommas() throws {
    let specs = try GroupingSpec.parse("sex,age:<40,40-59,>=60,site")
    #expect(specs.map(\.column) == ["sex", "age", "site"])
    #expect(specs[1].bins?.map(\.label) == ["<40", "40-59", ">=60"])
    let edges = try GroupingSpec.parse("age:edges=40,60")
    #expect(edges[0].bins?.map(\.label) == ["<40", "[40,60)", ">=60"])
    #expect(throws: AuditError.self) { try GroupingSpec.parse("sex,<40") }
    #expect(throws: AuditError.self) { try GroupingSpec.parse("age:<40,4x-59") }
    #expect(throws: AuditError.self) { try GroupingSpec.parse("sex,sex") }
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
    #expect(names == ["female|<40", "male|40-59", "unknown|>=60", "female|unknown", "male|unknown", "unknown|>=60"])
    #expect(g.outOfBins["age"] == 1)  // 59.5 falls between 40-59 and >=60
    let bySex = g.view(attribute: 0)
    #expect(bySex.groups.map(\.name) == ["female", "male", "unknown"])
    #expect(bySex.sizes() == [2, 2, 2])
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
    for i in 0..<5 { d.sex[i] = "x"; d.age[i] = "<40" }            // small
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
    #expect(r.warnings.contains { $0.contains("x|<40") })
  }
}
