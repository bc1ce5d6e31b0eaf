import ArgumentParser
import Foundation
import Experiments
import Tensor

/// `fairmed engine-demo`: fits a tiny two-layer network on a seeded XOR-like problem with the
/// autodiff engine, printing the loss as it falls.
struct EngineDemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "engine-demo",
    abstract: "Fit a tiny MLP on XOR-like data with FairMed's tensor engine (a smoke test).")

  @Option(help: "Random seed (same seed, same numbers).") var seed: UInt64 = 0
  @Option(help: "Training steps.") var steps: Int = 300
  @Option(help: "Learning rate of plain gradient descent.") var lr: Float = 0.5

  func run() throws {
    let result = try EngineDemo.run(seed: seed, steps: steps, learningRate: lr) { step, loss in
      print(String(format: "step %4d  loss %.4f", step, loss))
    }
    print(
      String(format: "accuracy %.3f on %d points (threads: %d)", result.accuracy, result.points, Parallel.threadCount))
  }
}
