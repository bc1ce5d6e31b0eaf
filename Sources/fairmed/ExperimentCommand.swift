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
      training options; see Examples/*.json. An --out that holds anything is refused unless \
      --resume continues the study it holds (finished cells, runs/<cell>/result.json, are not \
      re-run and interrupted ones continue from their checkpoint) or --overwrite removes what a \
      study wrote there and starts again. Outputs: results.csv, summary.md, summary.tex.
      """)

  @Option(help: "Study configuration (JSON).") var config: String
  @OptionGroup var output: OutputOptions<ExperimentCommand>
  @Flag(help: "Continue the study that --out holds.") var resume = false

  func run() throws {
    let out = output.out
    let (study, results) = try Study.experiment(
      config: config, directory: out, resume: resume, overwrite: output.overwrite)
    print(Study.markdown(Study.summarise(results)))
    print(
      "\(results.count) results (\(study.trainedCells.count) cells trained now); \(out)/results.csv, summary.md, summary.tex"
    )
  }
}

extension ExperimentCommand: OutputWording {
  static let outHelp = "Study folder."
  static let overwriteHelp =
    "Remove what a study wrote in --out (data, runs, results, summaries, report) and start again."
}
