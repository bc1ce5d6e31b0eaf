import Tensor

/// What a fairness method sees of one training step (all tensors are part of the graph).
public struct MethodBatch {
  /// Base CLIP loss of each sample `[N]` (prompt-CE or the per-sample symmetric InfoNCE).
  public let perSampleLoss: Tensor
  /// Cosine similarities to the class prompts `[N, C]`.
  public let similarities: Tensor
  /// Similarity of each image to its own paired text `[N]` (its note or its class prompt).
  public let pairedSimilarities: Tensor
  /// L2-normalised image embeddings `[N, D]`.
  public let imageEmbeddings: Tensor
  /// The learnable log temperature.
  public let logitScale: Tensor
  public let labels: [Int]
  /// Intersectional subgroup id of each sample, in `0..<groupCount`.
  public let groups: [Int]
  /// Fraction of training done, in [0, 1] (for warm-ups).
  public let progress: Double

  public init(
    perSampleLoss: Tensor, similarities: Tensor, pairedSimilarities: Tensor, imageEmbeddings: Tensor,
    logitScale: Tensor, labels: [Int], groups: [Int], progress: Double
  ) {
    self.perSampleLoss = perSampleLoss
    self.similarities = similarities
    self.pairedSimilarities = pairedSimilarities
    self.imageEmbeddings = imageEmbeddings
    self.logitScale = logitScale
    self.labels = labels
    self.groups = groups
    self.progress = progress
  }
}

/// A method's loss for one step and the numbers it logs (`l_clip`, `l_fair`, …).
public struct MethodLoss {
  public let total: Tensor
  public var logs: [String: Double]
  public init(total: Tensor, logs: [String: Double]) {
    self.total = total
    self.logs = logs
  }
}

/// The training set as a method needs to know it before the first step.
public struct TrainingSetSummary: Sendable {
  public let labels: [Int]
  public let groups: [Int]
  public let groupCount: Int
  public let classCount: Int
  /// Width of the image embedding (for adversaries).
  public let embeddingDim: Int
  public let seed: UInt64

  public init(labels: [Int], groups: [Int], groupCount: Int, classCount: Int, embeddingDim: Int, seed: UInt64) {
    self.labels = labels
    self.groups = groups
    self.groupCount = groupCount
    self.classCount = classCount
    self.embeddingDim = embeddingDim
    self.seed = seed
  }
}

/// How a method wants its batches drawn.
public enum SamplingRequest: String, Sendable, Codable {
  /// Whatever sampler the run configured.
  case any
  /// Equal numbers from every subgroup × label cell in each batch, drawn with replacement
  /// (``CellBalancedResampler``).
  case balancedCells = "balanced-cells"
}

/// A training method: ERM, CMAC-MMD or a baseline. Each is one small file: a loss on top of the
/// per-sample CLIP loss, optionally with a sampler request, extra parameters (adversaries) and
/// state that checkpoints carry.
public protocol TrainingMethod: AnyObject {
  /// The `--method` name.
  var name: String { get }
  /// The sampler this method needs.
  var sampling: SamplingRequest { get }
  /// Called once with the whole training set before the first step.
  func prepare(_ data: TrainingSetSummary) throws
  /// The loss of one step.
  func loss(_ batch: MethodBatch) throws -> MethodLoss
  /// Trainable tensors the method owns (an adversary), by checkpoint path; they get their own
  /// optimizer state.
  var extraParameters: [(String, Tensor)] { get }
  /// Non-trainable state for checkpoints (GroupDRO's group weights).
  func stateDict() -> [String: [Float]]
  func loadStateDict(_ state: [String: [Float]]) throws
}

extension TrainingMethod {
  public var sampling: SamplingRequest { .any }
  public func prepare(_ data: TrainingSetSummary) throws {}
  public var extraParameters: [(String, Tensor)] { [] }
  public func stateDict() -> [String: [Float]] { [:] }
  public func loadStateDict(_ state: [String: [Float]]) throws {}

  /// Mean of the per-sample loss, the ERM objective every method starts from.
  func meanLoss(_ batch: MethodBatch) throws -> Tensor { try batch.perSampleLoss.mean() }
}

/// Indices of each subgroup present in a batch, by group id (sorted ids).
func membersByGroup(_ groups: [Int], where include: (Int) -> Bool = { _ in true }) -> [(Int, [Int])] {
  var by: [Int: [Int]] = [:]
  for (i, g) in groups.enumerated() where include(i) { by[g, default: []].append(i) }
  return by.keys.sorted().map { ($0, by[$0]!) }
}
