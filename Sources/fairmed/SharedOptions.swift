import ArgumentParser
import Training
import Datasets
import Fairness
import Support
import Tensor

// The options several commands share, each declared once with its help and its check. A group
// whose wording or default differs between commands takes them from its type parameter: the
// command itself, which states what differs in a conformance next to its declaration (e.g.
// `extension PredictCommand: BatchSizeWording { static let defaultBatchSize = 64 }`). The flag
// names, defaults and behaviour are those each command had before.

// MARK: - --model

/// What a command's `--model` accepts, in its help.
protocol ModelWording {
  static var modelHelp: String { get }
}

extension ModelWording {
  static var modelHelp: String {
    "Model folder: Hugging Face CLIP, open_clip (BiomedCLIP, open_clip ViTs), PEFT adapter, or an OpenAI/open_clip state-dict file."
  }
}

/// `--model`: a model folder or file (a missing one is named by the library that opens it).
struct ModelOptions<Wording: ModelWording>: ParsableArguments {
  @Option(help: ArgumentHelp(Wording.modelHelp)) var model: String
}

// MARK: - --precision

/// `--precision`: the arithmetic of the GEMMs (``Precision``), refused while parsing where this
/// machine cannot run it.
struct PrecisionOptions: ParsableArguments {
  @Option(help: ArgumentHelp(Precision.help)) var precision = Precision.fp32

  func validate() throws {
    if let problem = Precision.problem(precision, features: BF16Support.features, oneDNN: BF16Support.oneDNN) {
      throw ValidationError(problem)
    }
  }

  /// Runs `body` with this precision.
  func scope<T>(_ body: () throws -> T) throws -> T { try Precision.withPrecision(precision, body) }
}

// MARK: - --data

/// `--data KIND:PATH`, its kind checked while parsing (the path when the data is loaded).
struct DataOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Data: \(DatasetKind.argumentForms).")) var data: String

  func validate() throws {
    _ = try DatasetKind.parse(data)
  }
}

/// `--labels`: how dermatology diagnoses become classes.
struct LabelMapOptions: ParsableArguments {
  @Option(help: "Label map for dermatology data.") var labels = DermLabelMap.malignant
}

// MARK: - --groups

/// What a command does with `--groups`, and its default, in its help.
protocol GroupsWording {
  static var groupsHelp: String { get }
}

/// An optional `--groups` (the grammar of docs/METHOD.md §10), checked while parsing; the
/// attributes are checked against the data when it is loaded.
struct GroupOptions<Wording: GroupsWording>: ParsableArguments {
  @Option(help: ArgumentHelp(Wording.groupsHelp)) var groups: String?

  func validate() throws {
    if let groups { _ = try GroupingSpec(parsing: groups) }
  }
}

/// A required `--groups` (the audit's: at least one attribute), checked while parsing.
struct RequiredGroupOptions<Wording: GroupsWording>: ParsableArguments {
  @Option(help: ArgumentHelp(Wording.groupsHelp)) var groups: String

  func validate() throws {
    _ = try GroupingSpec.parse(groups)
  }
}

// MARK: - --batch-size

/// A command's `--batch-size` default and help.
protocol BatchSizeWording {
  static var defaultBatchSize: Int { get }
  static var batchSizeHelp: String { get }
}

extension BatchSizeWording {
  static var batchSizeHelp: String { "Images per forward pass." }
}

/// `--batch-size`, in 1…``RunConfig/maxBatchSize`` (each command keeps its own default).
struct BatchSizeOptions<Wording: BatchSizeWording>: ParsableArguments {
  @Option(help: ArgumentHelp(Wording.batchSizeHelp)) var batchSize: Int = Wording.defaultBatchSize

  func validate() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
    guard batchSize <= RunConfig.maxBatchSize else {
      throw ValidationError("--batch-size must be at most \(RunConfig.maxBatchSize), got \(batchSize)")
    }
  }
}

// MARK: - --out, --overwrite

/// What a command writes to `--out` and what `--overwrite` replaces there, in its help.
protocol OutputWording {
  static var outHelp: String { get }
  static var overwriteHelp: String { get }
}

extension OutputWording {
  static var overwriteHelp: String { "Replace the file --out names." }
}

/// `--out` and `--overwrite`: an --out that holds anything is refused unless --overwrite.
struct OutputOptions<Wording: OutputWording>: ParsableArguments {
  @Option(help: ArgumentHelp(Wording.outHelp)) var out: String
  @Flag(help: ArgumentHelp(Wording.overwriteHelp)) var overwrite = false

  /// Refuses an `--out` that holds something, unless `--overwrite` (``OutputPath/check(_:overwrite:option:resumable:)``).
  func check() throws {
    try OutputPath.check(out, overwrite: overwrite)
  }
}
