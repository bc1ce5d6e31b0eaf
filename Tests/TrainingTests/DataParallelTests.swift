import CLIP
import Distributed
import Foundation
import Tensor
import Testing
@testable import Training

/// Exact global-batch losses over ranks (threads standing in for MPI processes): the loss on
/// every rank and the summed gradient equal one process's on the concatenated batch.
@Suite struct DataParallelTests {
  static let n = 24
  static let labels = (0..<n).map { $0 % 3 == 0 ? 1 : 0 }
  /// Group 5 has samples on the first rank's shard only (contiguous shards).
  static let groups = (0..<n).map { $0 < 4 ? 5 : $0 % 4 }

  /// Contiguous shards, so some groups are on one rank only.
  static func contiguous(_ ranks: Int) -> [[Int]] {
    (0..<ranks).map { r in Array(DataParallel.rows(of: n, rank: r, size: ranks)) }
  }

  static func margins() -> [Float] {
    var g = SeededGenerator(seed: 3)
    return Tensor.uniform([n], low: -0.4, high: 0.6, using: &g).scalars
  }

  @Test(arguments: [2, 3])
  func globalCMACTermAndGradientEqualOneProcess(ranks: Int) throws {
    for comparison in CMACMMD.Comparison.allCases {
      for conditioning in CMACMMD.Conditioning.allCases {
        let options = CMACMMD(lambda: 1, bandwidth: .median, comparison: comparison, conditioning: conditioning)
        let whole = Tensor(Self.margins()).requiringGrad()
        let single = try options.term(margins: whole, groups: Self.groups, labels: Self.labels).value
        try single.backward()
        let expected = try #require(whole.grad).scalars
        let shards = Self.contiguous(ranks)
        let out = try ThreadedWorld.run(size: ranks) { world -> (Float, [Float]) in
          let dp = DataParallel(world: world)
          let mine = shards[world.rank]
          let local = Tensor(mine.map { Self.margins()[$0] }).requiringGrad()
          let order = shards.flatMap { $0 }
          let term = try options.term(
            margins: dp.gather(local), groups: order.map { Self.groups[$0] }, labels: order.map { Self.labels[$0] }
          ).value
          try term.backward()
          return (term.item(), local.grad?.scalars ?? [])
        }
        for (r, (value, grad)) in out.enumerated() {
          #expect(
            abs(value - single.item()) <= 1e-6 * max(1, abs(single.item())),
            "\(comparison)/\(conditioning) rank \(r) L \(value) vs \(single.item())")
          for (k, i) in shards[r].enumerated() {
            #expect(
              abs(grad[k] - expected[i]) <= 1e-6 + 1e-5 * abs(expected[i]),
              "\(comparison)/\(conditioning) rank \(r) ∂L/∂s[\(i)] \(grad[k]) vs \(expected[i])")
          }
        }
      }
    }
  }

  static func method(_ name: String) -> TrainingMethod {
    switch name {
    case "cmac-mmd": return CMACMMDMethod(options: CMACMMD(lambda: 1))
    case "cmac-mmd-logits":
      return CMACMMDMethod(
        options: CMACMMD(lambda: 1, comparison: .pairs, conditioning: CMACMMD.Conditioning.none), marginsOnLogits: true)
    case "groupdro": return GroupDRO(stepSize: 0.5)
    case "fairclip": return FairCLIP(originalCode: true)
    case "meanmatch": return MeanMatch()
    case "dann": return AdversarialDebiasing(conditional: true, warmUp: false)
    default: return ERM()
    }
  }

  /// A tiny CLIP per rank (same seed), each encoding its shard; gradients summed by the
  /// all-reduce equal one process's on the whole batch, for every batch-coupled method.
  @Test(arguments: ["erm", "cmac-mmd", "cmac-mmd-logits", "groupdro", "fairclip", "meanmatch", "dann"])
  func summedGradientsEqualOneProcessOnTheConcatenatedBatch(method name: String) throws {
    var g = SeededGenerator(seed: 11)
    let pixels = Tensor.randn([Self.n, 3, 32, 32], using: &g).scalars
    @Sendable func model() throws -> (CLIPClassifier, TrainingMethod, [Tensor], [Tensor]) {
      let config = try #require(ModelPresets.config(named: "tiny", imageSize: 32))
      let c = CLIPClassifier(
        model: CLIPModel(config: config, seed: 5),
        tokenizer: try CLIPTokenizer.bundledOpenAI(contextLength: ModelPresets.contextLength),
        prompts: ["a benign lesion", "a malignant lesion"])
      let m = Self.method(name)
      try m.prepare(
        TrainingSetSummary(
          labels: Self.labels, groups: Self.groups, groupCount: 6, classCount: 2, embeddingDim: config.projectionDim,
          seed: 1))
      return (c, m, c.model.trainableParameters().map(\.tensor), m.extraParameters.map(\.1))
    }
    @Sendable func images(_ rows: [Int]) throws -> Tensor {
      let size = 3 * 32 * 32
      return try Tensor(rows.flatMap { pixels[($0 * size)..<(($0 + 1) * size)] }, shape: [rows.count, 3, 32, 32])
    }
    // One process, whole batch.
    let (c1, m1, p1, e1) = try model()
    try Parallel.withThreadCount(1) {
      let mb = try c1.methodBatch(
        images: images(Array(0..<Self.n)), pooled: false, labels: Self.labels, groups: Self.groups, texts: nil,
        contrastive: false, progress: 0.5)
      try m1.loss(mb).total.backward()
    }
    let expected = (p1 + e1).map { $0.grad?.scalars ?? [] }
    for ranks in [2, 3] {
      let shards = DataParallel.shards(
        of: Array(0..<Self.n), cell: { "\(Self.groups[$0])|\(Self.labels[$0])" }, ranks: ranks)
      let order = shards.flatMap { $0 }
      let out = try ThreadedWorld.run(size: ranks) { world -> [[Float]] in
        try Parallel.withThreadCount(1) {
          let dp = DataParallel(world: world)
          let (c, m, p, e) = try model()
          let e0 = try c.encode(images: images(shards[world.rank]), pooled: false, texts: nil)
          let mb = try CLIPClassifier.methodBatch(
            imageEmbeddings: dp.gather(e0.images), textEmbeddings: nil, classTexts: dp.replicated(c.classTexts()),
            logitScale: dp.replicated(c.model.logitScale), labels: order.map { Self.labels[$0] },
            groups: order.map { Self.groups[$0] },
            contrastive: false, progress: 0.5)
          try m.loss(mb).total.backward()
          try dp.reduceGradients(summed: p, averaged: e)
          return (p + e).map { $0.grad?.scalars ?? [] }
        }
      }
      for (r, grads) in out.enumerated() {
        for (k, (a, b)) in zip(grads, expected).enumerated() {
          #expect(a.count == b.count, "\(name) ranks \(ranks) rank \(r) tensor \(k): gradient presence differs")
          let scale = b.map(abs).max() ?? 0
          let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
          #expect(
            diff <= 1e-4 * scale + 1e-7,
            "\(name) ranks \(ranks) rank \(r) tensor \(k): max |Δ∂| \(diff) at scale \(scale)")
        }
      }
    }
  }

  @Test func shardsSplitEveryCellAcrossRanksAndCoverTheBatchOnce() {
    let batch = Array(100..<130)
    let cell: (Int) -> String = { "g\($0 % 5)|y\($0 % 2)" }
    for ranks in 1...4 {
      let shards = DataParallel.shards(of: batch, cell: cell, ranks: ranks)
      #expect(shards.flatMap { $0 }.sorted() == batch)
      #expect((shards.map(\.count).max() ?? 0) - (shards.map(\.count).min() ?? 0) <= 1)
      let cells = Dictionary(grouping: batch, by: cell)
      for (c, members) in cells where members.count >= ranks {
        #expect(
          shards.allSatisfy { $0.contains { cell($0) == c } }, "cell \(c) is missing from a shard with \(ranks) ranks")
      }
    }
    #expect(DataParallel.shards(of: [3, 1, 2], cell: { _ in "x" }, ranks: 1) == [[3, 1, 2]])
  }

  @Test func rowsSplitADatasetIntoContiguousShares() {
    for size in 1...4 {
      for count in [0, 1, 7, 64] {
        let ranges = (0..<size).map { DataParallel.rows(of: count, rank: $0, size: size) }
        #expect(ranges.flatMap { Array($0) } == Array(0..<count))
      }
    }
  }

  @Test func batchesSmallerThanTheWorldAreRefusedNamingTheFlag() throws {
    let dp = DataParallel(world: ThreadRank(rank: 0, world: ThreadedWorld(size: 3)))
    #expect(throws: TrainingError.self) { try dp.check(batchSize: 2) }
    try dp.check(batchSize: 3)
    do {
      try dp.check(batches: [[0, 1, 2, 3], [4, 5]], dataset: "train")
      Issue.record("a 2-sample batch on 3 ranks was accepted")
    } catch { #expect("\(error)".contains("a training batch holds 2 samples, fewer than the 3 processes")) }
    try dp.check(batches: [[0, 1, 2], [3, 4, 5]], dataset: "train")
  }

  @Test func aFailureOnOneRankReachesEveryRank() throws {
    struct Boom: Error {}
    let out = try ThreadedWorld.run(size: 3) { world -> String in
      let dp = DataParallel(world: world)
      do {
        try dp.together("loading") { if world.rank == 1 { throw Boom() } }
        return "passed"
      } catch let e as DistributedError { return "\(e)" } catch { return "own" }
    }
    #expect(
      out == [
        "rank 1 failed while loading (its message says why)", "own",
        "rank 1 failed while loading (its message says why)",
      ])
  }
}
