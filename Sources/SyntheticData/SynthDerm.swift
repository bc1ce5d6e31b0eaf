import Fairness
import Dispatch
import Datasets
import Foundation
import Support

/// Knobs of the synthetic dermatology benchmark. Groups are sex × age bins, keyed like
/// ``GroupingSpec/sexAge`` ("female|<40"). Defaults reproduce the paper's situation: a small
/// "female <40" group (8 % of lesions) whose malignant lesions are subtler (signal 0.35 vs 1.0),
/// with a slightly lighter skin tone / brighter exposure (so the group is visible to the image
/// model but no demographic is ever an input), prevalence rising with age (0.30 in the minority
/// group, so its test split holds enough positives to measure TPR), and 2 % label noise.
public struct DermSynthConfig: Codable, Sendable, Equatable {
  public static let groups = ["male|<40", "male|40-59", "male|>=60", "female|<40", "female|40-59", "female|>=60"]

  /// Images to write (several images may show one lesion).
  public var count = 10_000
  public var width = 64
  public var height = 64
  public var seed: UInt64 = 0
  public var jpegQuality = 90
  /// Share of lesions per group (normalised).
  public var share: [String: Double] = [
    "male|<40": 0.10, "male|40-59": 0.20, "male|>=60": 0.23,
    "female|<40": 0.08, "female|40-59": 0.19, "female|>=60": 0.20,
  ]
  /// P(malignant) per group.
  public var prevalence: [String: Double] = [
    "male|<40": 0.18, "male|40-59": 0.22, "male|>=60": 0.30,
    "female|<40": 0.30, "female|40-59": 0.22, "female|>=60": 0.30,
  ]
  /// Malignant-cue strength per group (1 = obvious ABCD features; lower = subtler lesions).
  public var signal: [String: Double] = [
    "male|<40": 1, "male|40-59": 1, "male|>=60": 1,
    "female|<40": 0.35, "female|40-59": 1, "female|>=60": 1,
  ]
  /// When set, `[lo, hi]`: each lesion's malignant-cue strength is drawn uniformly in it instead
  /// of taken from ``signal`` (a corpus with subtle and obvious lesions in every group).
  public var signalRange: [Double]? = nil
  /// Covariate shift per group: exposure offset (fraction of intensity) ...
  public var brightness: [String: Double] = ["female|<40": 0.08]
  /// ... and mean skin tone (0 light ... 1 dark; each image adds ±0.2).
  public var tone: [String: Double] = ["female|<40": 0.15]
  /// Default skin tone for groups not in `tone`.
  public var baseTone = 0.35
  /// Largest malignant cue of a benign lesion (benign cues are uniform in [0, this]).
  public var benignCue = 0.20
  /// Fraction of recorded labels flipped (the image keeps its true appearance).
  public var labelNoise = 0.02
  /// Under-diagnosis per group: the share of its malignant lesions recorded as benign (the
  /// image stays malignant), as documented for some groups in real chest X-ray labels. A
  /// training-label bias: generate test sets without it.
  public var underdiagnosis: [String: Double] = [:]
  /// Mean images per lesion (1 + Poisson).
  public var imagesPerLesion = 1.35
  /// Fraction of rows with a missing age / "unknown" sex (exercises the missing-value policy).
  public var missingRate = 0.0
  /// Probability of a dermoscope's dark circular vignette.
  public var vignette = 0.2

  public init() {}

  /// The external test set's shift (BCN20000 layout) applied to this config, scaled by `strength`
  /// (0 = none, 1 = default): an older, more often malignant population with harder lesions
  /// (signal × 0.85), a cooler colour cast, slightly darker exposure, more sensor noise and
  /// vignetting, larger lesions (another dermoscope / zoom).
  public func external(strength s: Double = 1) -> DermSynthConfig {
    var c = self
    for g in DermSynthConfig.groups {
      c.prevalence[g] = min(0.95, (prevalence[g] ?? 0.2) * (1 + 0.6 * s))
      if g.hasSuffix(">=60") { c.share[g] = (share[g] ?? 0) * (1 + 0.5 * s) }
      c.brightness[g] = (brightness[g] ?? 0) - 0.02 * s
      c.signal[g] = (signal[g] ?? 1) * (1 - 0.15 * s)
    }
    c.vignette = min(1, vignette + 0.3 * s)
    c.deviceShift = s
    return c
  }

  /// Device shift of the external set (0 = none): colour cast, zoom and sensor noise.
  public var deviceShift = 0.0
  var externalCast: SIMD3<Double> { SIMD3(-0.02, 0, 0.02) * deviceShift }
  var externalZoom: Double { 1 + 0.1 * deviceShift }
  var externalNoise: Double { 0.02 + 0.02 * deviceShift }

  func validate() throws {
    let (n, sizes) = (SyntheticModality.maxImages, SyntheticModality.derm.sizes)
    guard (1...n).contains(count) else { throw DataError.invalidArgument("--n must be in 1…\(n), got \(count)") }
    guard sizes.contains(width), sizes.contains(height) else {
      throw DataError.invalidArgument(
        "--size must be \(sizes.lowerBound)…\(sizes.upperBound) on each side, got \(width)x\(height)")
    }
    guard deviceShift.isFinite, (0...3).contains(deviceShift) else {
      throw DataError.invalidArgument("--external-shift must be in 0…3, got \(deviceShift)")
    }
    guard (1...100).contains(jpegQuality) else {
      throw DataError.invalidArgument("--quality must be in 1…100, got \(jpegQuality)")
    }
    for (name, table) in [("--share", share), ("--prevalence", prevalence), ("--signal", signal), ("--tone", tone)] {
      for (k, v) in table where !(v.isFinite && (0...1).contains(v)) {
        throw DataError.invalidArgument("\(name) \(k)=\(v) must be a number in 0…1")
      }
    }
    for (k, v) in underdiagnosis where !(v.isFinite && (0...1).contains(v)) {
      throw DataError.invalidArgument("--underdiagnosis \(k)=\(v) must be a number in 0…1")
    }
    for (name, table) in [
      ("share", share), ("prevalence", prevalence), ("signal", signal), ("brightness", brightness), ("tone", tone),
      ("underdiagnosis", underdiagnosis),
    ] {
      for k in table.keys where !DermSynthConfig.groups.contains(k) {
        throw DataError.invalidArgument(
          "synth: unknown group '\(k)' in \(name); groups are \(DermSynthConfig.groups.joined(separator: ", "))")
      }
    }
    if let r = signalRange, !(r.count == 2 && r.allSatisfy { $0.isFinite && (0...1).contains($0) } && r[0] <= r[1]) {
      throw DataError.invalidArgument("signal range must be two numbers lo ≤ hi in 0…1, got \(r)")
    }
    guard (0...1).contains(labelNoise), (0...1).contains(missingRate) else {
      throw DataError.invalidArgument(
        "--label-noise and --missing-rate must lie in 0…1, got \(labelNoise) and \(missingRate)")
    }
  }
}

/// One generated image's ground truth (also written to `synth_truth.csv`).
public struct DermSynthRecord: Sendable {
  public var imageID: String, lesionID: String, group: String
  public var sex: String, age: Int
  public var trueLabel: Int, recordedLabel: Int
  public var dx: String, dxType: String, localization: String
  public var cue: Double
}

/// Writes the synthetic dermatology benchmark.
public enum SynthDerm {
  /// What ``write(_:to:external:replacing:)`` writes into its folder (both layouts); `replacing`
  /// removes these entries first, and nothing else.
  public static let outputNames = [
    "HAM10000_images_part_1", "HAM10000_images_part_2", "HAM10000_metadata.csv", "ISIC_2019_Training_Input",
    "ISIC_2019_Training_Metadata.csv", "ISIC_2019_Training_GroundTruth.csv", "synth_truth.csv",
    SyntheticModality.configFile,
  ]

  static let malignantDx = (["mel", "bcc", "akiec"], [0.55, 0.28, 0.17])
  static let benignDx = (["nv", "bkl", "df", "vasc"], [0.82, 0.13, 0.02, 0.03])
  static let sites = [
    "back", "lower extremity", "trunk", "upper extremity", "abdomen", "face", "chest", "foot", "neck", "scalp", "hand",
  ]
  static let isicSite = [
    "back": "posterior torso", "trunk": "anterior torso", "abdomen": "anterior torso", "chest": "anterior torso",
    "face": "head/neck", "neck": "head/neck", "scalp": "head/neck", "foot": "palms/soles", "hand": "palms/soles",
  ]
  static let isicColumn = [
    "mel": "MEL", "nv": "NV", "bcc": "BCC", "akiec": "AK", "bkl": "BKL", "df": "DF", "vasc": "VASC",
  ]

  /// Plans lesions and images (metadata only; deterministic for the seed).
  public static func plan(_ config: DermSynthConfig) -> [DermSynthRecord] {
    var rng = SeededRNG(seed: config.seed, stream: 0xD, 1)
    let groups = DermSynthConfig.groups
    let shares = groups.map { max(0, config.share[$0] ?? 0) }
    var records: [DermSynthRecord] = []
    var lesion = 0
    while records.count < config.count {
      lesion += 1
      let g = groups[rng.categorical(shares)]
      let sex = g.hasPrefix("female") ? "female" : "male"
      let ages =
        g.hasSuffix("<40")
        ? [15, 20, 25, 30, 35] : g.hasSuffix("40-59") ? [40, 45, 50, 55] : [60, 65, 70, 75, 80, 85]
      let age = ages[Int(rng.next() % UInt64(ages.count))]
      let y = rng.bernoulli(config.prevalence[g] ?? 0.2) ? 1 : 0
      // Drawn only where a range is set, so the benchmarks keep their data.
      let s = config.signalRange.map { rng.uniform($0[0], $0[1]) } ?? config.signal[g] ?? 1
      let cue = y == 1 ? s * rng.uniform(0.6, 1.0) : rng.uniform(0, config.benignCue)
      let noisy = rng.bernoulli(config.labelNoise)
      var recorded = noisy ? 1 - y : y
      // Drawn only where a rate is set, so benchmarks without under-diagnosis keep their data.
      if let rate = config.underdiagnosis[g], rate > 0, recorded == 1, rng.bernoulli(rate) { recorded = 0 }
      let table = recorded == 1 ? malignantDx : benignDx
      let dx = table.0[rng.categorical(table.1)]
      let dxType =
        recorded == 1
        ? (rng.bernoulli(0.9) ? "histo" : "confocal")
        : ["follow_up", "histo", "consensus", "confocal"][rng.categorical([0.4, 0.3, 0.28, 0.02])]
      let site = sites[Int(rng.next() % UInt64(sites.count))]
      var views = 1
      while rng.bernoulli(1 - 1 / config.imagesPerLesion) && views < 6 { views += 1 }
      for _ in 0..<views where records.count < config.count {
        records.append(
          DermSynthRecord(
            imageID: String(format: "ISIC_%07d", 1_000_000 + records.count),
            lesionID: String(format: "HAM_%07d", lesion), group: g, sex: sex, age: age,
            trueLabel: y, recordedLabel: recorded, dx: dx, dxType: dxType,
            localization: site, cue: cue))
      }
    }
    return records
  }

  /// Draws image `i` of `records` (same lesion → same shape; each view its own nuisance).
  public static func image(_ records: [DermSynthRecord], _ i: Int, config: DermSynthConfig) -> PixelImage {
    let r = records[i]
    var lesionRNG = SeededRNG(seed: config.seed, stream: 0x1E5, UInt64(r.lesionID.dropFirst(4))!)
    let shape = LesionShape(cue: r.cue, scale: config.externalZoom, rng: &lesionRNG)
    var rng = SeededRNG(seed: config.seed, stream: 0x1A6, UInt64(i))
    let tone = (config.tone[r.group] ?? config.baseTone) + rng.uniform(-0.2, 0.2)
    let view = DermView(
      tone: tone, brightness: config.brightness[r.group] ?? 0, cast: config.externalCast,
      vignetteProbability: config.vignette, noise: config.externalNoise, rng: &rng)
    return DermRenderer.render(width: config.width, height: config.height, lesion: shape, view: view, rng: &rng)
  }

  /// Renders every record's image and writes it as a JPEG to `path(i)`, in parallel; the first
  /// error is rethrown.
  static func writeImages(
    _ records: [DermSynthRecord], config: DermSynthConfig, path: @Sendable (Int) -> String
  ) throws {
    let failure = ErrorSlot()
    let chunk = 64
    DispatchQueue.concurrentPerform(iterations: (records.count + chunk - 1) / chunk) { c in
      for i in (c * chunk)..<min(records.count, (c + 1) * chunk) {
        do {
          let jpeg = try ImageCodec.encodeJPEG(image(records, i, config: config), quality: config.jpegQuality)
          try jpeg.write(to: URL(fileURLWithPath: path(i)))
        } catch {
          failure.set(error)
        }
      }
    }
    if let e = failure.error { throw e }
  }

  /// Writes a HAM10000-layout folder (`HAM10000_metadata.csv`, `HAM10000_images_part_1/2/*.jpg`),
  /// or with `external` a BCN20000 / ISIC 2019 layout, plus `synth_truth.csv` and `synth_config.json`.
  @discardableResult
  public static func write(_ config: DermSynthConfig, to dir: String, external: Bool = false, replacing: Bool = false)
    throws -> [DermSynthRecord]
  {
    try config.validate()
    if replacing { try OutputPath.remove(outputNames, in: dir) }
    let fm = FileManager.default
    let records = plan(config)
    let folders = external ? ["ISIC_2019_Training_Input"] : ["HAM10000_images_part_1", "HAM10000_images_part_2"]
    for f in folders {
      try fm.createDirectory(atPath: (dir as NSString).appendingPathComponent(f), withIntermediateDirectories: true)
    }
    try writeImages(records, config: config) { i in
      "\(dir)/\(folders[external || i < records.count / 2 ? 0 : 1])/\(records[i].imageID).jpg"
    }
    var missing = SeededRNG(seed: config.seed, stream: 0x3155, 0)
    let rows = records.map { r -> (age: String, sex: String) in
      missing.bernoulli(config.missingRate)
        ? (missing.bernoulli(0.5) ? ("", r.sex) : (String(r.age), "unknown"))
        : (String(r.age), r.sex)
    }
    if external {
      let classes = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK"]
      try CSVTable.render(
        header: ["image", "age_approx", "anatom_site_general", "lesion_id", "sex"],
        rows: zip(records, rows).map {
          [$0.imageID, $1.age, isicSite[$0.localization] ?? $0.localization, $0.lesionID, $1.sex]
        }
      )
      .write(toFile: "\(dir)/ISIC_2019_Training_Metadata.csv", atomically: true, encoding: .utf8)
      try CSVTable.render(
        header: ["image"] + classes,
        rows: records.map { r in
          [r.imageID] + classes.map { $0 == isicColumn[r.dx] ? "1.0" : "0.0" }
        }
      ).write(toFile: "\(dir)/ISIC_2019_Training_GroundTruth.csv", atomically: true, encoding: .utf8)
    } else {
      try CSVTable.render(
        header: ["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization", "dataset"],
        rows: zip(records, rows).map {
          [$0.lesionID, $0.imageID, $0.dx, $0.dxType, $1.age, $1.sex, $0.localization, "synth"]
        }
      )
      .write(toFile: "\(dir)/HAM10000_metadata.csv", atomically: true, encoding: .utf8)
    }
    try CSVTable.render(
      header: ["image_id", "lesion_id", "group", "true_label", "recorded_label", "cue"],
      rows: records.map {
        [
          $0.imageID, $0.lesionID, $0.group, String($0.trueLabel), String($0.recordedLabel),
          String(format: "%.4f", $0.cue),
        ]
      }
    )
    .write(toFile: "\(dir)/synth_truth.csv", atomically: true, encoding: .utf8)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(config).write(to: URL(fileURLWithPath: "\(dir)/" + SyntheticModality.configFile))
    return records
  }
}
