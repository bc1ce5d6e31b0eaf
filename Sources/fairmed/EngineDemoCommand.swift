import ArgumentParser
import Tensor

/// `fairmed engine-demo`: fits a tiny two-layer network with the autodiff engine.
struct EngineDemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "engine-demo",
    abstract: "Fit a tiny MLP on XOR-like data with FairMed's tensor engine (a smoke test).")

  @Option(help: "Random seed.") var seed: UInt64 = 0
  @Option(help: "Training steps.") var steps: Int = 300

  func run() throws {
    print("threads: \(Parallel.threadCount)")
  }
}
