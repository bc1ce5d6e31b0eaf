import ArgumentParser

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
    subcommands: subcommandList
  )
}

/// Every subcommand, in the order `fairmed help` lists them.
let subcommandList: [ParsableCommand.Type] = [
  DemoCommand.self,
  ExperimentCommand.self,
  EngineDemoCommand.self,
  EncodeCommand.self,
  ZeroShotCommand.self,
  TrainCommand.self,
  PredictCommand.self,
  AuditCommand.self,
  SynthCommand.self,
  DataCommand.self,
]
