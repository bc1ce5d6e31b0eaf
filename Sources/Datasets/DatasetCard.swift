import Fairness
import Foundation

/// A plain-text dataset card: load summary, counts per split × subgroup × label, missing values,
/// image sizes, per-batch subgroup coverage and warnings.
public enum DatasetCard {
  /// Renders the card. Datasets without a split in their layout get a seeded, lesion-grouped,
  /// stratified 70/10/20 split (say so in the card). `imageProbe` images are decoded for sizes.
  public static func render(
    _ dataset: Dataset, groups: GroupingSpec? = nil, batchSize: Int = 64,
    minGroupSize: Int = 2, nMin: Int = 10, imageProbe: Int = 24, seed: UInt64 = 0
  ) -> String {
    let spec = groups ?? dataset.defaultGroups
    var d = dataset
    var lines: [String] = []
    func add(_ s: String = "") { lines.append(s) }
    add("# Dataset card: \(d.name)")
    add(
      "samples: \(d.count)   classes: \(d.classNames.joined(separator: ", "))   subgroups by: \(spec.attributes.isEmpty ? "(none)" : spec.description)"
    )
    let s = d.summary
    add(
      "load: \(s.rowsRead) rows read, \(s.kept) kept"
        + (s.skipped.isEmpty
          ? ""
          : ", skipped: " + s.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    )
    for e in s.skippedExamples { add("  e.g. \(e)") }
    if d.splitNames.isEmpty {
      if let a = try? SplitAssignment.make(d, groups: spec, seed: seed).apply(to: d) { d = a }
      add(
        "split: none in the layout; showing a seeded split (seed \(seed), 70/10/20, stratified by label × subgroup, grouped by lesion/patient id)"
      )
    } else {
      add("split: from the layout (\(d.splitNames.joined(separator: ", ")))")
    }
    let groupOf = d.samples.map { spec.key($0) }
    let groupNames = Array(Set(groupOf)).sorted()
    let splits = d.splitNames
    // counts[group][split][label]
    var counts: [String: [String: [Int]]] = [:]
    for (i, sample) in d.samples.enumerated() {
      var row = counts[groupOf[i], default: [:]][
        sample.split ?? "-", default: [Int](repeating: 0, count: d.classNames.count)]
      if sample.label < row.count { row[sample.label] += 1 }
      counts[groupOf[i], default: [:]][sample.split ?? "-"] = row
    }
    add()
    add("counts (\(d.classNames.joined(separator: " / ")) per split):")
    let header =
      "subgroup".padding(toLength: 26, withPad: " ", startingAt: 0)
      + splits.map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined() + "total   share"
    add(header)
    for g in groupNames {
      var line = g.padding(toLength: 26, withPad: " ", startingAt: 0)
      var total = 0
      for sp in splits {
        let c = counts[g]?[sp] ?? [Int](repeating: 0, count: d.classNames.count)
        total += c.reduce(0, +)
        line += c.map(String.init).joined(separator: " / ").padding(toLength: 16, withPad: " ", startingAt: 0)
      }
      line +=
        String(total).padding(toLength: 8, withPad: " ", startingAt: 0)
        + String(format: "%5.1f%%", 100 * Double(total) / Double(max(1, d.count)))
      add(line)
    }
    add()
    let attributes = Set(d.samples.flatMap { $0.attributes.keys }).sorted()
    let missing = attributes.map { a in
      (a, d.samples.filter { ($0.attributes[a] ?? unknownValue) == unknownValue }.count)
    }
    add(
      "missing/unknown values: "
        + (missing.allSatisfy { $0.1 == 0 }
          ? "none" : missing.filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))
    add("texts: \(d.samples.filter { $0.text != nil }.count) of \(d.count) samples have one")
    var sizes: [String: Int] = [:]
    var failures: [String] = []
    let step = max(1, d.count / max(1, imageProbe))
    for i in stride(from: 0, to: d.count, by: step).prefix(imageProbe) {
      do {
        let img = try d.samples[i].source.load()
        sizes["\(img.width)x\(img.height)x\(img.channels)", default: 0] += 1
      } catch {
        failures.append("\(error)")
      }
    }
    add(
      "image sizes (WxHxC, \(sizes.values.reduce(0, +)) probed): "
        + sizes.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
    for f in failures.prefix(3) { add("  unreadable: \(f)") }
    // Coverage of a plain shuffled sampler on the training split at this batch size.
    let trainIdx = d.samples.indices.filter { d.samples[$0].split == (splits.first ?? "-") }
    if !trainIdx.isEmpty {
      let cellOf = trainIdx.map { groupOf[$0] }
      let batches = ShuffleBatchSampler(count: trainIdx.count, batchSize: batchSize, seed: seed, dropLast: true)
        .batches(epoch: 0)
      if !batches.isEmpty {
        let cov = BatchCoverage(batches: batches, cellOf: cellOf)
        add()
        add(
          "plain shuffled batches of \(batchSize) on '\(splits.first ?? "-")': share of batches with >= \(minGroupSize) of every subgroup: "
            + String(format: "%.0f%%", 100 * cov.fractionAllCells(atLeast: minGroupSize)))
        add(cov.description)
        if let balanced = try? GroupBalancedBatchSampler(
          cellOf: cellOf, batchSize: batchSize, minPerCell: minGroupSize, seed: seed)
        {
          let b = balanced.batches(epoch: 0)
          let bc = BatchCoverage(batches: b, cellOf: cellOf)
          add(
            "group-balanced sampler (k = \(minGroupSize)): batches with >= \(minGroupSize) of every subgroup: "
              + String(format: "%.0f%%", 100 * bc.fractionAllCells(atLeast: minGroupSize))
              + "; epoch of \(b.count) batches (plain: \(batches.count))")
        } else {
          add(
            "group-balanced sampler: \(Set(cellOf).count) subgroups × \(minGroupSize) do not fit a batch of \(batchSize)"
          )
        }
      }
    }
    var warnings: [String] = []
    for g in groupNames {
      let n = groupOf.filter { $0 == g }.count
      let expected = Double(n) / Double(max(1, d.count)) * Double(batchSize)
      if expected < Double(minGroupSize) {
        warnings.append(
          "subgroup \(g) averages \(String(format: "%.1f", expected)) samples per batch of \(batchSize) (< \(minGroupSize)): use the group-balanced sampler or a larger batch"
        )
      }
      for sp in splits where sp != splits.first {
        let c = counts[g]?[sp] ?? []
        if c.reduce(0, +) < nMin {
          warnings.append(
            "subgroup \(g) has \(c.reduce(0, +)) samples in '\(sp)' (< \(nMin)): its metrics will be flagged")
        }
        if c.count == 2 && c[1] == 0 {
          warnings.append("subgroup \(g) has no positives in '\(sp)': TPR undefined there")
        }
      }
    }
    add()
    add(warnings.isEmpty ? "warnings: none" : "warnings:")
    for w in warnings { add("  - \(w)") }
    return lines.joined(separator: "\n")
  }
}
