import Foundation
import TestSupport
import Testing
@testable import Datasets

/// A synthetic dataset of `lesions` lesions (1–3 images each) over 4 groups with unequal sizes.
func toyDataset(lesions: Int = 400, seed: UInt64 = 3) -> Dataset {
  var rng = SeededRNG(seed: seed)
  var samples: [Sample] = []
  for l in 0..<lesions {
    let sex = rng.bernoulli(0.5) ? "female" : "male"
    let age = rng.bernoulli(0.2) ? "30" : "65"
    let label = rng.bernoulli(age == "30" ? 0.2 : 0.4) ? 1 : 0
    for v in 0..<(1 + Int(rng.next() % 3)) {
      samples.append(
        Sample(
          id: "img\(l)_\(v)", source: .file("/nonexistent"), label: label,
          attributes: ["sex": sex, "age": age], groupID: "lesion\(l)"))
    }
  }
  return Dataset(name: "toy", classNames: ["0", "1"], samples: samples, defaultGroups: .sexAge)
}

@Suite struct SplitSamplerTests {
  @Test func splitsAreGroupedStratifiedSeededAndReloadable() throws {
    let d = toyDataset()
    let a = SplitAssignment.make(d, seed: 11)
    #expect(a.splitOf.count == d.count)
    // No lesion in two splits.
    var splitOfLesion: [String: String] = [:]
    for s in d.samples {
      let split = a.splitOf[s.id]!
      #expect(splitOfLesion[s.groupID!, default: split] == split)
      splitOfLesion[s.groupID!] = split
    }
    // Stratified: every label × subgroup cell is split close to 70/10/20.
    let applied = try a.apply(to: d)
    var cells: [String: [String: Int]] = [:]
    for s in applied.samples { cells["\(s.label)#\(d.defaultGroups.key(s))", default: [:]][s.split!, default: 0] += 1 }
    for (_, c) in cells {
      let n = Double(c.values.reduce(0, +))
      #expect(abs(Double(c["train", default: 0]) / n - 0.7) < 0.08)
      #expect(abs(Double(c["test", default: 0]) / n - 0.2) < 0.08)
    }
    #expect(SplitAssignment.make(d, seed: 11) == a)
    #expect(SplitAssignment.make(d, seed: 12) != a)
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try a.save(to: dir + "/split.csv")
    #expect(try SplitAssignment.load(from: dir + "/split.csv") == a)
    var smaller = d
    smaller.samples.append(Sample(id: "stranger", source: .file("/x"), label: 0))
    #expect(throws: DataError.self) { try a.apply(to: smaller) }
  }

  @Test func shuffleSamplerCoversEveryIndexOnce() {
    let s = ShuffleBatchSampler(count: 103, batchSize: 10, seed: 4)
    let b = s.batches(epoch: 0)
    #expect(b.count == 11 && b.last!.count == 3)
    #expect(b.flatMap { $0 }.sorted() == Array(0..<103))
    #expect(s.batches(epoch: 0) == b && s.batches(epoch: 1) != b)
    #expect(ShuffleBatchSampler(count: 103, batchSize: 10, dropLast: true).batches(epoch: 0).count == 10)
  }

  @Test func balancedSamplerGuaranteesKPerCell() throws {
    let d = toyDataset()
    let cellOf = d.samples.map { "\(d.defaultGroups.key($0))#\($0.label)" }
    let k = 2, batch = 32
    let sampler = try GroupBalancedBatchSampler(dataset: d, byLabel: true, batchSize: batch, minPerCell: k, seed: 9)
    #expect(sampler.cellOf == cellOf && sampler.cells.count == 8)
    let batches = sampler.batches(epoch: 0)
    // Oversampling small cells lengthens the epoch, at most to ⌈N / (B − k·cells)⌉ batches.
    let cellCount = Set(cellOf).count
    #expect(batches.count >= (d.count + batch - 1) / batch)
    #expect(batches.count <= (d.count + batch - k * cellCount - 1) / (batch - k * cellCount) + 1)
    let cov = BatchCoverage(batches: batches, cellOf: cellOf)
    #expect(cov.minimum.allSatisfy { $0 >= k })
    #expect(cov.fractionAllCells(atLeast: k) == 1)
    for b in batches { #expect(b.count == batch && Set(b).count == batch) }
    // Every sample is still visited each epoch.
    #expect(Set(batches.flatMap { $0 }).count == d.count)
    #expect(sampler.batches(epoch: 0) == batches && sampler.batches(epoch: 1) != batches)
    // A plain sampler at this batch size misses the small cells in some batches.
    let plain = BatchCoverage(
      batches: ShuffleBatchSampler(count: d.count, batchSize: batch, seed: 9).batches(epoch: 0), cellOf: cellOf)
    #expect(plain.fractionAllCells(atLeast: k) < 1)
    // Data too small for k: the cell contributes all it has; too many cells: a clear error.
    let tiny = try GroupBalancedBatchSampler(
      cellOf: ["a", "a", "a", "b"] + Array(repeating: "c", count: 20), batchSize: 8, minPerCell: 3)
    for b in tiny.batches(epoch: 0) { #expect(b.contains(3)) }
    #expect(throws: DataError.self) { try GroupBalancedBatchSampler(cellOf: cellOf, batchSize: 8, minPerCell: 2) }
  }

  @Test func batchLoaderIsDeterministicAndParallel() throws {
    let d = try HAM10000.load(directory: fixturePath("ham10000"))
    let batches = ShuffleBatchSampler(count: d.count, batchSize: 3, seed: 1).batches(epoch: 0)
    let t = ImageTransform(size: 8, augmentation: Augmentation())
    func run(threads: Int, prefetch: Int) throws -> [ImageBatch] {
      let loader = BatchLoader(
        dataset: d, batches: batches, transform: t, seed: 5, epoch: 0, prefetch: prefetch, threads: threads)
      var out: [ImageBatch] = []
      while let b = try loader.next() { out.append(b) }
      return out
    }
    let one = try run(threads: 1, prefetch: 1), many = try run(threads: 4, prefetch: 3)
    #expect(one.count == 3 && one.map(\.count) == [3, 3, 2])
    #expect(one.map(\.pixels) == many.map(\.pixels))
    #expect(one[0].indices == batches[0] && one[0].pixels.count == 3 * 3 * 64)
    #expect(one[0].labels == batches[0].map { d.samples[$0].label })
    #expect(one[0].groups == batches[0].map { d.defaultGroups.key(d.samples[$0]) })
    #expect(!one[0].pixels.contains { !$0.isFinite })
  }

  @Test func batchLoaderReportsTheBrokenFile() throws {
    let dir = copyOfFixture("ham10000")
    defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
    let victim = dir + "/HAM10000_images_part_2/ISIC_0025276.jpg"
    let bytes = FileManager.default.contents(atPath: victim)!
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: victim))
    let d = try HAM10000.load(directory: dir)
    let loader = BatchLoader(dataset: d, batches: [Array(0..<d.count)], transform: ImageTransform(size: 8))
    do {
      _ = try loader.next()
      Issue.record("truncated JPEG decoded")
    } catch let error as DataError {
      #expect(error.description.contains("ISIC_0025276.jpg"))
    }
  }
}
