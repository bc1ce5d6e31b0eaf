import Datasets
import Foundation
import Support

/// Free-text captions for a pretraining corpus: each image's report is assembled from what its
/// generator drew (the finding, its morphology, size and site, the acquisition), with every fact
/// said in one of several paraphrases, clauses in varying order and distractor phrases a real
/// report carries. Demographics are never written into a caption. Deterministic per (seed, image).
struct CaptionWriter {
  var rng: SeededRNG

  init(seed: UInt64, image: Int) { rng = SeededRNG(seed: seed, stream: 0xCA97, UInt64(image)) }

  /// One of `options`.
  mutating func pick(_ options: [String]) -> String { options[Int(rng.next() % UInt64(options.count))] }

  /// `clauses` (the facts) in a shuffled order with 0–2 distractors, as one report.
  mutating func report(opening: [String], clauses: [String], distractors: [String]) -> String {
    var parts = clauses
    parts.shuffle(using: &rng)
    var extra = distractors
    extra.shuffle(using: &rng)
    parts += extra.prefix(Int(rng.next() % 3))
    let separator = pick([". ", "; ", ", "])
    let sentences = ([pick(opening)] + parts).filter { !$0.isEmpty }.enumerated().map { i, part in
      i == 0 || separator == ". " ? part.prefix(1).uppercased() + part.dropFirst() : part
    }
    return sentences.joined(separator: separator) + "."
  }
}

extension SynthDerm {
  /// The corpus defaults: every sex × age group equally often, malignant and benign lesions
  /// equally often in each, malignant cues of every strength from subtle to obvious
  /// (``DermSynthConfig/signalRange`` 0.3…1) in every group, and the benchmark's 2 % label
  /// noise. Its own seed stream (`seed`) keeps its lesions apart from any benchmark's.
  public static func corpusConfig(count: Int, size: Int, seed: UInt64) -> DermSynthConfig {
    var c = DermSynthConfig()
    c.count = count
    c.width = size
    c.height = size
    c.seed = seed
    for g in DermSynthConfig.groups {
      c.share[g] = 1
      c.prevalence[g] = 0.5
      c.signal[g] = 1
    }
    c.brightness = [:]
    c.tone = [:]
    c.signalRange = [0.3, 1]
    return c
  }

  /// The report of image `i`: diagnosis, ABCD morphology from its malignant cue, size from its
  /// lesion's radius (a 15 mm field of view), and body site.
  static func caption(_ records: [DermSynthRecord], _ i: Int, config: DermSynthConfig) -> String {
    let r = records[i]
    var lesionRNG = SeededRNG(seed: config.seed, stream: 0x1E5, UInt64(r.lesionID.dropFirst(4))!)
    let shape = LesionShape(cue: r.cue, scale: config.externalZoom, rng: &lesionRNG)
    var w = CaptionWriter(seed: config.seed, image: i)
    let names: [String: [String]] = [
      "mel": ["melanoma", "malignant melanoma", "invasive melanoma"],
      "bcc": ["basal cell carcinoma", "BCC", "basal cell carcinoma, nodular"],
      "akiec": ["actinic keratosis", "intraepithelial carcinoma", "Bowen's disease"],
      "nv": ["melanocytic nevus", "benign naevus", "common mole"],
      "bkl": ["seborrheic keratosis", "benign keratosis", "solar lentigo"],
      "df": ["dermatofibroma", "benign fibrous histiocytoma"],
      "vasc": ["haemangioma", "vascular lesion", "cherry angioma"],
    ]
    let malignant = r.recordedLabel == 1
    let dx = w.pick(names[r.dx] ?? [r.dx])
    let verdict =
      malignant
      ? w.pick(["malignant", "suspicious for malignancy", "concerning"])
      : w.pick(["benign", "reassuring", "non-suspicious"])
    let morphology: String
    switch r.cue {
    case ..<0.2:
      morphology = w.pick([
        "symmetric with a regular border and uniform brown colour", "round, sharply demarcated, one colour",
        "regular pigment network, smooth edge",
      ])
    case ..<0.45:
      morphology = w.pick([
        "slightly asymmetric with a faintly irregular edge", "mild asymmetry and a subtle second colour",
        "subtle irregularity of the border",
      ])
    case ..<0.7:
      morphology = w.pick([
        "asymmetric with an irregular border and two or three colours", "irregular notched border, variegated pigment",
        "asymmetry and blue-grey areas",
      ])
    default:
      morphology = w.pick([
        "markedly asymmetric, ragged border, multiple colours including blue-grey and red",
        "highly irregular outline with dark blotches and several colours",
        "chaotic pattern, irregular lobes, multiple colours",
      ])
    }
    let mm = Int((shape.radius * 2 * 15).rounded())
    let size = w.pick([
      "\(mm) mm", "about \(mm) mm across", "diameter \(mm) mm", mm >= 6 ? "large, \(mm) mm" : "small, \(mm) mm",
    ])
    let site = w.pick(["on the \(r.localization)", "site: \(r.localization)", "\(r.localization)"])
    return w.report(
      opening: ["dermoscopy", "dermoscopic image", "dermatoscopy of a pigmented lesion", ""],
      clauses: ["\(dx), \(verdict)", morphology, size, site],
      distractors: [
        "polarised light", "image quality adequate", "no prior images for comparison", "hair artefact",
        "follow-up as clinically indicated", "contact dermoscopy with gel",
      ])
  }

  /// What ``writeCorpus(_:to:replacing:)`` writes into its folder.
  public static let corpusOutputNames = ["images", SyntheticCorpus.manifest, SyntheticModality.configFile]

  /// Writes a pretraining corpus: `images/*.jpg` and `corpus.csv`
  /// (`path,text,label,sex,age,lesion_id`, a manifest whose text column is each image's report,
  /// for `fairmed pretrain --data manifest:DIR/corpus.csv`), and `synth_config.json`.
  @discardableResult
  public static func writeCorpus(_ config: DermSynthConfig, to dir: String, replacing: Bool = false) throws
    -> [DermSynthRecord]
  {
    try config.validate()
    if replacing { try OutputPath.remove(corpusOutputNames, in: dir) }
    try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
    let records = plan(config)
    try writeImages(records, config: config) { "\(dir)/images/\(records[$0].imageID).jpg" }
    try CSVTable.render(
      header: ["path", "text", "label", "sex", "age", "lesion_id"],
      rows: records.indices.map { i in
        let r = records[i]
        return [
          "images/\(r.imageID).jpg", caption(records, i, config: config), String(r.recordedLabel), r.sex,
          String(r.age), r.lesionID,
        ]
      }
    ).write(toFile: "\(dir)/" + SyntheticCorpus.manifest, atomically: true, encoding: .utf8)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(config).write(to: URL(fileURLWithPath: "\(dir)/" + SyntheticModality.configFile))
    return records
  }
}

extension SynthFundus {
  /// The corpus defaults: the three races equally often, half of each sex, prevalence 0.5,
  /// glaucomatous cupping of every strength (``FundusSynthConfig/signalRange`` 0.3…1) in every
  /// group and the benchmark's cup-to-disc spread, all in one split.
  public static func corpusConfig(count: Int, size: Int, seed: UInt64) -> FundusSynthConfig {
    var c = FundusSynthConfig()
    c.count = count
    c.width = size
    c.height = size
    c.seed = seed
    c.splits = [1, 0, 0]
    for r in FundusSynthConfig.races {
      c.raceShare[r] = 1
      c.prevalence[r] = 0.5
    }
    c.femaleShare = 0.5
    c.brightness = [:]
    c.signalRange = [0.3, 1]
    return c
  }

  /// The report of record `r`: the measured cup-to-disc ratio, the rim and the diagnosis, in
  /// varied wording, without demographics.
  static func caption(_ r: Record, config: FundusSynthConfig) -> String {
    var w = CaptionWriter(seed: config.seed, image: r.id)
    let measured = min(0.95, max(0.1, r.cdr + 0.05 * w.rng.normal()))
    let cdr = String(format: "%.1f", measured)
    let ratio = w.pick(["C/D ratio \(cdr)", "cup-to-disc ratio about \(cdr)", "vertical CDR \(cdr)"])
    let rim: String
    switch measured {
    case ..<0.45: rim = w.pick(["healthy neuroretinal rim", "intact rim", "small physiological cup"])
    case ..<0.6: rim = w.pick(["borderline cupping", "mild rim thinning", "moderately enlarged cup"])
    default:
      rim = w.pick(["enlarged cupping with thinning of the neuroretinal rim", "deep excavated cup", "notched thin rim"])
    }
    let dx =
      r.glaucoma == 1
      ? w.pick(["glaucoma", "glaucomatous optic neuropathy", "consistent with glaucoma"])
      : w.pick(["no glaucoma", "normal optic nerve head", "non-glaucomatous disc"])
    return w.report(
      opening: ["SLO fundus image", "scanning laser ophthalmoscopy of the optic disc", "fundus image", ""],
      clauses: [dx, ratio, rim],
      distractors: [
        "media clear", "macula unremarkable", "vessels of normal calibre", "image centred on the disc",
        "follow-up in 6 months", "OCT RNFL ordered",
      ])
  }

  /// Writes a pretraining corpus: `images/*.png` (8-bit gray) and `corpus.csv`
  /// (`path,text,label,sex,race,age`, for `fairmed pretrain --data manifest:DIR/corpus.csv`),
  /// and `synth_config.json`.
  public static func writeCorpus(_ config: FundusSynthConfig, to dir: String, replacing: Bool = false) throws {
    try config.validate()
    if replacing { try OutputPath.remove(SynthDerm.corpusOutputNames, in: dir) }
    try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
    let records = plan(config)
    let failure = ErrorSlot()
    DispatchQueue.concurrentPerform(iterations: (records.count + 63) / 64) { c in
      for r in records[(c * 64)..<min(records.count, (c + 1) * 64)] {
        do {
          try ImageCodec.encodePNG(render(r, config: config)).write(
            to: URL(fileURLWithPath: "\(dir)/images/" + String(format: "fundus_%07d.png", r.id)))
        } catch {
          failure.set(error)
        }
      }
    }
    if let e = failure.error { throw e }
    try AtomicWrite.file(
      CSVTable.render(
        header: ["path", "text", "label", "sex", "race", "age"],
        rows: records.map { r in
          [
            "images/" + String(format: "fundus_%07d.png", r.id), caption(r, config: config), String(r.glaucoma),
            r.gender == 0 ? "female" : "male", FundusSynthConfig.races[r.race], String(Int(r.age)),
          ]
        }), to: "\(dir)/" + SyntheticCorpus.manifest)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicWrite.file(try encoder.encode(config), to: "\(dir)/" + SyntheticModality.configFile)
  }
}

extension SynthChest {
  /// The corpus defaults: every sex × age group equally often, prevalence 0.5, and the portable
  /// AP device for 30 % of every group's images (the benchmark's 80 % for one group is its bias).
  public static func corpusConfig(count: Int, size: Int, seed: UInt64) -> ChestSynthConfig {
    var c = ChestSynthConfig()
    c.count = count
    c.width = size
    c.height = size
    c.seed = seed
    for g in ChestSynthConfig.groups {
      c.share[g] = 1
      c.prevalence[g] = 0.5
      c.portable[g] = 0.3
    }
    return c
  }

  /// Writes a pretraining corpus: the benchmark's own layout (`images/*.png`, and `manifest.csv`
  /// whose text column is each image's report, which names neither sex nor age) copied to
  /// `corpus.csv`, for `fairmed pretrain --data manifest:DIR/corpus.csv`.
  @discardableResult
  public static func writeCorpus(_ config: ChestSynthConfig, to dir: String, replacing: Bool = false) throws
    -> [ChestSynthRecord]
  {
    if replacing { try OutputPath.remove(outputNames + [SyntheticCorpus.manifest], in: dir) }
    let records = try write(config, to: dir)
    try AtomicWrite.file(try readFile(dir + "/manifest.csv"), to: dir + "/" + SyntheticCorpus.manifest)
    return records
  }
}

/// The synthetic modalities: `fairmed synth derm|fundus|chest`, a study's `synth.kind`.
public enum SyntheticModality: String, Codable, Sendable, CaseIterable {
  case derm, fundus, chest

  /// The image sides its generator draws (fundus and chest anatomy needs 16 pixels).
  public var sizes: ClosedRange<Int> { self == .derm ? 8...4096 : 16...4096 }
  /// The most images one generated set may hold (`--n`).
  public static let maxImages = 10_000_000
  /// The generator's configuration, written last into every generated set: a set without it is
  /// unfinished.
  public static let configFile = "synth_config.json"
}

/// The balanced, captioned pretraining corpus of each modality (`fairmed synth KIND --corpus`).
public enum SyntheticCorpus {
  /// The corpus manifest in the output folder: `path,text,…`, for `--data manifest:DIR/corpus.csv`.
  public static let manifest = "corpus.csv"

  /// Writes `count` captioned images of side `size` drawn with `seed` into `dir` (its corpus
  /// entries removed first with `replacing`); returns how many are positive.
  @discardableResult
  public static func write(
    _ kind: SyntheticModality, count: Int, size: Int, seed: UInt64, to dir: String, replacing: Bool = false
  ) throws -> Int {
    switch kind {
    case .derm:
      return try SynthDerm.writeCorpus(
        SynthDerm.corpusConfig(count: count, size: size, seed: seed), to: dir, replacing: replacing
      ).filter { $0.recordedLabel == 1 }.count
    case .fundus:
      let c = SynthFundus.corpusConfig(count: count, size: size, seed: seed)
      try SynthFundus.writeCorpus(c, to: dir, replacing: replacing)
      return SynthFundus.plan(c).filter { $0.glaucoma == 1 }.count
    case .chest:
      return try SynthChest.writeCorpus(
        SynthChest.corpusConfig(count: count, size: size, seed: seed), to: dir, replacing: replacing
      ).filter { $0.recordedLabel == 1 }.count
    }
  }
}
