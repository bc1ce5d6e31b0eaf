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
  public static let corpusOutputNames = ["images", "corpus.csv", "synth_config.json"]

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
    ).write(toFile: "\(dir)/corpus.csv", atomically: true, encoding: .utf8)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(config).write(to: URL(fileURLWithPath: "\(dir)/synth_config.json"))
    return records
  }
}
