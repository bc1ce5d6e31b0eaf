import CLIP
import Foundation
import Support

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

  /// The values λ (`--lambda`, a study's `lambdas`, the demo's `--lambda`) may take: the one
  /// declaration of the range, its words in `--help` and errors included.
  public static let lambdaCheck = SettingCheck<Float>.finite(in: 0...1000)

  /// Whether the method has a strength λ (`--lambda`): the weight of its fairness term, or
  /// GroupDRO's step size η (η 0 keeps the group weights uniform: the mean of the group losses).
  /// Without `--lambda` it is chosen on validation (``LambdaSelection``).
  public var takesLambda: Bool {
    switch self {
    case .cmacMMD, .meanMatch, .dann, .cdann, .fairCLIP, .groupDRO: return true
    case .erm, .resample, .reweight: return false
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
    case .groupDRO: return GroupDRO(stepSize: lambda)
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

/// The peak learning rate of a run whose `--lr` is not given, by what trains: the one
/// declaration of the rule (``RunConfig/effectiveLearningRate``, the chance-level warning and
/// `--lr`'s help, through ``summary``, read it).
public enum DefaultLearningRate {
  /// Training from scratch (a tiny CLIP at 1e-5 stayed near chance in 10 epochs, docs/METHOD.md §9).
  public static let fromScratch: Float = 1e-3
  /// Fine-tuning every block of the image tower (`full`, `text-frozen`).
  public static let wholeTowers: Float = 1e-5
  /// Fine-tuning a few layers or LoRA adapters (`last-k`, `image-frozen`, `--lora`).
  public static let fewLayers: Float = 1e-4

  /// The rate for a run from scratch or fine-tuning in `mode`, with LoRA adapters or not.
  public static func value(fromScratch scratch: Bool, mode: FineTuningMode, lora: Bool = false) -> Float {
    if scratch { return fromScratch }
    if lora { return fewLayers }
    switch mode {
    case .full, .textFrozen: return wholeTowers
    case .lastK, .imageFrozen: return fewLayers
    }
  }

  /// The rule in words, read off ``value(fromScratch:mode:lora:)``: "1e-3 from scratch, 1e-5 for
  /// full and text-frozen fine-tuning, 1e-4 for last-k and image-frozen fine-tuning and for --lora".
  public static var summary: String {
    var rates: [(rate: Float, modes: [String], lora: Bool)] = []
    func add(_ rate: Float, mode: String?) {
      if !rates.contains(where: { $0.rate == rate }) { rates.append((rate, [], false)) }
      let i = rates.firstIndex { $0.rate == rate }!
      if let mode { rates[i].modes.append(mode) } else { rates[i].lora = true }
    }
    for mode in FineTuningMode.allCases { add(value(fromScratch: false, mode: mode), mode: mode.rawValue) }
    add(value(fromScratch: false, mode: .full, lora: true), mode: nil)
    let parts = rates.map { r -> String in
      var users: [String] = []
      if !r.modes.isEmpty { users.append(listInWords(r.modes) + " fine-tuning") }
      if r.lora { users.append("--lora") }
      return "\(powerOfTen(r.rate)) for " + users.joined(separator: " and for ")
    }
    return (["\(powerOfTen(fromScratch)) from scratch"] + parts).joined(separator: ", ")
  }

  /// `1e-3` for 0.001 (how `--lr` is usually written), else `%g`.
  static func powerOfTen(_ x: Float) -> String {
    let e = Foundation.log10(Double(x))
    return abs(e - e.rounded()) < 1e-6 ? "1e\(Int(e.rounded()))" : String(format: "%g", Double(x))
  }

  /// "a", "a and b", "a, b and c".
  static func listInWords(_ items: [String]) -> String {
    items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
  }
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

/// What a run learns. `classify`: a classifier over the class prompts (`fairmed train`);
/// `pretrain`: image–text alignment, CLIP's symmetric InfoNCE over each batch's image–caption
/// pairs, with no labels, prompts or groups (`fairmed pretrain`, docs/training.md).
public enum Objective: String, CaseIterable, Codable, Sendable {
  case classify, pretrain
}

/// How the saved `best/` model is chosen (`--selection`).
public enum SelectionRule: String, CaseIterable, Codable, Sendable {
  /// Highest validation AUC.
  case valAUC = "val-auc"
  /// Lowest validation ΔTPR at the decision threshold among epochs with AUC ≥ best − ``RunConfig/selectionDelta``,
  /// decided epoch by epoch (docs/METHOD.md §6: an epoch passed over is not reconsidered when the bar rises).
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
