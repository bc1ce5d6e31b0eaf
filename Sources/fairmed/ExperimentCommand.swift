import ArgumentParser
import Experiments
import Foundation

/// `fairmed experiment`: a grid of methods × λ × seeds × batch sizes from a study file.
struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "experiment",
    abstract: "Run a study grid (methods × λ × seeds × batch sizes) with internal and external tests.",
    discussion: """
      The study file names the data (or a synthetic benchmark to generate), the grid and the base \
      training options; see Examples/*.json. Re-running with the same --out resumes: finished \
      cells (runs/<cell>/result.json) are not re-run and interrupted ones continue from their \
      checkpoint. Outputs: results.csv, summary.md, summary.tex.
      """)

  @Option(help: "Study configuration (JSON).") var config: String
  @Option(help: "Study folder.") var out: String

  func run() throws {
    let study = Study(config: try StudyConfig.load(config), directory: out)
    let results = try study.run()
    print(Study.markdown(Study.summarise(results)))
    print("\(results.count) results (\(study.trainedCells.count) cells trained now); \(out)/results.csv, summary.md, summary.tex")
  }
}
