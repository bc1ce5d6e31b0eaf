import ArgumentParser

/// `fairmed data ...`: dataset inspection tools.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Inspect datasets in their distributed layouts.",
    subcommands: [DataSummaryCommand.self, DataSplitCommand.self, DataBenchCommand.self])
}
