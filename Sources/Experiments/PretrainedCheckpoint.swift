import Fairness
import Foundation
#if canImport(Glibc)
  import Glibc
#endif
import Support
import SyntheticData
import Tensor
import Training

/// A pretrained CLIP that FairMed makes itself: `fairmed synth KIND --corpus` (a balanced,
/// captioned corpus whose seed no benchmark uses) and `fairmed pretrain` on it. Built on first
/// use and cached in the user's cache folder (``Support/cacheDirectory(_:)``), keyed by the
/// two commands and their seeds, so every study and demo that names the same recipe starts from
/// the same weights; an interrupted build resumes where it stopped.
public struct PretrainingRecipe: Codable, Equatable, Sendable {
  public var kind: StudyConfig.SynthKind
  /// Corpus images, their side and the corpus seed.
  public var images = 50_000
  public var size = 32
  public var corpusSeed: UInt64 = 1000
  public var preset: ScratchPreset = .tiny
  public var epochs = 20
  public var batchSize = 256
  public var seed: UInt64 = 0

  public init(kind: StudyConfig.SynthKind) { self.kind = kind }

  /// Keys left out keep their defaults; an unknown key is refused, naming the nearest one.
  public init(from decoder: Decoder) throws {
    try refuseUnknownKeys(decoder, known: storedPropertyNames(of: PretrainingRecipe(kind: .derm)))
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = PretrainingRecipe(kind: .derm)
    kind = try c.decode(StudyConfig.SynthKind.self, forKey: .kind)
    images = try c.decodeIfPresent(Int.self, forKey: .images) ?? d.images
    size = try c.decodeIfPresent(Int.self, forKey: .size) ?? d.size
    corpusSeed = try c.decodeIfPresent(UInt64.self, forKey: .corpusSeed) ?? d.corpusSeed
    preset = try c.decodeIfPresent(ScratchPreset.self, forKey: .preset) ?? d.preset
    epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
    batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
    seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
  }

  /// The cache entry's name: every field of the recipe.
  public var key: String {
    "\(kind.rawValue)-\(preset.rawValue)-\(size)px-n\(images)-c\(corpusSeed)-e\(epochs)-b\(batchSize)-s\(seed)"
  }

  /// The two commands that build it (`CORPUS` and `RUN` stand for the cache's folders).
  public var commands: [String] {
    [
      "fairmed synth \(kind.rawValue) --corpus --n \(images) --size \(size) --seed \(corpusSeed) --out CORPUS",
      "fairmed pretrain --data manifest:CORPUS/corpus.csv --from-scratch \(preset.rawValue) --image-size \(size) --epochs \(epochs) --batch-size \(batchSize) --seed \(seed) --out RUN",
    ]
  }

  func problems() -> [String] {
    var p: [String] = []
    let n = SyntheticModality.maxImages
    if !(100...n).contains(images) { p.append("pretrained.images must be in 100…\(n), got \(images)") }
    let sizes = kind.sizes
    if !sizes.contains(size) {
      p.append("pretrained.size must be in \(sizes.lowerBound)…\(sizes.upperBound) for \(kind.rawValue), got \(size)")
    }
    if !(1...RunConfig.maxEpochs).contains(epochs) {
      p.append("pretrained.epochs must be in 1…\(RunConfig.maxEpochs), got \(epochs)")
    }
    if !(2...RunConfig.maxBatchSize).contains(batchSize) {
      p.append("pretrained.batchSize must be in 2…\(RunConfig.maxBatchSize), got \(batchSize)")
    }
    return p
  }

  /// The pretraining run's configuration on the corpus at `corpus`.
  func runConfig(corpus: String) -> RunConfig {
    var c = RunConfig(data: "manifest:\(corpus)/" + SyntheticCorpus.manifest)
    c.objective = .pretrain
    c.fromScratch = preset
    c.imageSize = size
    c.epochs = epochs
    c.batchSize = batchSize
    c.seed = seed
    return c
  }

  /// The cached model folder (`<cache>/pretrained/<key>/best`), built first when missing: the
  /// corpus, then the pretraining run (resumed when a build was interrupted), moved into place
  /// only when complete, with `recipe.json` (this recipe and its commands), the run's
  /// `run.json` and `metrics.jsonl` beside `best/`. The corpus is deleted afterwards (the
  /// commands regenerate it exactly).
  /// `cache`: the cache folder (default ``Support/cacheDirectory(_:)``).
  public func ensure(cache: String? = nil, log say: (String) -> Void = { _ in }, quiet: Bool = true) throws -> String {
    try StudyConfig.check(problems())
    let root = try (cache ?? cacheDirectory()) + "/pretrained"
    let done = root + "/" + key
    let fm = FileManager.default
    if let data = fm.contents(atPath: done + "/recipe.json") {
      if let built = (try? JSONDecoder().decode(Entry.self, from: data))?.kernels, built != BLAS.kernelFamily {
        say(
          "pretrained \(key): cached from a machine with \(built); this one has \(BLAS.kernelFamily), where the same recipe may build different weights (docs/training.md): the cached model is used"
        )
      }
      // An entry pretrained with other options than this recipe's run (FairMed's defaults for
      // them changed since) is not this recipe's model.
      if let stored = try? RunConfig.load(done + "/" + RunConfig.fileName) {
        var now = runConfig(corpus: "")
        now.data = stored.data
        let changes = try now.changes(since: stored)
        guard changes.isEmpty else {
          throw TrainingError.file(
            done,
            "was pretrained with other options than this FairMed gives the recipe (\(changes.joined(separator: "; "))): remove the folder to build it again"
          )
        }
      }
      return done + "/" + ModelFolderLayout.best
    }
    let work = done + ".building"
    let corpus = work + "/corpus", run = work + "/run"
    try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
    // One process builds an entry at a time (the lock goes with the process, however it ends).
    let lock = open(work + ".lock", O_CREAT | O_RDWR, 0o644)
    guard lock >= 0 else {
      throw TrainingError.file(work + ".lock", "cannot be created: \(String(cString: strerror(errno)))")
    }
    defer { close(lock) }
    guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
      throw TrainingError.file(
        done, "is being built by another FairMed process now: wait for it to finish, then run again (it will be reused)"
      )
    }
    // Built by another process meanwhile.
    if let data = fm.contents(atPath: done + "/recipe.json"), !data.isEmpty {
      return done + "/" + ModelFolderLayout.best
    }
    try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
    if !fm.fileExists(atPath: corpus + "/" + SyntheticCorpus.manifest) {
      say("pretrained \(key): writing the corpus (\(commands[0]))")
      try writeCorpus(to: corpus)
    }
    say("pretrained \(key): pretraining (\(commands[1])); cached in \(done)")
    let resume = fm.fileExists(atPath: run + "/" + RunConfig.fileName)
    _ = try Trainer(
      config: runConfig(corpus: corpus), runDirectory: run,
      log: TrainingLog(metricsPath: run + "/" + TrainingLog.fileName, quiet: quiet)
    ).run(resume: resume, overwrite: !resume)
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try AtomicWrite.directory(done) { dir in
      try fm.copyItem(atPath: run + "/" + ModelFolderLayout.best, toPath: dir + "/" + ModelFolderLayout.best)
      for f in [RunConfig.fileName, TrainingLog.fileName] {
        try fm.copyItem(atPath: run + "/" + f, toPath: dir + "/" + f)
      }
      try AtomicWrite.file(
        try enc.encode(Entry(recipe: self, commands: commands, kernels: BLAS.kernelFamily)), to: dir + "/recipe.json")
    }
    try fm.removeItem(atPath: work)
    try? fm.removeItem(atPath: work + ".lock")
    return done + "/" + ModelFolderLayout.best
  }

  /// `recipe.json`: the recipe, its commands and the kernel family it was built with
  /// (``Tensor/BLAS/kernelFamily``; absent in entries built before FairMed recorded it).
  struct Entry: Codable {
    let recipe: PretrainingRecipe
    let commands: [String]
    let kernels: String?
  }

  func writeCorpus(to dir: String) throws {
    try SyntheticCorpus.write(kind, count: images, size: size, seed: corpusSeed, to: dir, replacing: true)
  }
}

extension StudyConfig {
  /// Throws the listed problems as one error.
  static func check(_ problems: [String]) throws {
    guard problems.isEmpty else { throw TrainingError.invalidConfig(problems) }
  }
}
