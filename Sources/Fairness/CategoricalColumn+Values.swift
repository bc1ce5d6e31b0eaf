extension CategoricalColumn {
  /// A column from raw text values (levels in order of first appearance), for in-memory audits.
  public init(values: [String]) {
    var levels: [String] = []
    var index: [String: UInt32] = [:]
    codes = values.map { v in
      if let c = index[v] { return c }
      index[v] = UInt32(levels.count)
      levels.append(v)
      return UInt32(levels.count - 1)
    }
    self.levels = levels
  }
}
