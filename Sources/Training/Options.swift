import CLIP

/// Every training method: the one table that `fairmed train --help`, validation, studies and
/// the method factory read. Adding a method means adding a case here and its file in `Methods/`.
public enum MethodName: String, CaseIterable, Codable, Sendable {
  case erm
  case cmacMMD = "cmac-mmd"
  case resample
  case reweight
  case groupDRO = "groupdro"
  case meanMatch = "meanmatch"
  case dann
  case cdann
  case fairCLIP = "fairclip"

  /// Whether the method's loss has a weight λ (`--lambda`).
  public var takesLambda: Bool {
    switch self {
    case .cmacMMD, .meanMatch, .dann, .cdann, .fairCLIP: return true
    case .erm, .resample, .reweight, .groupDRO: return false
    }
  }

  /// A fresh method object; `lambda` applies where ``takesLambda``, `cmac` to CMAC-MMD.
  public func make(lambda: Float, cmac: CMACMMD = CMACMMD(), marginsOnLogits: Bool = false) -> TrainingMethod {
    switch self {
    case .erm: return ERM()
    case .cmacMMD:
      var options = cmac
      options.lambda = lambda
      return CMACMMDMethod(options: options, marginsOnLogits: marginsOnLogits)
    case .resample: return Resample()
    case .reweight: return Reweight()
    case .groupDRO: return GroupDRO()
    case .meanMatch: return MeanMatch(lambda: lambda)
    case .dann: return AdversarialDebiasing(conditional: false, lambda: lambda)
    case .cdann: return AdversarialDebiasing(conditional: true, lambda: lambda)
    case .fairCLIP: return FairCLIP(lambda: lambda)
    }
  }

  /// The names in `--help` order.
  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Which parameters train (`--mode`).
public enum FineTuningMode: String, CaseIterable, Codable, Sendable {
  case full
  /// The last ``RunConfig/lastK`` blocks of both towers and the projections.
  case lastK = "last-k"
  case textFrozen = "text-frozen"
  /// Image tower frozen, its pooled outputs cached once: the fast CPU path.
  case imageFrozen = "image-frozen"
}

/// How training batches are drawn (`--sampler`).
public enum SamplerKind: String, CaseIterable, Codable, Sendable {
  case shuffle
  /// ≥ ``RunConfig/minPerCell`` samples of every subgroup per batch.
  case balanced
  /// ≥ ``RunConfig/minPerCell`` samples of every subgroup × label cell per batch.
  case balancedCells = "balanced-cells"
}

/// The task loss (`--loss`). `auto`: contrastive when the data has notes and the model is
/// pretrained, else prompt-ce (a CLIP trained from scratch on notes never sees the class prompts
/// it is evaluated with: its validation AUC fell to 0.1–0.2 on the synthetic fundus benchmark).
public enum LossKind: String, CaseIterable, Codable, Sendable {
  case auto, contrastive
  case promptCE = "prompt-ce"

  /// Whether this choice trains contrastively on the data's notes.
  public func isContrastive(hasNotes: Bool, fromScratch: Bool) -> Bool {
    switch self {
    case .contrastive: return true
    case .promptCE: return false
    case .auto: return hasNotes && !fromScratch
    }
  }
}

/// How the saved `best/` model is chosen (`--selection`).
public enum SelectionRule: String, CaseIterable, Codable, Sendable {
  /// Highest validation AUC.
  case valAUC = "val-auc"
  /// Lowest validation ΔTPR at the decision threshold among epochs with AUC ≥ best − ``RunConfig/selectionDelta``.
  case valDTPR = "val-dtpr"
  /// Highest validation worst-group TPR at the decision threshold among epochs with AUC ≥ best − ``RunConfig/selectionDelta``.
  case valWorstTPR = "val-worst-tpr"
  /// The last epoch.
  case last
}

/// A CLIP trained from scratch (`--from-scratch`).
public enum ScratchPreset: String, CaseIterable, Codable, Sendable {
  case tiny, small

  /// The model configuration at input side `imageSize`.
  public func config(imageSize: Int) -> CLIPConfig? { ModelPresets.config(named: rawValue, imageSize: imageSize) }
}

/// CMAC-MMD's kernel bandwidth rule (`--cmac-bandwidth`).
public enum BandwidthKind: String, CaseIterable, Codable, Sendable {
  case fixed, median, multi
}
