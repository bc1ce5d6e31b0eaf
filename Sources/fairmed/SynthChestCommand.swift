import ArgumentParser
import Datasets
import SyntheticData
import Foundation
import Support

/// `fairmed synth chest`: the chest-radiograph nodule benchmark, as a generic manifest.
struct SynthChestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chest",
    abstract: "Chest-radiograph lung-nodule benchmark as a generic manifest (manifest.csv + gray PNG images).",
    discussion: """
      Groups are sex × age: male|<40, male|40-59, male|>=60, female|<40, female|40-59, female|>=60. \
      The bias is an acquisition shift: by default female|>=60 is 10 % of patients and 80 % of its \
      images come from a portable AP device (lower contrast, more noise, brighter exposure, rotated \
      and shifted field of view), against 10 % of everyone else's; the nodule is drawn alike for \
      all; prevalence 0.30; 2 % label noise. Train with --data manifest:OUT/manifest.csv. Per-group \
      options override one group each and may repeat, e.g. --portable 'female|>=60=0.5' \
      --share 'female|>=60=0.2'.
      """)

  /// The generator's defaults, which the options' defaults are.
  static let d = ChestSynthConfig()

  @OptionGroup var output: OutputOptions<SynthChestCommand>
  @Flag(
    help:
      "Write the external variant (another hospital: portable device for 40 % of images, older patients, other detectors)."
  )
  var external = false
  @Flag(
    help:
      "Write a pretraining corpus instead: \(SyntheticCorpus.manifest) (path,text,…) with a varied report per image and no demographics, every group equally often, prevalence 0.5; only --n, --size and --seed apply. Use a seed no benchmark uses."
  ) var corpus = false
  @Option(help: "Strength of the external shift (with --external).") var externalShift: Double = 1
  @Option(help: "Number of images.") var n: Int = Self.d.count
  @Option(help: "Image size: N or WxH.") var size: String = String(Self.d.width)
  @Option(help: "Random seed.") var seed: UInt64 = 0
  @Option(help: "Patient share per group, GROUP=VALUE (repeatable).") var share: [String] = []
  @Option(help: "Nodule prevalence per group, GROUP=VALUE.") var prevalence: [String] = []
  @Option(help: "Share of images taken on the portable AP device per group, GROUP=VALUE.") var portable: [String] = []
  @Option(help: "How far portable images depart from PA ones (0 alike, 1 default).") var portableStrength: Double = 1
  @Option(help: "Mean peak brightening of a nodule (lower = harder).") var noduleContrast: Double = Self.d
    .noduleContrast
  @Option(help: "Fraction of recorded labels flipped.") var labelNoise: Double = Self.d.labelNoise

  func run() throws {
    if corpus {
      return try writeSyntheticCorpus(
        .chest, n: n, size: size, seed: seed, output: output,
        given: [
          ("--share", !share.isEmpty), ("--prevalence", !prevalence.isEmpty), ("--portable", !portable.isEmpty),
          ("--external", external), ("--portable-strength", portableStrength != 1),
          ("--nodule-contrast", noduleContrast != Self.d.noduleContrast),
          ("--label-noise", labelNoise != Self.d.labelNoise),
        ])
    }
    var c = ChestSynthConfig()
    c.count = n
    (c.width, c.height) = try parseSize(size)
    c.seed = seed
    c.labelNoise = labelNoise
    c.portableStrength = portableStrength
    c.noduleContrast = noduleContrast
    c.share.merge(try parseTable(share, option: "--share")) { $1 }
    c.prevalence.merge(try parseTable(prevalence, option: "--prevalence")) { $1 }
    c.portable.merge(try parseTable(portable, option: "--portable")) { $1 }
    if external { c = c.external(strength: externalShift) }
    try output.check()
    let (out, start) = (output.out, Date())
    let records = try SynthChest.write(c, to: out, replacing: output.overwrite)
    let positives = records.filter { $0.recordedLabel == 1 }.count
    let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
    print(
      "wrote \(records.count) images (\(positives) with a nodule) of \(c.width)x\(c.height) to \(out) in \(seconds)s (train with --data manifest:\(out)/manifest.csv)"
    )
  }
}

extension SynthChestCommand: OutputWording {
  static let outHelp = "Output folder."
  static let overwriteHelp = "Replace the benchmark --out holds (its images and CSV files are removed first)."
}
