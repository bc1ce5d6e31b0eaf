import Dispatch
import Datasets
import Foundation
import Support

/// Knobs of the synthetic glaucoma benchmark (FairVLMed layout). Knobs are keyed by race
/// ("asian", "black", "white"). The label is carried by the optic cup-to-disc ratio (CDR):
/// normal ≈ 0.35, glaucoma ≈ 0.35 + 0.35·signal. Defaults: FairVLMed-like demographics
/// (77 % White, 15 % Black, 8 % Asian; 57 % female), a subtler CDR shift for the small Asian
/// group (signal 0.5) and darker fundus images for Black patients (covariate shift).
public struct FundusSynthConfig: Codable, Sendable, Equatable {
  public static let races = ["asian", "black", "white"]

  public var count = 10_000
  public var width = 64
  public var height = 64
  public var seed: UInt64 = 0
  /// Train / validation / test fractions (FairVLMed: 7000 / 1000 / 2000).
  public var splits = [0.7, 0.1, 0.2]
  public var raceShare: [String: Double] = ["asian": 0.08, "black": 0.15, "white": 0.77]
  public var femaleShare = 0.57
  public var prevalence: [String: Double] = ["asian": 0.45, "black": 0.58, "white": 0.47]
  public var signal: [String: Double] = ["asian": 0.5, "black": 1, "white": 1]
  public var brightness: [String: Double] = ["black": -0.10]
  /// Standard deviation of the CDR around its class mean.
  public var cdrSpread = 0.07
  public var labelNoise = 0.02
  /// When set, `[lo, hi]`: each eye's glaucoma signal is drawn uniformly in it instead of taken
  /// from ``signal`` (a corpus with subtle and obvious cupping in every group).
  public var signalRange: [Double]? = nil
  /// Shift of the external variant: blur/contrast/brightness of another device (0 = none).
  public var deviceShift = 0.0

  public init() {}

  /// Refuses knobs outside their ranges (as `fairmed synth fundus` names them), before anything is written.
  public func validate() throws {
    let (n, sizes) = (SyntheticModality.maxImages, SyntheticModality.fundus.sizes)
    guard (1...n).contains(count) else { throw DataError.invalidArgument("--n must be in 1…\(n), got \(count)") }
    guard sizes.contains(width), sizes.contains(height) else {
      throw DataError.invalidArgument(
        "--size must be \(sizes.lowerBound)…\(sizes.upperBound) on each side, got \(width)x\(height)")
    }
    guard splits.count == 3, splits.allSatisfy({ $0.isFinite && $0 >= 0 }), splits.reduce(0, +) > 0 else {
      throw DataError.invalidArgument(
        "synth fundus: splits must be three finite fractions ≥ 0 with a positive sum, got \(splits)")
    }
    for (name, table) in [("--share", raceShare), ("--prevalence", prevalence), ("--signal", signal)] {
      for (k, v) in table where !(v.isFinite && (0...1).contains(v)) {
        throw DataError.invalidArgument("\(name) \(k)=\(v) must be a number in 0…1")
      }
    }
    for (k, v) in brightness where !(v.isFinite && (-1...1).contains(v)) {
      throw DataError.invalidArgument("--brightness \(k)=\(v) must be a number in −1…1")
    }
    for (name, table) in [
      ("share", raceShare), ("prevalence", prevalence), ("signal", signal), ("brightness", brightness),
    ] {
      for k in table.keys where !FundusSynthConfig.races.contains(k) {
        throw DataError.invalidArgument(
          "synth fundus: unknown race '\(k)' in \(name); races are \(FundusSynthConfig.races.joined(separator: ", "))")
      }
    }
    guard FundusSynthConfig.races.contains(where: { (raceShare[$0] ?? 0) > 0 }) else {
      throw DataError.invalidArgument("--share: at least one race needs a share above 0")
    }
    if let r = signalRange, !(r.count == 2 && r.allSatisfy { $0.isFinite && (0...1).contains($0) } && r[0] <= r[1]) {
      throw DataError.invalidArgument("signal range must be two numbers lo ≤ hi in 0…1, got \(r)")
    }
    guard femaleShare.isFinite, (0...1).contains(femaleShare) else {
      throw DataError.invalidArgument("synth fundus: the female share must be in 0…1, got \(femaleShare)")
    }
    guard labelNoise.isFinite, (0...1).contains(labelNoise) else {
      throw DataError.invalidArgument("--label-noise must be in 0…1, got \(labelNoise)")
    }
    guard cdrSpread.isFinite, (0...1).contains(cdrSpread) else {
      throw DataError.invalidArgument("--cdr-spread must be in 0…1, got \(cdrSpread)")
    }
    guard deviceShift.isFinite, (0...3).contains(deviceShift) else {
      throw DataError.invalidArgument("--external-shift must be in 0…3, got \(deviceShift)")
    }
  }

  /// The external variant: another device (lower contrast, darker, blurrier) and an older population.
  public func external(strength s: Double = 1) -> FundusSynthConfig {
    var c = self
    c.deviceShift = s
    for r in FundusSynthConfig.races { c.prevalence[r] = min(0.95, (prevalence[r] ?? 0.5) * (1 + 0.2 * s)) }
    return c
  }
}

/// Writes the synthetic glaucoma benchmark.
public enum SynthFundus {
  /// What ``write(_:to:replacing:)`` writes into its folder; `replacing` removes these entries
  /// first, and nothing else.
  public static let outputNames =
    FairVLMed.splitFolders.map { $0.0 } + ["data_summary.csv", SyntheticModality.configFile]

  struct Record {
    var id: Int, split: String, race: Int, gender: Int, age: Double, ethnicity: Int, language: Int, marital: Int
    var glaucoma: Int, trueLabel: Int, cdr: Double
  }

  static func plan(_ c: FundusSynthConfig) -> [Record] {
    var rng = SeededRNG(seed: c.seed, stream: 0xF0, 1)
    let races = FundusSynthConfig.races
    let total = c.splits.reduce(0, +)
    let nTrain = Int((Double(c.count) * c.splits[0] / total).rounded())
    let nVal = Int((Double(c.count) * c.splits[1] / total).rounded())
    return (0..<c.count).map { i in
      let race = rng.categorical(races.map { c.raceShare[$0] ?? 0 })
      let r = races[race]
      let y = rng.bernoulli(c.prevalence[r] ?? 0.5) ? 1 : 0
      // Drawn only where a range is set, so the benchmarks keep their data.
      let signal = c.signalRange.map { rng.uniform($0[0], $0[1]) } ?? c.signal[r] ?? 1
      let cdr = min(0.92, max(0.12, 0.35 + (y == 1 ? 0.35 * signal : 0) + c.cdrSpread * rng.normal()))
      let split = i < nTrain ? "Training" : i < nTrain + nVal ? "Validation" : "Test"
      return Record(
        id: i + 1, split: split, race: race, gender: rng.bernoulli(c.femaleShare) ? 0 : 1,
        age: min(90, max(18, (61 + 16 * rng.normal()).rounded())),
        ethnicity: rng.bernoulli(0.03) ? -1 : (rng.bernoulli(0.06) ? 1 : 0),
        language: rng.bernoulli(0.02) ? -1 : rng.categorical([0.9, 0.06, 0.04]),
        marital: rng.bernoulli(0.03) ? -1 : rng.categorical([0.55, 0.2, 0.12, 0.1, 0.03]),
        glaucoma: rng.bernoulli(c.labelNoise) ? 1 - y : y, trueLabel: y, cdr: cdr)
    }
  }

  /// A grayscale SLO-like fundus image: dark vignetted field, bright optic disc, brighter cup
  /// whose radius is `cdr` × the disc's, vessels leaving the disc.
  static func render(_ r: Record, config c: FundusSynthConfig) -> PixelImage {
    var rng = SeededRNG(seed: c.seed, stream: 0xF1, UInt64(r.id))
    let w = c.width, h = c.height, side = Double(min(w, h))
    let s = c.deviceShift
    let discX = Double(w) * rng.uniform(0.40, 0.60), discY = Double(h) * rng.uniform(0.42, 0.58)
    let discR = side * rng.uniform(0.13, 0.17), ecc = rng.uniform(0.9, 1.1)
    let cupR = discR * r.cdr
    let brightness = (c.brightness[FundusSynthConfig.races[r.race]] ?? 0) - 0.08 * s + rng.uniform(-0.05, 0.05)
    let contrast = 1 - 0.3 * s
    let vessels = (0..<(5 + Int(rng.next() % 4))).map { _ in
      (angle: rng.uniform(0, 2 * .pi), curve: rng.uniform(-0.6, 0.6), width: rng.uniform(0.6, 1.4))
    }
    var px = [UInt8](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w {
        let fx = Double(x) + 0.5, fy = Double(y) + 0.5
        let ex = (fx - Double(w) / 2) / (Double(w) / 2), ey = (fy - Double(h) / 2) / (Double(h) / 2)
        var v = 0.32 + 0.10 * (1 - (ex * ex + ey * ey))
        let dx = (fx - discX) / ecc, dy = fy - discY
        let d = (dx * dx + dy * dy).squareRoot()
        v += 0.30 * min(1, max(0, (discR - d) / 1.5))
        v += 0.22 * min(1, max(0, (cupR - d) / (1.0 + 0.6 * s * side / 32)))
        if d > cupR * 0.6 {
          let theta = atan2(dy, dx)
          for vs in vessels {
            var diff = theta - vs.angle - vs.curve * (d / side)
            diff -= 2 * .pi * (diff / (2 * .pi)).rounded()
            if abs(diff) * d < vs.width * (1 + s) { v -= 0.12 * min(1, d / discR) }
          }
        }
        v = 0.5 + (v - 0.5) * contrast + brightness + 0.025 * rng.normal()
        if ex * ex + ey * ey > 1 { v *= 0.15 }
        px[y * w + x] = UInt8(max(0, min(255, (v * 255).rounded())))
      }
    }
    return PixelImage(width: w, height: h, channels: 1, pixels: px)
  }

  static func note(_ r: Record, rng: inout SeededRNG) -> (note: String, summary: String) {
    let race = FundusSynthConfig.races[r.race], sex = r.gender == 0 ? "female" : "male"
    let measured = min(0.95, max(0.1, r.cdr + 0.08 * rng.normal()))
    let cdr = String(format: "%.1f", measured)
    let finding =
      measured > 0.55
      ? ["Enlarged cupping with thinning of the neuroretinal rim.", "Cup-to-disc asymmetry noted; glaucoma suspect."][
        Int(rng.next() % 2)]
      : ["Healthy-appearing optic nerve with intact rim.", "Optic nerve appears unremarkable."][Int(rng.next() % 2)]
    let plan = [
      "Follow up in 6 months.", "Visual field testing ordered.", "Continue current drops.", "OCT RNFL ordered.",
    ][Int(rng.next() % 4)]
    let note = "\(Int(r.age)) y/o \(race) \(sex) seen for glaucoma evaluation. C/D ratio \(cdr). \(finding) \(plan)"
    return (note, "\(Int(r.age)) y/o \(sex); c/d \(cdr); \(finding.lowercased())")
  }

  /// Writes `Training/ Validation/ Test/` folders of `data_XXXXX.npz` (deflated, keys as
  /// FairVLMed), a summarised-notes CSV `data_summary.csv` and `synth_config.json`.
  public static func write(_ config: FundusSynthConfig, to dir: String, replacing: Bool = false) throws {
    try config.validate()
    if replacing { try OutputPath.remove(outputNames, in: dir) }
    let fm = FileManager.default
    for (folder, _) in FairVLMed.splitFolders {
      try fm.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true)
    }
    let records = plan(config)
    var summaries = [String](repeating: "", count: records.count)
    let failure = ErrorSlot()
    let chunk = 32
    summaries.withUnsafeMutableBufferPointer { sums in
      guard let start = sums.baseAddress else { return }
      let sumsBase = DisjointWrites(start)
      DispatchQueue.concurrentPerform(iterations: (records.count + chunk - 1) / chunk) { c in
        for i in (c * chunk)..<min(records.count, (c + 1) * chunk) {
          let r = records[i]
          var rng = SeededRNG(seed: config.seed, stream: 0xF2, UInt64(r.id))
          let text = note(r, rng: &rng)
          sumsBase[i] = text.summary
          let arrays: [(String, NpyArray)] = [
            ("slo_fundus", .image(render(r, config: config))), ("glaucoma", .scalar(Int64(r.glaucoma))),
            ("age", .scalar(r.age)), ("gender", .scalar(Int64(r.gender))), ("race", .scalar(Int64(r.race))),
            ("ethnicity", .scalar(Int64(r.ethnicity))), ("language", .scalar(Int64(r.language))),
            ("maritalstatus", .scalar(Int64(r.marital))), ("note", .string(text.note)), ("note_extra", .string("")),
          ]
          do {
            try Npz.write(arrays, to: "\(dir)/\(r.split)/" + String(format: "data_%05d.npz", r.id))
          } catch {
            failure.set(error)
          }
        }
      }
    }
    if let e = failure.error { throw e }
    try CSVTable.render(
      header: ["filename", "glaucoma", "true_glaucoma", "cdr", "summary"],
      rows: records.indices.map { i in
        let r = records[i]
        return [
          String(format: "data_%05d.npz", r.id), String(r.glaucoma), String(r.trueLabel), String(format: "%.3f", r.cdr),
          summaries[i],
        ]
      }
    ).write(toFile: "\(dir)/data_summary.csv", atomically: true, encoding: .utf8)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(config).write(to: URL(fileURLWithPath: "\(dir)/" + SyntheticModality.configFile))
  }
}
