import Foundation

/// Everything an audit can be asked to do.
public struct AuditConfiguration: Sendable {
  public var threshold: ThresholdRule = .argmax
  /// Groups with fewer rows are flagged and left out of gaps.
  public var minGroupSize: Int = 10
  /// Include flagged groups in gaps anyway.
  public var includeSmallGroups = false
  /// Calibration bins of ECE and the reliability plot.
  public var eceBins: Int = 15
  /// nil = no bootstrap.
  public var bootstrap: BootstrapOptions? = nil
  public var certainty = CertaintyOptions()
  /// A group name ("female|<40") whose metrics every group is compared to.
  public var referenceGroup: String? = nil
  /// Also audit each attribute alone.
  public var singleAttributeViews = true
  /// Points kept per ROC curve.
  public var rocPoints = 200
  /// Called with (done, total) during the bootstrap.
  public var progress: (@Sendable (Int, Int) -> Void)? = nil
  /// Reads (labels, scores) of a validation file (threshold rules that need one).
  public var loadValidation: (@Sendable (String) throws -> (labels: [UInt8], scores: [Double]))? = nil
  public init() {}
}
