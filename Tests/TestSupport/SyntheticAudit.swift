import Fairness
import Foundation
import Support

/// A random audit data set (FairnessTests, ReportTests): `n` rows, labels, probability scores,
/// margins, and two attributes.
public struct Synthetic {
  public var labels: [UInt8] = []
  public var scores: [Double] = []
  public var margins: [Double] = []
  public var sex: [String] = []
  public var age: [String] = []

  public init(n: Int, seed: UInt64) {
    var rng = SeededRandom(seed: seed)
    for _ in 0..<n {
      let y: UInt8 = rng.uniform() < 0.4 ? 1 : 0
      let s = rng.uniform() < 0.5 ? "female" : "male"
      let a = ["<40", "40-59", ">=60"][rng.below(3)]
      let shift = (s == "female" && a == "<40") ? 0.3 : 1.2
      let z = (y == 1 ? shift : -shift) + rng.normal()
      let p = (1 / (1 + exp(-z)) * 100).rounded() / 100  // ties on purpose
      labels.append(y); scores.append(p); sex.append(s); age.append(a)
      margins.append(y == 1 ? 2 * p - 1 : 1 - 2 * p)
    }
  }

  /// The data as an audit input grouped by sex × age, rows taken in `order` (all, by default).
  public func input(order: [Int]? = nil) throws -> AuditInput {
    let order = order ?? Array(labels.indices)
    func column(_ v: [String]) -> CategoricalColumn {
      // Sorted levels, so any row order gives the same level codes.
      let levels = Array(Set(v)).sorted()
      let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, UInt32($0)) })
      var c = CategoricalColumn(values: [])
      c.levels = levels
      c.codes = order.map { index[v[$0]]! }
      return c
    }
    let spec = GroupingSpec(attributes: [AttributeSpec(column: "sex"), AttributeSpec(column: "age")])
    let grouping = try Grouping(spec: spec, columns: [column(sex), column(age)])
    return AuditInput(
      labels: order.map { labels[$0] }, scores: order.map { scores[$0] },
      margins: order.map { margins[$0] }, grouping: grouping)
  }
}
