import ArgumentParser
import Distributed
import Foundation
import Training

/// `fairmed pretrain`: contrastive image–text pretraining of a CLIP (from scratch or continuing
/// a pretrained folder) on captioned images; the run folder is `train`'s, and `best/` is a
/// complete model folder that `train --model`, `zero-shot`, `encode` and transformers load.
struct PretrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pretrain",
    abstract: "Pretrain a CLIP contrastively on image–caption pairs (CLIP's symmetric InfoNCE).",
    usage: "fairmed pretrain --data KIND:PATH (--model DIR | --from-scratch tiny|small) [options] --out DIR",
    discussion: """
      The data is any layout whose samples carry text: a manifest with a text column (its label \
      column is optional), or a layout with notes (FairVLMed); `fairmed synth KIND --corpus` writes \
      one. Each batch's images are contrasted with their own captions under a learnable \
      temperature (clamped at 100), with linear warm-up, cosine decay and AdamW whose decay \
      skips gains, biases, embeddings and the temperature, as open_clip trains. Every epoch is \
      validated by InfoNCE and top-1 retrieval on the validation pairs (--val, or a held-out \
      --val-fraction grouped by patient), and best/ keeps the epoch with the lowest InfoNCE.

      OPTIONS (each is also a run.json key; --config run.json reads them from a file):
      \(RunConfig.helpText(only: RunConfig.commandKeys(.pretrain)))
      """)

  @Option(help: "Run configuration file (JSON); flags override it.") var config: String?
  @Flag(help: "Continue the run in --out from its last checkpoint (the options must match its run.json).") var resume =
    false
  @Option(help: "Stop after this many epochs (the run can be resumed).") var stopAfter: Int?
  @OptionGroup var output: OutputOptions<PretrainCommand>
  @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Pretraining options (listed below).", valueName: "options"))
  var settings: [String] = []

  func run() throws {
    let world = try World.current.get()
    try world.endingJobOnFailure {
      let lines = try Trainer.runCommand(
        objective: .pretrain, configFile: config, arguments: settings, out: output.out, resume: resume,
        overwrite: output.overwrite, stopAfter: stopAfter, world: world)
      for line in lines { print(line) }
    }
  }
}

extension PretrainCommand: OutputWording {
  static let outHelp = "Run folder."
  static let overwriteHelp =
    "Replace the run that --out already holds (or write into a non-empty folder holding no run)."
}
