import Fairness
import Foundation
import TestSupport
import Testing
@testable import Report

@Suite struct AuditHeadlineTests {
  /// The headline names the group the worst-group TPR names (a few-positives group is out of it).
  @Test func theHeadlineGroupIsTheWorstGroupOfTheGap() throws {
    var d = Synthetic(n: 900, seed: 33)
    var kept = 0
    for i in d.labels.indices where d.sex[i] == "female" && d.age[i] == "<40" && d.labels[i] == 1 {
      kept += 1
      if kept > 2 { d.labels[i] = 0 } else { d.scores[i] = 0.01 }  // both missed: TPR 0, the lowest
    }
    var c = AuditConfiguration()
    c.certainty.permutations = 10
    let r = try Audit.run(try d.input(), configuration: c)
    let w = try #require(r.intersectional.aggregates[.worstGroupTPR]?.minGroup)
    #expect(r.intersectional.groups[w].name != "female|<40")
    #expect(r.warnings.contains { $0.contains("female|<40") && $0.contains("left out of the TPR gaps") })
    let worst = r.intersectional.groups[w].name
    #expect(MarkdownReport.text(r).contains("misses disease most often in **\(worst)**"))
    #expect(HTMLReport.text(r).contains("misses disease most often in <b>\(worst)</b>"))
  }
}
