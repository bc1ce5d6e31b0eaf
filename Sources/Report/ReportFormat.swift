import Foundation
import Fairness

/// How the readable reports (audit.html, audit.md) write numbers and paths: three significant
/// digits, and paths relative to the current directory (or shortened), never absolute. audit.json
/// and groups.csv keep full precision and the paths as given.
enum ReportFormat {
  /// `v` to three significant digits, trailing zeros kept so a column reads evenly (0.950, 0.0321,
  /// 1.00, 12.3, 4560); below 0.001 in scientific notation (1.20e-05); "—" for nil.
  static func sig3(_ v: Double?) -> String {
    guard let v else { return "—" }
    guard v.isFinite else { return v.isNaN ? "—" : (v > 0 ? "∞" : "−∞") }
    if v == 0 { return "0" }
    if abs(v) < 1e-3 { return String(format: "%.2e", v) }
    let rounded = roundedToSignificant(v, 3)
    let exponent = Int(floor(log10(abs(rounded))))
    return String(format: "%.\(max(0, 2 - exponent))f", rounded)
  }

  /// A p-value as ``sig3(_:)`` writes it, except one that underflowed to 0 (a normal tail beyond
  /// |z| ≈ 38), which is "< 1e-300", not a p of zero.
  static func pValue(_ v: Double?) -> String { v == 0 ? "< 1e-300" : sig3(v) }

  /// A parameter to three significant digits without trailing zeros (a threshold 0.338, 0.5, σ 0.1).
  static func short(_ v: Double) -> String {
    let s = sig3(v)
    guard s.contains("."), !s.contains("e") else { return s }
    var t = Substring(s)
    while t.hasSuffix("0") { t = t.dropLast() }
    if t.hasSuffix(".") { t = t.dropLast() }
    return String(t)
  }

  /// A share as a percentage to three significant digits (84.1%).
  static func percent(_ v: Double?) -> String { v.map { short($0 * 100) + "%" } ?? "—" }

  /// "[lower, upper]" of a bootstrap interval.
  static func interval(_ i: Interval?) -> String {
    guard let i else { return "" }
    return "[\(sig3(i.lower)), \(sig3(i.upper))]"
  }

  static func roundedToSignificant(_ v: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits - 1) - floor(log10(abs(v))))
    return (v * scale).rounded() / scale
  }

  /// A path as a reader should see it: as given when relative; relative to the current
  /// directory when absolute and inside it (or at most two levels up from it); otherwise its last
  /// three components after "…/". Never an absolute path.
  static func displayPath(_ path: String, cwd: String = FileManager.default.currentDirectoryPath) -> String {
    guard path.hasPrefix("/") else { return path }
    let target = components(path), base = components(cwd)
    var common = 0
    while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
    let ups = base.count - common
    if ups <= 2 && common > 0 {
      let rest = target[common...]
      let parts = Array(repeating: "..", count: ups) + rest
      return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
    return "…/" + target.suffix(3).joined(separator: "/")
  }

  private static func components(_ path: String) -> [String] {
    var out: [String] = []
    for part in path.split(separator: "/") where part != "." && !part.isEmpty {
      if part == ".." { if !out.isEmpty { out.removeLast() } } else { out.append(String(part)) }
    }
    return out
  }

  /// Free text (a threshold's detail, a warning) made readable: every absolute path shown by
  /// ``displayPath(_:cwd:)`` and every decimal number to three significant digits.
  static func humanize(_ text: String, cwd: String = FileManager.default.currentDirectoryPath) -> String {
    let chars = Array(text)
    var out = ""
    var i = 0
    let boundary: Set<Character> = [" ", "(", "[", "'", "\"", "`", "=", "\n", "\t"]
    func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
    while i < chars.count {
      let c = chars[i]
      let atBoundary = i == 0 || boundary.contains(chars[i - 1])
      if c == "/" && atBoundary {
        var j = i
        while j < chars.count && !" \t\n)]'\"`,;".contains(chars[j]) {
          // A ':' or '.' followed by a space (or the end) ends a sentence, not the path.
          if chars[j] == ":" || chars[j] == "." {
            if j + 1 == chars.count || chars[j + 1] == " " { break }
          }
          j += 1
        }
        out += displayPath(String(chars[i..<j]), cwd: cwd)
        i = j
        continue
      }
      let previousIsWord = i > 0 && (chars[i - 1].isLetter || isDigit(chars[i - 1]) || chars[i - 1] == ".")
      if isDigit(c) && !previousIsWord {
        var j = i
        while j < chars.count && isDigit(chars[j]) { j += 1 }
        if j + 1 < chars.count && chars[j] == "." && isDigit(chars[j + 1]) {
          j += 1
          while j < chars.count && isDigit(chars[j]) { j += 1 }
          if j < chars.count && (chars[j] == "e" || chars[j] == "E") {
            var k = j + 1
            if k < chars.count && (chars[k] == "-" || chars[k] == "+") { k += 1 }
            if k < chars.count && isDigit(chars[k]) {
              while k < chars.count && isDigit(chars[k]) { k += 1 }
              j = k
            }
          }
          let token = String(chars[i..<j])
          out += Double(token).map(short) ?? token
        } else {
          out += String(chars[i..<j])
        }
        i = j
        continue
      }
      out.append(c)
      i += 1
    }
    return out
  }
}

extension AggregateKey {
  /// A plain name for readers (the JSON and CSV keep `rawValue`).
  var plainName: String {
    switch self {
    case .deltaTPR: return "ΔTPR (max − min subgroup TPR)"
    case .tprRatio: return "TPR ratio (min / max subgroup TPR)"
    case .worstGroupTPR: return "Worst-group TPR (lowest subgroup TPR)"
    case .deltaFPR: return "ΔFPR (max − min subgroup FPR)"
    case .dpd: return "Demographic parity difference (max − min selection rate)"
    case .dpr: return "Demographic parity ratio (min / max selection rate)"
    case .deodds: return "Equalized-odds difference (larger of ΔTPR, ΔFPR)"
    case .deltaAccuracy: return "ΔAccuracy (max − min subgroup accuracy)"
    case .deltaAUC: return "ΔAUC (max − min subgroup AUC)"
    case .worstGroupAUC: return "Worst-group AUC (lowest subgroup AUC)"
    case .esAUC: return "Equity-scaled AUC (AUC / (1 + Σ|AUC_g − AUC|))"
    case .esACC: return "Equity-scaled accuracy (accuracy / (1 + Σ|acc_g − acc|))"
    case .maxTPRDiffToOverall: return "Largest |TPR_g − overall TPR|"
    case .maxFPRDiffToOverall: return "Largest |FPR_g − overall FPR|"
    case .maxSelectionDiffToOverall: return "Largest |selection rate_g − overall|"
    case .maxAUCDiffToOverall: return "Largest |AUC_g − overall AUC|"
    }
  }
}

extension MetricKey {
  /// What the metric measures, in a sentence (the report's definitions).
  var definition: String {
    switch self {
    case .prevalence: return "share of rows with label 1"
    case .tpr: return "share of positives predicted positive (sensitivity, recall)"
    case .fnr: return "share of positives predicted negative (missed disease), 1 − TPR"
    case .fpr: return "share of negatives predicted positive (false alarms), 1 − specificity"
    case .tnr: return "share of negatives predicted negative (specificity)"
    case .ppv: return "share of predicted positives that are positive (precision)"
    case .npv: return "share of predicted negatives that are negative"
    case .accuracy: return "share of rows predicted correctly"
    case .balancedAccuracy: return "mean of TPR and TNR"
    case .selectionRate: return "share of rows predicted positive"
    case .auc: return "area under the ROC curve: the chance a random positive scores above a random negative (ties ½)"
    case .brier: return "mean squared difference between score and label (lower is better)"
    case .ece: return "expected calibration error: row-weighted mean |observed rate − mean score| over equal-width bins"
    }
  }
}
