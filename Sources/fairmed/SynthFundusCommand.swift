import ArgumentParser
import Datasets
import SyntheticData
import Foundation
import Support

/// `fairmed synth fundus`: the FairVLMed-layout glaucoma benchmark.
struct SynthFundusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fundus",
    abstract: "FairVLMed-layout glaucoma benchmark (npz files with notes).",
    discussion: """
      Knobs are per race (asian, black, white). Defaults: 77/15/8 % White/Black/Asian, the Asian \
      group's glaucoma shows a smaller cup-to-disc shift (signal 0.5), Black patients' images are \
      darker. Example: --signal asian=0.3 --prevalence black=0.6.
      """)

  /// The generator's defaults, which the options' defaults are.
  static let d = FundusSynthConfig()

  @OptionGroup var output: OutputOptions<SynthFundusCommand>
  @Flag(help: "Write the shifted external variant (another device).") var external = false
  @Flag(
    help:
      "Write a pretraining corpus instead: \(SyntheticCorpus.manifest) (path,text,…) with a varied report per image and no demographics, every group equally often, prevalence 0.5; only --n, --size and --seed apply. Use a seed no benchmark uses."
  ) var corpus = false
  @Option(help: "Strength of the external shift.") var externalShift: Double = 1
  @Option(help: "Number of images (split 70/10/20).") var n: Int = Self.d.count
  @Option(help: "Image size: N or WxH.") var size: String = String(Self.d.width)
  @Option(help: "Random seed.") var seed: UInt64 = 0
  @Option(help: "Share per race, RACE=VALUE (repeatable).") var share: [String] = []
  @Option(help: "Glaucoma prevalence per race, RACE=VALUE.") var prevalence: [String] = []
  @Option(help: "Cup-to-disc signal strength per race, RACE=VALUE.") var signal: [String] = []
  @Option(help: "Brightness offset per race, RACE=VALUE.") var brightness: [String] = []
  @Option(help: "Fraction of labels flipped.") var labelNoise: Double = Self.d.labelNoise
  @Option(help: "Standard deviation of the cup-to-disc ratio within a class (higher = harder).") var cdrSpread: Double =
    Self.d.cdrSpread

  func run() throws {
    if corpus {
      return try writeSyntheticCorpus(
        .fundus, n: n, size: size, seed: seed, output: output,
        given: [
          ("--share", !share.isEmpty), ("--prevalence", !prevalence.isEmpty), ("--signal", !signal.isEmpty),
          ("--brightness", !brightness.isEmpty), ("--external", external),
          ("--label-noise", labelNoise != Self.d.labelNoise),
          ("--cdr-spread", cdrSpread != Self.d.cdrSpread),
        ])
    }
    var c = FundusSynthConfig()
    c.cdrSpread = cdrSpread
    c.count = n
    (c.width, c.height) = try parseSize(size)
    c.seed = seed
    c.labelNoise = labelNoise
    c.raceShare.merge(try parseTable(share, option: "--share")) { $1 }
    c.prevalence.merge(try parseTable(prevalence, option: "--prevalence")) { $1 }
    c.signal.merge(try parseTable(signal, option: "--signal")) { $1 }
    c.brightness.merge(try parseTable(brightness, option: "--brightness")) { $1 }
    if external { c = c.external(strength: externalShift) }
    try output.check()
    let (out, start) = (output.out, Date())
    try SynthFundus.write(c, to: out, replacing: output.overwrite)
    let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
    print("wrote \(c.count) npz files (\(c.width)x\(c.height)) to \(out) in \(seconds)s (FairVLMed layout)")
  }
}

extension SynthFundusCommand: OutputWording {
  static let outHelp = "Output folder."
  static let overwriteHelp = "Replace the benchmark --out holds (its split folders and CSV files are removed first)."
}
