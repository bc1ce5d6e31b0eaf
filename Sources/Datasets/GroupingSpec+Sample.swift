import Fairness

extension GroupingSpec {
  /// The subgroup key of a sample ("female|<40").
  public func key(_ sample: Sample) -> String { key(sample.attributes) }

  /// ``validate(rows:source:)`` on a dataset's samples.
  public func validate(_ dataset: Dataset) throws {
    try validate(rows: dataset.samples.map(\.attributes), source: dataset.name)
  }
}
