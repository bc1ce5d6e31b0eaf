import Foundation
import Fairness

/// The reporting checklist at the end of audit.html and audit.md: each TRIPOD+AI item about
/// subgroups and fairness, STANDING Together's items on the groups, and the model-card sections
/// (Mitchell et al. 2019), mapped to the section of this report that answers it, or to what would
/// answer it where this report cannot. ``items`` is the one list; an answer is linked only when
/// its section is in the rendered report (and, where it needs them, when the audit has intervals).
public enum ReportingChecklist {
  public enum Source: String, Sendable, CaseIterable {
    case tripodAI = "TRIPOD+AI"
    case standingTogether = "STANDING Together"
    case modelCard = "Model card"
  }

  /// A section of the report that answers (part of) an item: its anchor and what it shows there.
  public struct Answer: Sendable, Equatable {
    public var section: String
    public var shows: String
    /// Answers only when the audit computed bootstrap intervals.
    public var needsIntervals: Bool
    init(_ section: String, _ shows: String, needsIntervals: Bool = false) {
      self.section = section; self.shows = shows; self.needsIntervals = needsIntervals
    }
  }

  public struct Item: Sendable, Equatable {
    public var source: Source
    public var item: String
    /// Sections that answer it, each linked when present.
    public var answers: [Answer]
    /// The part no audit can answer, and what does: always said.
    public var rest: String?
    /// What would answer it when none of `answers` is in the report.
    public var ifAbsent: String?
    init(source: Source, item: String, answers: [Answer], rest: String? = nil, ifAbsent: String? = nil) {
      self.source = source; self.item = item; self.answers = answers; self.rest = rest; self.ifAbsent = ifAbsent
    }
  }

  /// Every item, in the order the checklist prints them.
  public static let items: [Item] = [
    Item(
      source: .tripodAI, item: "Sample size per subgroup (participants and outcome events)",
      answers: [Answer("groups", "n, n_pos and n_neg of every intersectional group, flagged groups included")]),
    Item(
      source: .tripodAI, item: "Performance (discrimination) by subgroup with uncertainty",
      answers: [
        Answer("groups", "every group's TPR, FPR, AUC, … with its bootstrap interval", needsIntervals: true),
        Answer("significance", "DeLong 95% intervals of each group's AUC"),
        Answer("figures", "forest plot of per-group AUC/TPR/FPR with intervals", needsIntervals: true),
      ]),
    Item(
      source: .tripodAI, item: "Calibration by subgroup",
      answers: [
        Answer("calibration", "slope, intercept, calibration-in-the-large with intervals, Brier, ECE per group")
      ],
      ifAbsent: "calibration per subgroup: fairmed audit computes it by default"),
    Item(
      source: .tripodAI, item: "Classification thresholds: how chosen, and performance across thresholds",
      answers: [
        Answer("settings", "the threshold, its rule and the file it was chosen on"),
        Answer("thresholds", "ΔTPR, worst-group and overall TPR and net benefit against the threshold"),
      ]),
    Item(
      source: .tripodAI, item: "Fairness: the measures used and the differences between groups",
      answers: [
        Answer("summary", "every gap with the groups that define it"),
        Answer("definitions", "the definition of each measure"),
      ]),
    Item(
      source: .tripodAI, item: "Fairness: which differences are beyond chance, corrected for multiplicity",
      answers: [Answer("significance", "DeLong and TPR tests against a reference group, Holm-adjusted")],
      ifAbsent: "tests of group differences: fairmed audit computes them by default"),
    Item(
      source: .tripodAI, item: "Missing data and exclusions",
      answers: [Answer("settings", "rows in the file, audited and dropped; small groups left out of gaps")],
      rest:
        "participants excluded or missing demographics before prediction: the training data card in the model card `best/README.md` written by fairmed train, and the data set's documentation"
    ),
    Item(
      source: .tripodAI, item: "Methods used to address fairness during development",
      answers: [],
      rest: "the method and every hyperparameter: the model card `best/README.md` written by fairmed train"),
    Item(
      source: .tripodAI, item: "Software, version and reproducibility",
      answers: [Answer("provenance", "FairMed's version and commit, the command, the input's SHA-256")]),
    Item(
      source: .standingTogether, item: "Groups pre-specified before the results were seen",
      answers: [Answer("settings", "the attributes audited and their intersections")],
      rest:
        "that they were fixed in advance: the study protocol or the study configuration recorded before training; an audit cannot attest it"
    ),
    Item(
      source: .standingTogether, item: "Each attribute alone as well as intersections",
      answers: [Answer("attributes", "each attribute's own groups and gaps")],
      ifAbsent: "single-attribute views: fairmed audit with two or more group attributes"),
    Item(
      source: .standingTogether, item: "Small groups reported, not dropped",
      answers: [Answer("groups", "flagged groups keep their rows; the Flags column says why")]),
    Item(
      source: .standingTogether, item: "How the attributes were collected (self-reported, recorded, inferred)",
      answers: [],
      rest: "the data set's documentation and the training data card in the model card `best/README.md`"),
    Item(
      source: .modelCard, item: "Model details",
      answers: [],
      rest: "the model card `best/README.md` written by fairmed train (method, options, FairMed's version)"),
    Item(
      source: .modelCard, item: "Intended use",
      answers: [], rest: "the model card `best/README.md` written by fairmed train"),
    Item(
      source: .modelCard, item: "Factors (the groups evaluated)",
      answers: [Answer("settings", "the attributes and the number of intersectional groups")]),
    Item(
      source: .modelCard, item: "Metrics",
      answers: [Answer("definitions", "every metric and gap, and the threshold they are taken at")]),
    Item(
      source: .modelCard, item: "Evaluation data",
      answers: [Answer("provenance", "the predictions file, its SHA-256 and row count")],
      rest: "where the images came from: the data set's documentation"),
    Item(
      source: .modelCard, item: "Training data",
      answers: [], rest: "the training data card (groups × labels) in the model card `best/README.md`"),
    Item(
      source: .modelCard, item: "Quantitative analyses, disaggregated, with intervals",
      answers: [
        Answer("groups", "every group's metrics with bootstrap intervals", needsIntervals: true),
        Answer("figures", "forest plot with intervals", needsIntervals: true),
      ],
      ifAbsent:
        "intervals: fairmed audit without --bootstrap 0 (\(BootstrapOptions().replicates) replicates are the default)"),
    Item(
      source: .modelCard, item: "Ethical considerations",
      answers: [], rest: "the model card `best/README.md` and the study team; not computed by an audit"),
    Item(
      source: .modelCard, item: "Caveats and recommendations",
      answers: [Answer("warnings", "this audit's own warnings")],
      rest: "the model's limitations: the model card `best/README.md` written by fairmed train"),
  ]

  /// One item as rendered for a given report: the answers present in it, and what is said about the rest.
  public struct Row: Sendable, Equatable {
    public var item: Item
    public var linked: [Answer]
    /// "not answered here: …" text, when some of the item is answered elsewhere.
    public var notHere: String?
  }

  /// The checklist for a report with these section anchors (and bootstrap intervals or not).
  public static func rows(sections: Set<String>, intervals: Bool) -> [Row] {
    items.map { item in
      let linked = item.answers.filter { sections.contains($0.section) && (intervals || !$0.needsIntervals) }
      let said = linked.isEmpty ? [item.ifAbsent, item.rest].compactMap { $0 } : [item.rest].compactMap { $0 }
      return Row(item: item, linked: linked, notHere: said.isEmpty ? nil : said.joined(separator: "; "))
    }
  }

  /// The rows for an audit whose HTML has these section ids.
  static func rows(_ r: AuditResult, sections: [String]) -> [Row] {
    rows(
      sections: Set(sections + (r.provenance == nil ? [] : ["provenance"])), intervals: r.configuration.bootstrap != nil
    )
  }

  /// The HTML table: items, linked sections and what is not answered here.
  static func html(_ rows: [Row], titles: [String: String]) -> String {
    let e = SVGChart.escape
    var s =
      "<p class=\"note\">Each reporting item about subgroups and fairness (TRIPOD+AI 2024, STANDING Together 2024, model cards) and where this report answers it. A link goes to the section that shows it; “not answered here” says what would.</p>"
    s +=
      "<table class=\"checklist\"><thead><tr><th>Guideline</th><th>Item</th><th>Answered in this report</th></tr></thead><tbody>"
    for row in rows {
      var cell = row.linked.map { a in
        "<a href=\"#\(e(a.section))\">\(e(titles[a.section] ?? a.section))</a>: \(e(a.shows))"
      }
      if let n = row.notHere { cell.append("<span class=\"not-here\">not answered here: \(code(e(n)))</span>") }
      s +=
        "<tr><td>\(e(row.item.source.rawValue))</td><td>\(e(row.item.item))</td><td>\(cell.joined(separator: "<br>"))</td></tr>"
    }
    return s + "</tbody></table>"
  }

  /// Escaped text with its `code` spans as `<code>`.
  static func code(_ escaped: String) -> String {
    escaped.replacingOccurrences(of: "`([^`]+)`", with: "<code>$1</code>", options: .regularExpression)
  }

  /// The Markdown table of audit.md: answers point into audit.html, which is written beside it.
  static func markdown(_ rows: [Row], titles: [String: String]) -> String {
    func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
    var s = "\n## Reporting checklist\n\n"
    s += "Where audit.html answers each reporting item about subgroups and fairness, or what would.\n\n"
    s += "| Guideline | Item | Answered in this report |\n|---|---|---|\n"
    for row in rows {
      var parts = row.linked.map { "[\(titles[$0.section] ?? $0.section)](audit.html#\($0.section)): \($0.shows)" }
      if let n = row.notHere { parts.append("not answered here: \(n)") }
      s += "| \(row.item.source.rawValue) | \(cell(row.item.item)) | \(cell(parts.joined(separator: "; "))) |\n"
    }
    return s
  }
}
