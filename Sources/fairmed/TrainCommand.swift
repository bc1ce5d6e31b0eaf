import ArgumentParser
import Distributed
import Foundation
import Training

/// `fairmed train`: fine-tune (or train from scratch) a CLIP classifier with ERM, CMAC-MMD or a
/// baseline; the run folder gets `run.json`, `metrics.jsonl`, `checkpoint/` and `best/`.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a CLIP classifier with ERM, CMAC-MMD or a fairness baseline.",
    usage: "fairmed train --data KIND:PATH (--model DIR | --from-scratch tiny|small) [training options] --out DIR",
    discussion: """
      Methods: \(MethodName.names). Demographic groups are used \
      for training only (the CMAC-MMD term, samplers, baselines), never as model inputs.

      --config run.json reads every option from a file (see the run.json a run writes); flags \
      given on the command line override it. Without --val, a seeded split of the training data \
      grouped by lesion/patient is held out (--val-fraction), or the data's own validation split \
      is used (FairVLMed).

      TRAINING OPTIONS (each is also a run.json key: --batch-size is batchSize, --cmac-sigma is cmac.sigma):
      \(RunConfig.helpText(only: RunConfig.commandKeys(.classify)))
      """)

  @Option(help: "Run configuration file (JSON); flags override it.") var config: String?
  @Flag(help: "Continue the run in --out from its last checkpoint (the options must match its run.json).") var resume =
    false
  @Option(help: "Stop after this many epochs (the run can be resumed).") var stopAfter: Int?
  @OptionGroup var output: OutputOptions<TrainCommand>
  @Argument(
    parsing: .allUnrecognized, help: ArgumentHelp("Training options (listed below).", valueName: "training-options"))
  var settings: [String] = []

  func run() throws {
    let world = try World.current.get()
    try world.endingJobOnFailure {
      let lines = try Trainer.runCommand(
        objective: .classify, configFile: config, arguments: settings, out: output.out, resume: resume,
        overwrite: output.overwrite, stopAfter: stopAfter, world: world)
      for line in lines { print(line) }
    }
  }
}

extension TrainCommand: OutputWording {
  static let outHelp = "Run folder."
  static let overwriteHelp =
    "Replace the run that --out already holds (or write into a non-empty folder holding no run)."
}
