import Foundation
import TestSupport
@testable import Fairness

/// Test helpers: fixture paths, tolerance checks and small synthetic data sets.
enum Fixture {
  static func url(_ name: String) -> URL { URL(fileURLWithPath: fixturePath(name)) }

  static func json(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: url(name))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
  }
}

/// |a − b| ≤ tolerance, with nil matching only nil (``isClose(_:_:_:)``).
func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool { isClose(a, b, tolerance) }

/// A random data set: `n` rows, labels, probability scores, and two attributes.
struct Synthetic {
  var labels: [UInt8] = []
  var scores: [Double] = []
  var margins: [Double] = []
  var sex: [String] = []
  var age: [String] = []

  init(n: Int, seed: UInt64) {
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

  /// The data as an audit input grouped by sex × age.
  func input(order: [Int]? = nil) throws -> AuditInput {
    let order = order ?? Array(labels.indices)
    func column(_ v: [String]) -> CategoricalColumn {
      let levels = Array(Set(v)).sorted()
      let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, UInt32($0)) })
      return CategoricalColumn(codes: order.map { index[v[$0]]! }, levels: levels)
    }
    let spec = GroupingSpec(attributes: [AttributeSpec(column: "sex"), AttributeSpec(column: "age")])
    let grouping = try Grouping(spec: spec, columns: [column(sex), column(age)])
    return AuditInput(labels: order.map { labels[$0] }, scores: order.map { scores[$0] },
                      margins: order.map { margins[$0] }, grouping: grouping)
  }
}
