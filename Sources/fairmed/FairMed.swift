import ArgumentParser
import Distributed
import Support
import Tensor

/// The `fairmed` command line: each subcommand parses its options and calls the libraries.
@main
struct FairMedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fairmed",
    abstract: "Intersectionally fair medical image classification with CLIP models.",
    discussion: """
      FairMed fine-tunes CLIP with CMAC-MMD (certainty-margin MMD matching across \
      intersectional subgroups), audits any model's predictions per subgroup, and ships a \
      synthetic benchmark with controllable demographic bias.
      """,
    version: FairMedVersion.string,
    subcommands: subcommandList
  )

  /// Parses and runs the command; under an MPI launcher with several processes, only the
  /// commands that split their work over ranks (`train`, `predict`) run, since any other would
  /// run whole in every process. Every `FAIRMED_*` environment variable is checked first: a
  /// malformed or out-of-range value is an error naming it, never ignored.
  static func main() {
    do {
      var command = try parseAsRoot()
      try validateComputeEnvironment()
      if let n = World.launchedProcesses(), n > 1,
        !(command is TrainCommand || command is PretrainCommand || command is PredictCommand)
      {
        throw ValidationError(
          "started as one of \(n) MPI processes: only `fairmed train`, `fairmed pretrain` and `fairmed predict` split their work over processes; run this command without mpirun/srun"
        )
      }
      try command.run()
    } catch {
      exit(withError: error)
    }
  }
}

/// Every subcommand, in the order `fairmed help` lists them.
let subcommandList: [ParsableCommand.Type] = [
  DemoCommand.self,
  ExperimentCommand.self,
  EngineDemoCommand.self,
  EncodeCommand.self,
  ZeroShotCommand.self,
  TrainCommand.self,
  PretrainCommand.self,
  PredictCommand.self,
  AuditCommand.self,
  SynthCommand.self,
  DataCommand.self,
]
