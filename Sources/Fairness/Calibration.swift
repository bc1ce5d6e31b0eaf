import Foundation
import Support

/// A two-sided confidence interval [lower, upper] of central coverage `level`.
public struct ConfidenceInterval: Sendable, Equatable {
  public var lower: Double
  public var upper: Double
  public var level: Double

  public init(lower: Double, upper: Double, level: Double) {
    self.lower = lower; self.upper = upper; self.level = level
  }
}

/// A maximum-likelihood estimate with its standard error from the inverse observed information
/// and the Wald interval estimate ± z·SE, z = Φ⁻¹((1 + level)/2) (1.959964 at 95 %).
public struct WaldEstimate: Sendable, Equatable {
  public var estimate: Double
  public var standardError: Double
  public var interval: ConfidenceInterval

  init(_ estimate: Double, variance: Double, z: Double, level: Double) {
    self.estimate = estimate
    standardError = variance.squareRoot()
    interval = ConfidenceInterval(
      lower: estimate - z * standardError, upper: estimate + z * standardError, level: level)
  }
}

/// Logistic recalibration (Cox 1958; Van Calster et al. 2016, "A calibration hierarchy"):
/// with x = logit(p), p clamped to [1e-15, 1 − 1e-15] (so scores of exactly 0 or 1 enter as
/// x = ∓34.54), the two conventions of one model logit P(y = 1) = a + b·x:
/// - `intercept` a and `slope` b: the joint two-parameter maximum-likelihood fit (perfect
///   calibration: a = 0, b = 1; b < 1: predictions too extreme);
/// - `calibrationInTheLarge`: the intercept of the fit with the slope fixed at 1 (x as an
///   offset), logit P(y = 1) = a₁ + x (a₁ > 0: risks underestimated on average).
/// Each with its Wald interval from the inverse observed information (for the logit link the
/// observed and expected information agree: (Xᵀ W X)⁻¹, W = diag μ(1 − μ)); the same numbers as
/// statsmodels' `GLM(y, [1, x], Binomial())` and `GLM(y, 1, Binomial(), offset=x)`.
public struct LogisticCalibration: Sendable, Equatable {
  /// a of the joint fit.
  public var intercept: WaldEstimate
  /// b of the joint fit.
  public var slope: WaldEstimate
  /// Cov(a, b) of the joint fit.
  public var covariance: Double
  /// The intercept with the slope fixed at 1.
  public var calibrationInTheLarge: WaldEstimate
  /// Log-likelihood of the joint fit.
  public var logLikelihood: Double
  /// Newton–Raphson iterations of the joint fit.
  public var iterations: Int
  public var n: Int
  public var positives: Int
}

/// One equal-width bin of a reliability diagram: scores in [lower, upper) (the last bin also
/// holds 1), the observed rate of positives with its Wilson score interval (Wilson 1927):
///   (k + z²/2)/(n + z²) ± z/(n + z²)·√(k(n − k)/n + z²/4).
public struct ReliabilityBin: Sendable, Equatable {
  public var lower: Double
  public var upper: Double
  public var count: Int
  public var positives: Int
  /// Mean score of the bin (nil when empty).
  public var meanPredicted: Double?
  /// positives / count (nil when empty).
  public var observedRate: Double?
  /// Wilson interval of `observedRate` (nil when empty).
  public var observedInterval: ConfidenceInterval?
}

/// How scores are binned for the expected calibration error.
public enum CalibrationBinning: Sendable, Equatable {
  /// B bins of width 1/B: row i in bin min(⌊p_i·B⌋, B − 1) (the audit's ECE, and the
  /// reliability diagram, use this; the peers' default is 10 bins, the audit's 15).
  case equalWidth(bins: Int)
  /// B bins of (nearly) equal count: rows sorted by (score, label), bin b holds sorted
  /// positions ⌊b·n/B⌋ ..< ⌊(b + 1)·n/B⌋ (tied scores may straddle a boundary; the label order
  /// among them makes the result independent of row order).
  case equalMass(bins: Int)

  public var bins: Int {
    switch self {
    case .equalWidth(let b), .equalMass(let b): return b
    }
  }
}

/// Temperature scaling of a binary score (Guo et al. 2017): q = σ(logit(p)/T), with p clamped to
/// [1e-15, 1 − 1e-15] and T > 0 minimising the mean log loss of q on *validation* labels
/// (never the audited ones). Fitted by Newton–Raphson on β = 1/T, where the log loss
/// Σ log(1 + e^{β x}) − y β x is convex (the minimiser is the same as on T or log T).
/// T > 1 softens over-confident scores, T < 1 sharpens; T = 1 leaves them unchanged.
public struct TemperatureScaling: Sendable, Equatable {
  public var temperature: Double
  /// Mean log loss on the validation rows before (T = 1) and after scaling.
  public var logLossBefore: Double
  public var logLossAfter: Double
  public var iterations: Int
  /// Validation rows it was fitted on.
  public var n: Int

  /// Fits T on validation labels and scores (probabilities in [0, 1]). Throws when the data
  /// has one class, or when no finite positive T exists: every score on the correct side of 0.5
  /// (β → ∞, T → 0), scores that rank worse than chance at the optimum (β ≤ 0), or every score 0.5.
  public static func fit(labels: [UInt8], scores: [Double]) throws -> TemperatureScaling {
    let positives = try StatisticsInput.check(labels, scores, probabilities: true, what: "temperature scaling")
    try StatisticsInput.needBothClasses(positives, labels.count, what: "temperature scaling")
    let x = scores.map(Calibration.logit)
    // A row on the wrong side of 0.5 makes the loss grow as β → +∞, one on the right side as β → −∞.
    var wrongSide = false, rightSide = false, informative = false
    for i in x.indices where x[i] != 0 {
      informative = true
      if (labels[i] != 0) == (x[i] < 0) { wrongSide = true } else { rightSide = true }
    }
    guard informative else {
      throw AuditError.badOption("temperature scaling: every score is 0.5, the temperature is not identifiable")
    }
    guard wrongSide else {
      throw AuditError.badOption(
        "temperature scaling: every score is on the correct side of 0.5, so the log loss falls as T → 0 (no finite T)")
    }
    guard rightSide else {
      throw AuditError.badOption(
        "temperature scaling: every score is on the wrong side of 0.5, no positive T minimises the log loss")
    }
    let fit = try LogisticFit.fit(x: x, y: labels, .slope, start: (0, 1))
    let beta = fit.b
    guard beta > 0, beta.isFinite else {
      throw AuditError.badOption(
        "temperature scaling: the scores rank worse than chance (1/T = \(beta) ≤ 0), no positive temperature")
    }
    let n = Double(labels.count)
    let before = -LogisticFit.evaluate(x: x, y: labels, a: 0, b: 1, slopeFree: true).logLikelihood / n
    return TemperatureScaling(
      temperature: 1 / beta, logLossBefore: before, logLossAfter: -fit.logLikelihood / n,
      iterations: fit.iterations, n: labels.count)
  }

  /// σ(logit(p)/T) for every score (p clamped to [1e-15, 1 − 1e-15]); throws on a score that is
  /// not a probability.
  public func apply(_ scores: [Double]) throws -> [Double] {
    for (i, p) in scores.enumerated() where !(p >= 0 && p <= 1) {
      throw AuditError.badOption("temperature scaling: score \(p) at index \(i) is not a probability in [0, 1]")
    }
    let t = temperature
    return scores.map { LogisticFit.sigmoid(Calibration.logit($0) / t) }
  }
}

/// Calibration statistics on (label, score) rows: labels 0 or 1, scores probabilities in
/// [0, 1]. Every function throws `AuditError.badOption` on empty input, a label other than 0/1,
/// a score that is NaN or outside [0, 1], or a count mismatch; none traps on user data.
public enum Calibration {
  /// Scores are clamped to [ε, 1 − ε] before the logit.
  public static let probabilityClamp = 1e-15

  /// logit(p) = log(p/(1 − p)) with p clamped to [1e-15, 1 − 1e-15].
  @inline(__always)
  public static func logit(_ p: Double) -> Double {
    let q = min(max(p, probabilityClamp), 1 - probabilityClamp)
    return log(q / (1 - q))
  }

  /// Slope, intercept and calibration-in-the-large with Wald intervals (see
  /// ``LogisticCalibration``). Throws on one class, on scores that all share one logit (the
  /// slope is not identifiable), and when the score separates the classes (every negative's
  /// logit ≤ every positive's, or the reverse): then no finite maximum-likelihood fit exists.
  public static func logistic(labels: [UInt8], scores: [Double], level: Double = 0.95) throws -> LogisticCalibration {
    let z = try StatisticsInput.z(level)
    let positives = try StatisticsInput.check(labels, scores, probabilities: true, what: "logistic calibration")
    try StatisticsInput.needBothClasses(positives, labels.count, what: "logistic calibration")
    let x = scores.map(logit)
    var minPos = Double.infinity, maxPos = -Double.infinity, minNeg = Double.infinity, maxNeg = -Double.infinity
    for i in x.indices {
      if labels[i] != 0 {
        minPos = min(minPos, x[i]); maxPos = max(maxPos, x[i])
      } else {
        minNeg = min(minNeg, x[i]); maxNeg = max(maxNeg, x[i])
      }
    }
    if min(minPos, minNeg) == max(maxPos, maxNeg) {
      throw AuditError.badOption("logistic calibration: every score has the same logit, the slope is not identifiable")
    }
    if maxNeg <= minPos || maxPos <= minNeg {
      throw AuditError.badOption(
        "logistic calibration: the score separates the classes, no finite maximum-likelihood slope exists")
    }
    let joint = try LogisticFit.fit(x: x, y: labels, .both, start: (0, 1))
    let det = joint.h00 * joint.h11 - joint.h01 * joint.h01
    let large = try LogisticFit.fit(x: x, y: labels, .intercept, start: (0, 1))
    return LogisticCalibration(
      intercept: WaldEstimate(joint.a, variance: joint.h11 / det, z: z, level: level),
      slope: WaldEstimate(joint.b, variance: joint.h00 / det, z: z, level: level),
      covariance: -joint.h01 / det,
      calibrationInTheLarge: WaldEstimate(large.a, variance: 1 / large.h00, z: z, level: level),
      logLikelihood: joint.logLikelihood, iterations: joint.iterations, n: labels.count, positives: positives)
  }

  /// Calibration-in-the-large alone: the intercept a₁ of logit P(y = 1) = a₁ + logit(p) (slope
  /// fixed at 1), with its Wald interval. Defined whenever both classes are present, even where
  /// the joint fit is not (a constant or separating score).
  public static func calibrationInTheLarge(labels: [UInt8], scores: [Double], level: Double = 0.95) throws
    -> WaldEstimate
  {
    let z = try StatisticsInput.z(level)
    let positives = try StatisticsInput.check(labels, scores, probabilities: true, what: "calibration-in-the-large")
    try StatisticsInput.needBothClasses(positives, labels.count, what: "calibration-in-the-large")
    let fit = try LogisticFit.fit(x: scores.map(logit), y: labels, .intercept, start: (0, 1))
    return WaldEstimate(fit.a, variance: 1 / fit.h00, z: z, level: level)
  }

  /// The reliability diagram: `bins` equal-width bins on [0, 1] (row i in bin min(⌊p_i·B⌋, B − 1),
  /// the ECE's convention), each with its count, mean score, observed rate and Wilson interval.
  /// `bins` in 1…1000.
  public static func reliability(labels: [UInt8], scores: [Double], bins: Int = 10, level: Double = 0.95) throws
    -> [ReliabilityBin]
  {
    let z = try StatisticsInput.z(level)
    try StatisticsInput.checkBins(bins)
    _ = try StatisticsInput.check(labels, scores, probabilities: true, what: "reliability diagram")
    var count = [Int](repeating: 0, count: bins), pos = count
    var sum = [Double](repeating: 0, count: bins)
    let B = Double(bins)
    for i in scores.indices {
      let b = min(Int(scores[i] * B), bins - 1)
      count[b] += 1; sum[b] += scores[i]; pos[b] += Int(labels[i])
    }
    return (0..<bins).map { b in
      let n = Double(count[b]), k = Double(pos[b])
      var interval: ConfidenceInterval?
      if count[b] > 0 {
        let z2 = z * z
        let center = (k + z2 / 2) / (n + z2)
        let half = z / (n + z2) * (k * (n - k) / n + z2 / 4).squareRoot()
        interval = ConfidenceInterval(lower: center - half, upper: center + half, level: level)
      }
      return ReliabilityBin(
        lower: Double(b) / B, upper: Double(b + 1) / B, count: count[b], positives: pos[b],
        meanPredicted: count[b] > 0 ? sum[b] / n : nil, observedRate: count[b] > 0 ? k / n : nil,
        observedInterval: interval)
    }
  }

  /// Brier score (Brier 1950): mean (p − y)² (scikit-learn's `brier_score_loss`).
  public static func brier(labels: [UInt8], scores: [Double]) throws -> Double {
    _ = try StatisticsInput.check(labels, scores, probabilities: true, what: "Brier score")
    var s = 0.0
    for i in scores.indices {
      let e = scores[i] - Double(labels[i])
      s += e * e
    }
    return s / Double(scores.count)
  }

  /// Expected calibration error (Naeini et al. 2015): Σ_b (n_b/n)·|mean p_b − mean y_b|
  /// = (1/n)·Σ_b |Σ_{i∈b} p_i − Σ_{i∈b} y_i|, under `binning` (bins in 1…1000; say which
  /// convention with every ECE reported). Empty bins add nothing.
  public static func ece(labels: [UInt8], scores: [Double], binning: CalibrationBinning = .equalWidth(bins: 10))
    throws -> Double
  {
    let B = binning.bins
    try StatisticsInput.checkBins(B)
    _ = try StatisticsInput.check(labels, scores, probabilities: true, what: "ECE")
    let n = scores.count
    var gap = [Double](repeating: 0, count: B)
    switch binning {
    case .equalWidth:
      for i in scores.indices { gap[min(Int(scores[i] * Double(B)), B - 1)] += scores[i] - Double(labels[i]) }
    case .equalMass:
      let order = try StatisticsInput.sortedKeysAndRows(scores, labelsFirst: labels).rows
      var b = 0
      for (position, row) in order.enumerated() {
        while position >= (b + 1) * n / B { b += 1 }  // bin b ends at ⌊(b + 1)·n/B⌋
        gap[b] += scores[Int(row)] - Double(labels[Int(row)])
      }
    }
    return gap.reduce(0) { $0 + abs($1) } / Double(n)
  }
}

/// Newton–Raphson for logit P(y = 1) = a + b·x: both parameters, the slope alone (a = 0), or
/// the intercept alone (b = 1, x an offset). The log-likelihood is concave; each step is cut so
/// that no row's linear predictor moves by more than 16, then halved until the log-likelihood
/// does not fall (beyond rounding), so the iteration converges from any start once the maximum
/// exists. It stops when every step is ≤ 1e-10·(1 + |parameter|), at most 200 iterations.
enum LogisticFit {
  enum Parameters { case both, slope, intercept }

  struct Evaluation {
    var logLikelihood = 0.0
    /// Score Σ (y − μ)·[1, x].
    var g0 = 0.0, g1 = 0.0
    /// Information Σ μ(1 − μ)·[1, x; x, x²].
    var h00 = 0.0, h01 = 0.0, h11 = 0.0
  }

  struct Result {
    var a: Double, b: Double
    var logLikelihood: Double
    var h00: Double, h01: Double, h11: Double
    var iterations: Int
  }

  static func fit(x: [Double], y: [UInt8], _ parameters: Parameters, start: (Double, Double)) throws -> Result {
    var (a, b) = start
    let slopeFree = parameters != .intercept
    let maxX = x.reduce(0) { max($0, abs($1)) }
    var e = evaluate(x: x, y: y, a: a, b: b, slopeFree: slopeFree)
    for iteration in 1...200 {
      var da = 0.0, db = 0.0
      switch parameters {
      case .both:
        let det = e.h00 * e.h11 - e.h01 * e.h01
        guard det > 0, det.isFinite else { throw notConverged("a singular information matrix") }
        da = (e.h11 * e.g0 - e.h01 * e.g1) / det
        db = (e.h00 * e.g1 - e.h01 * e.g0) / det
      case .slope:
        guard e.h11 > 0 else { throw notConverged("zero information") }
        db = e.g1 / e.h11
      case .intercept:
        guard e.h00 > 0 else { throw notConverged("zero information") }
        da = e.g0 / e.h00
      }
      guard da.isFinite, db.isFinite else { throw notConverged("a step that is not finite") }
      let converged = abs(da) <= 1e-10 * (1 + abs(a)) && abs(db) <= 1e-10 * (1 + abs(b))
      let reach = abs(da) + abs(db) * maxX  // the largest change of a + b·x over the rows
      var t = reach > 16 ? 16 / reach : 1
      var next = evaluate(x: x, y: y, a: a + t * da, b: b + t * db, slopeFree: slopeFree)
      while !(next.logLikelihood >= e.logLikelihood - 1e-12 * (1 + abs(e.logLikelihood))) {
        t /= 2
        guard t > 1e-12 else { throw notConverged("no step that raises the likelihood") }
        next = evaluate(x: x, y: y, a: a + t * da, b: b + t * db, slopeFree: slopeFree)
      }
      a += t * da; b += t * db; e = next
      if converged {
        return Result(
          a: a, b: b, logLikelihood: e.logLikelihood, h00: e.h00, h01: e.h01, h11: e.h11, iterations: iteration)
      }
    }
    throw notConverged("200 iterations")
  }

  static func notConverged(_ why: String) -> AuditError {
    AuditError.badOption("logistic fit: Newton–Raphson stopped at \(why) before converging")
  }

  @inline(__always)
  static func sigmoid(_ t: Double) -> Double {
    t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t))
  }

  /// Log-likelihood, score and information at (a, b); `slopeFree` false skips the x terms.
  /// Rows are summed in min(16, ⌊n/16384⌋) fixed chunks on all cores, added in chunk order, so
  /// the sums depend on n alone, never on the number of threads.
  static func evaluate(x: [Double], y: [UInt8], a: Double, b: Double, slopeFree: Bool) -> Evaluation {
    let n = x.count, chunks = min(16, max(1, n / 16384))
    if chunks == 1 { return evaluate(x: x, y: y, rows: 0..<n, a: a, b: b, slopeFree: slopeFree) }
    let parts = concurrentMap(chunks) { c in
      evaluate(x: x, y: y, rows: c * n / chunks..<(c + 1) * n / chunks, a: a, b: b, slopeFree: slopeFree)
    }
    var e = Evaluation()
    for p in parts {
      e.logLikelihood += p.logLikelihood
      e.g0 += p.g0; e.g1 += p.g1; e.h00 += p.h00; e.h01 += p.h01; e.h11 += p.h11
    }
    return e
  }

  static func evaluate(x: [Double], y: [UInt8], rows: Range<Int>, a: Double, b: Double, slopeFree: Bool)
    -> Evaluation
  {
    var e = Evaluation()
    x.withUnsafeBufferPointer { x in
      y.withUnsafeBufferPointer { y in
        for i in rows {
          let eta = a + b * x[i]
          let t = exp(-abs(eta))  // μ = 1/(1 + t) for η ≥ 0, t/(1 + t) for η < 0
          let inv = 1 / (1 + t)
          let mu = eta >= 0 ? inv : t * inv
          let w = t * inv * inv
          let positive = y[i] != 0
          // log P(y | η) = −softplus(∓η) = −(max(∓η, 0) + log1p(e^{−|η|})).
          e.logLikelihood -= (positive ? max(-eta, 0) : max(eta, 0)) + log1p(t)
          let r = (positive ? 1 : 0) - mu
          e.g0 += r; e.h00 += w
          if slopeFree {
            let xi = x[i]
            e.g1 += r * xi; e.h01 += w * xi; e.h11 += w * xi * xi
          }
        }
      }
    }
    return e
  }
}

/// The checks every statistic runs on its input before touching it.
enum StatisticsInput {
  /// The number of positives, after checking: equal non-zero counts, labels 0 or 1, scores
  /// finite (and in [0, 1] when `probabilities`).
  static func check(_ labels: [UInt8], _ scores: [Double], probabilities: Bool, what: String) throws -> Int {
    guard labels.count == scores.count else {
      throw AuditError.badOption("\(what): \(labels.count) labels but \(scores.count) scores")
    }
    guard !labels.isEmpty else { throw AuditError.badOption("\(what): no rows") }
    var positives = 0
    for i in labels.indices {
      let y = labels[i], p = scores[i]
      guard y <= 1 else { throw AuditError.badOption("\(what): label \(y) at index \(i) is not 0 or 1") }
      positives += Int(y)
      if probabilities {
        guard p >= 0 && p <= 1 else {
          throw AuditError.badOption("\(what): score \(p) at index \(i) is not a probability in [0, 1]")
        }
      } else {
        guard p.isFinite else { throw AuditError.badOption("\(what): score \(p) at index \(i) is not finite") }
      }
    }
    return positives
  }

  static func needBothClasses(_ positives: Int, _ n: Int, what: String) throws {
    guard positives > 0, positives < n else {
      throw AuditError.badOption("\(what) needs both classes: \(positives == 0 ? "no positives" : "no negatives")")
    }
  }

  static func checkBins(_ bins: Int) throws {
    guard (1...AuditConfiguration.maxECEBins).contains(bins) else {
      throw AuditError.badOption("bins must be in 1…\(AuditConfiguration.maxECEBins), got \(bins)")
    }
  }

  /// z = Φ⁻¹((1 + level)/2) for a central interval of coverage `level` in (0, 1).
  static func z(_ level: Double) throws -> Double {
    guard level > 0, level < 1, let z = StandardNormal.quantile((1 + level) / 2) else {
      throw AuditError.badOption("confidence level must be in (0, 1), got \(level)")
    }
    return z
  }

  /// The scores' order-preserving keys (``RankedScores/orderedBits(_:)``) sorted ascending with
  /// their row indices, by an O(n) stable LSD radix sort (scores finite; −0 and +0 equal); with
  /// `labelsFirst`, tied rows are ordered negatives first (rows sorted by (score, label)).
  static func sortedKeysAndRows(_ scores: [Double], labelsFirst labels: [UInt8]?) throws -> (
    keys: [UInt64], rows: [UInt32]
  ) {
    guard scores.count < Int(UInt32.max) else { throw AuditError.badOption("more than 2³² − 2 rows") }
    var keys: [UInt64] = [], rows: [UInt32] = []
    keys.reserveCapacity(scores.count); rows.reserveCapacity(scores.count)
    if let labels {
      for label in [UInt8(0), 1] {  // negatives first: the stable sort keeps them before tied positives
        for i in scores.indices where labels[i] == label {
          keys.append(RankedScores.orderedBits(scores[i])); rows.append(UInt32(i))
        }
      }
    } else {
      for i in scores.indices { keys.append(RankedScores.orderedBits(scores[i])); rows.append(UInt32(i)) }
    }
    RadixSort.sort(keys: &keys, payload: &rows)
    return (keys, rows)
  }
}
