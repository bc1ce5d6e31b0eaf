import ArgumentParser
import Datasets
import SyntheticData
import Foundation
import Support

/// `fairmed synth derm`: the HAM10000 / BCN20000-layout dermatology benchmark.
struct SynthDermCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "derm",
    abstract: "HAM10000-layout dermoscopy benchmark (BCN20000 layout with --external).",
    discussion: """
      Groups are sex × age: male|<40, male|40-59, male|>=60, female|<40, female|40-59, female|>=60. \
      Defaults: female|<40 is 8 % of lesions, its malignant lesions have signal 0.35 (subtler \
      ABCD cues) and its images are lighter/brighter; prevalence 0.18 / 0.22 / 0.30 by age \
      (0.30 for female|<40); 2 % label noise. Per-group options override one group each and may repeat, e.g. \
      --signal 'female|<40=0.3' --share 'female|<40=0.1'.
      """)

  /// The generator's defaults, which the options' defaults are.
  static let d = DermSynthConfig()

  @OptionGroup var output: OutputOptions<SynthDermCommand>
  @Flag(help: "Write the shifted external test set in the BCN20000 / ISIC 2019 layout.") var external = false
  @Flag(
    help:
      "Write a pretraining corpus instead: \(SyntheticCorpus.manifest) (path,text,…) with a varied report per image and no demographics, every group equally often, prevalence 0.5; only --n, --size and --seed apply. Use a seed no benchmark uses."
  ) var corpus = false
  @Option(help: "Strength of the external shift (with --external).") var externalShift: Double = 1
  @Option(help: "Number of images.") var n: Int = Self.d.count
  @Option(help: "Image size: N or WxH (HAM10000 is 600x450).") var size: String = String(Self.d.width)
  @Option(help: "Random seed.") var seed: UInt64 = 0
  @Option(help: "Lesion share per group, GROUP=VALUE (repeatable).") var share: [String] = []
  @Option(help: "Malignant prevalence per group, GROUP=VALUE.") var prevalence: [String] = []
  @Option(help: "Malignant-cue strength per group (1 obvious, 0 invisible), GROUP=VALUE.") var signal: [String] = []
  @Option(help: "Exposure offset per group (covariate shift), GROUP=VALUE.") var brightness: [String] = []
  @Option(help: "Mean skin tone per group (0 light ... 1 dark), GROUP=VALUE.") var tone: [String] = []
  @Option(help: "Fraction of recorded labels flipped.") var labelNoise: Double = Self.d.labelNoise
  @Option(
    help:
      "Under-diagnosis per group: share of its malignant lesions recorded as benign, GROUP=VALUE (a training-label bias; generate test data without it)."
  ) var underdiagnosis: [String] = []
  @Option(help: "Fraction of rows with missing age or unknown sex.") var missingRate: Double = Self.d.missingRate
  @Option(help: "JPEG quality.") var quality: Int = Self.d.jpegQuality

  func run() throws {
    if corpus { return try writeCorpus() }
    var c = DermSynthConfig()
    c.count = n
    (c.width, c.height) = try parseSize(size)
    c.seed = seed
    c.jpegQuality = quality
    c.labelNoise = labelNoise
    c.missingRate = missingRate
    c.share.merge(try parseTable(share, option: "--share")) { $1 }
    c.prevalence.merge(try parseTable(prevalence, option: "--prevalence")) { $1 }
    c.signal.merge(try parseTable(signal, option: "--signal")) { $1 }
    c.brightness.merge(try parseTable(brightness, option: "--brightness")) { $1 }
    c.tone.merge(try parseTable(tone, option: "--tone")) { $1 }
    c.underdiagnosis.merge(try parseTable(underdiagnosis, option: "--underdiagnosis")) { $1 }
    if external { c = c.external(strength: externalShift) }
    try output.check()
    let (out, start) = (output.out, Date())
    let records = try SynthDerm.write(c, to: out, external: external, replacing: output.overwrite)
    let positives = records.filter { $0.recordedLabel == 1 }.count
    let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
    print(
      "wrote \(records.count) images (\(positives) malignant) of \(c.width)x\(c.height) to \(out) in \(seconds)s (\(external ? "BCN20000" : "HAM10000") layout)"
    )
  }
}

extension SynthDermCommand {
  func writeCorpus() throws {
    try writeSyntheticCorpus(
      .derm, n: n, size: size, seed: seed, output: output,
      given: [
        ("--share", !share.isEmpty), ("--prevalence", !prevalence.isEmpty), ("--signal", !signal.isEmpty),
        ("--brightness", !brightness.isEmpty), ("--tone", !tone.isEmpty), ("--underdiagnosis", !underdiagnosis.isEmpty),
        ("--external", external), ("--label-noise", labelNoise != Self.d.labelNoise),
        ("--missing-rate", missingRate != Self.d.missingRate),
        ("--quality", quality != Self.d.jpegQuality),
      ])
  }
}

extension SynthDermCommand: OutputWording {
  static let outHelp = "Output folder."
  static let overwriteHelp = "Replace the benchmark --out holds (its images and CSV files are removed first)."
}
