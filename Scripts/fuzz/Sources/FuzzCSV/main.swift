import Datasets
import Fairness
import FuzzShared

/// Any bytes as the audit's predictions CSV, as a dataset table, and (first line) as `--groups`.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let buffer = UnsafeBufferPointer(start: data, count: size)
  let columns: [(name: String, kind: CSVColumnKind)] = [
    ("y", .binary), ("p", .number()), ("sex", .text), ("age", .text),
  ]
  if let parsed = try? CSVReader.parse(Array(buffer), file: "fuzz.csv", columns: columns),
    let sex = parsed.texts["sex"], let age = parsed.texts["age"]
  {
    for spec in ["sex,age:<40,40-59,>=60", "age:edges=30.5,60", "sex"] {
      guard let g = try? GroupingSpec(parsing: spec) else { continue }
      _ = try? Grouping(spec: g, columns: g.attributes.map { $0.column == "sex" ? sex : age })
    }
  }
  _ = try? CSVTable(contentsOf: Scratch.file(UnsafeRawBufferPointer(buffer), "x.csv"))
  let text = String(decoding: buffer.prefix { $0 != 10 }, as: UTF8.self)
  if let spec = try? GroupingSpec(parsing: text) {
    _ = spec.key(["sex": "female", "age": "59.5"])
    _ = try? GroupingSpec(parsing: spec.description)
  }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
