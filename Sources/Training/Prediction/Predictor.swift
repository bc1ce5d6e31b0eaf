import Fairness
import CLIP
import Datasets
import Foundation
import Distributed
import Support
import Tensor

/// Prediction with a trained run folder (its `best/` model, prompts and groups) or a bare HF
/// CLIP folder. Under `mpirun` (`world`) each rank predicts a share of the rows and every rank
/// returns all of them, in order.
public enum Predictor {
  public static func run(
    model: String, data: String, prompts: [String]?, groups: String?, split: String?, batchSize: Int = 64,
    precision: Precision = .fp32, world: any Communicator = SingleProcess()
  ) throws -> Predictions {
    try Precision.withPrecision(precision) {
      try predict(
        model: model, data: data, prompts: prompts, groups: groups, split: split, batchSize: batchSize, world: world)
    }
  }

  static func predict(
    model: String, data: String, prompts: [String]?, groups: String?, split: String?, batchSize: Int,
    world: any Communicator
  ) throws -> Predictions {
    try validateComputeEnvironment()
    let fm = FileManager.default
    let run =
      fm.fileExists(atPath: model + "/" + RunConfig.fileName)
      ? try RunConfig.load(model + "/" + RunConfig.fileName) : nil
    let best = model + "/" + ModelFolderLayout.best
    let modelDir = run != nil && fm.fileExists(atPath: best) ? best : model
    var dataset = try DatasetKind.load(data)
    if let split { dataset = dataset.split(split) }
    guard dataset.count > 0 else {
      throw TrainingError.data("\(data): no samples\(split.map { " in split \($0)" } ?? "")")
    }
    let classPrompts =
      try prompts ?? run?.prompts
      ?? TrainingData.defaultPrompts(dataSpec: run?.data ?? data, classNames: dataset.classNames)
    let classifier = try CLIPClassifier.load(directory: modelDir, prompts: classPrompts)
    let transform = classifier.preprocessing
    guard classPrompts.count == dataset.classNames.count else {
      throw TrainingError.invalidConfig([
        "--prompts: \(classPrompts.count) prompts for the \(dataset.classNames.count) classes of \(data)"
      ])
    }
    let spec = try GroupingSpec(parsing: groups ?? run?.groups ?? GroupingSpec.sexAge.description)
    try spec.validate(dataset)
    var predictions = try DataParallel(world: world).predictions(dataset: dataset, groupSpec: spec) { rows in
      try Predictions.compute(
        classifier: classifier, dataset: dataset, groupSpec: spec, transform: transform, batchSize: batchSize,
        rows: rows)
    }
    predictions.threshold = try DecisionThreshold.load(modelDirectory: modelDir) ?? .argmax
    return predictions
  }
}
