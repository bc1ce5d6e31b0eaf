import Fairness
import Foundation
import NN
import Support

/// The model card written with every trained model (`best/README.md`): Hugging Face's layout —
/// YAML metadata (`library_name`, `tags`, `pipeline_tag`, a `model-index` of the validation
/// results) between `---` lines, then Markdown — so `huggingface_hub.ModelCard.load` reads it.
/// It says what a reviewer needs without the run folder: intended use, the training data by
/// subgroup × label, the method and every option (`run.json`), the decision threshold and how it
/// was chosen, validation results per subgroup with n, positives, negatives and 95 % bootstrap
/// intervals at that threshold, the λ selection when there was one, limitations, and FairMed's
/// version. Numbers come from validation only: test results belong to `fairmed audit`.
public struct ModelCard {
  public static let fileName = "README.md"
  /// Bootstrap replicates of the validation intervals.
  public static let replicates = 1000

  public var config: RunConfig
  /// Training samples per subgroup and label (`counts[group][label]`).
  public var trainingCounts: [String: [Int: Int]]
  public var classNames: [String]
  /// The class prompts the model decides between (class 0 first).
  public var prompts: [String]
  public var validation: ValidationPredictions
  public var threshold: DecisionThreshold
  public var selection: LambdaSelection.Outcome?
  /// FairMed's version and commit, as the card prints them.
  public var version = FairMedVersion.description
  /// The library that loads the folder the card describes (its `library_name`); ``write(toDirectory:)``
  /// reads it from the folder.
  public var library: Library = .transformers
  /// When and how the folder was made; ``write(toDirectory:)`` fills it in (nil: a card made in
  /// memory, which has no folder to hash).
  public var provenance: Provenance? = nil

  /// The card's provenance (docs/REPORTING.md item 10): date, command, and the SHA-256 of every
  /// weights file of the folder.
  public struct Provenance: Sendable, Equatable {
    /// ISO 8601, UTC, to the second.
    public var dateUTC: String
    /// `CommandLine.arguments` of the process that wrote the card.
    public var commandLine: [String]
    /// File name → SHA-256 of each `.safetensors` file of the folder, sorted by name.
    public var weights: [String: String]

    /// The provenance of the folder `dir` now.
    public static func of(folder dir: String, date: Date = Date()) throws -> Provenance {
      let f = ISO8601DateFormatter()
      f.timeZone = TimeZone(identifier: "UTC")
      f.formatOptions = [.withInternetDateTime]
      let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
        $0.hasSuffix(".safetensors")
      }
      var weights: [String: String] = [:]
      for file in files { weights[file] = try SHA256.hex(file: dir + "/" + file) }
      return Provenance(dateUTC: f.string(from: date), commandLine: CommandLine.arguments, weights: weights)
    }
  }

  /// What loads a folder `CLIPClassifier.save` wrote, told by its files: a PEFT adapter
  /// (`adapter_config.json`, over the base model it names), an open_clip folder
  /// (`open_clip_config.json`) or a transformers one.
  public enum Library: Equatable, Sendable {
    case transformers
    case openCLIP
    case peft(base: String?)

    /// Hugging Face's `library_name`.
    public var name: String {
      switch self {
      case .transformers: return "transformers"
      case .openCLIP: return "open_clip"
      case .peft: return "peft"
      }
    }

    public static func of(folder: String) -> Library {
      let fm = FileManager.default
      let adapterConfig = folder + "/" + PEFTAdapter.configFile
      if fm.fileExists(atPath: adapterConfig) {
        let object = (try? Data(contentsOf: URL(fileURLWithPath: adapterConfig))).flatMap {
          try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
        }
        let base = object?["base_model_name_or_path"] as? String
        return .peft(base: base?.isEmpty == false ? base : nil)
      }
      return fm.fileExists(atPath: folder + "/open_clip_config.json") ? .openCLIP : .transformers
    }
  }

  public init(
    config: RunConfig, trainingCounts: [String: [Int: Int]], classNames: [String], prompts: [String],
    validation: ValidationPredictions, threshold: DecisionThreshold, selection: LambdaSelection.Outcome? = nil
  ) {
    self.config = config; self.trainingCounts = trainingCounts; self.classNames = classNames; self.prompts = prompts
    self.validation = validation; self.threshold = threshold; self.selection = selection
  }

  /// Writes `dir/README.md` atomically, naming the library that loads `dir`; a merged LoRA model's
  /// `adapter/` folder gets its own card (library `peft`).
  public func write(toDirectory dir: String) throws {
    var card = self
    card.library = .of(folder: dir)
    card.provenance = try .of(folder: dir)
    try AtomicWrite.file(try card.markdown(), to: dir + "/" + Self.fileName)
    let adapter = dir + "/adapter"
    if FileManager.default.fileExists(atPath: adapter + "/" + PEFTAdapter.configFile) {
      card.library = .of(folder: adapter)
      card.provenance = try .of(folder: adapter)
      try AtomicWrite.file(try card.markdown(), to: adapter + "/" + Self.fileName)
    }
  }

  /// The validation audit at the saved threshold, with stratified bootstrap intervals (seeded by the run's seed).
  func validationAudit() throws -> GroupAudit {
    let spec = GroupingSpec(
      attributes: [AttributeSpec(column: PredictionsCSV.group)], missing: .drop, missingTokens: [])
    let grouping = try Grouping(
      spec: spec, columns: [CategoricalColumn(values: validation.groups)], file: ValidationPredictions.fileName)
    let input = AuditInput(
      labels: validation.labels.map { UInt8($0 == 1 ? 1 : 0) }, scores: validation.scores, margins: nil,
      grouping: grouping)
    var c = AuditConfiguration()
    c.threshold = .fixed(validation.threshold)
    c.singleAttributeViews = false
    c.bootstrap = BootstrapOptions(replicates: Self.replicates, seed: config.seed)
    return try Audit.run(input, configuration: c).intersectional
  }

  public func markdown() throws -> String {
    let audit = try validationAudit()
    let o = audit.overall
    let method =
      config.method.rawValue
      + (selection.map {
        $0.fellBack
          ? " with its term off (λ 0 kept on validation: ERM on the same batches)"
          : " (λ \(LambdaSelection.memberName($0.chosenLambda)) chosen on validation)"
      }
        ?? (config.method.takesLambda ? " (λ \(config.lambda.map { LambdaSelection.memberName($0) } ?? "–"))" : ""))
    let base =
      config.model.map { ($0 as NSString).lastPathComponent } ?? "from scratch (\(config.fromScratch?.rawValue ?? "–"))"
    func v(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "null" }
    var yaml = ["---", "library_name: \(library.name)"]
    if case .peft(let base?) = library { yaml.append("base_model: \(yamlString(base))") }
    yaml += [
      "pipeline_tag: zero-shot-image-classification",
      "tags:", "- fairmed", "- clip", "- medical-imaging", "- fairness", "- \(config.method.rawValue)",
      "model-index:", "- name: \(yamlString(base + " + " + config.method.rawValue))", "  results:",
      "  - task:", "      type: image-classification", "    dataset:",
      "      name: \(yamlString(config.data))",
      "      type: \(yamlString(config.data.split(separator: ":").first.map(String.init) ?? "data"))",
      "      split: validation", "    metrics:",
      "    - type: roc_auc", "      name: validation AUC", "      value: \(v(o[.auc]))",
      "    - type: recall", "      name: validation TPR at the saved threshold", "      value: \(v(o[.tpr]))",
    ]
    if let w = audit.aggregates[.worstGroupTPR]?.value {
      yaml += ["    - type: worst_group_tpr", "      name: validation worst-group TPR", "      value: \(v(w))"]
    }
    if let g = audit.aggregates[.deltaTPR]?.value {
      yaml += ["    - type: delta_tpr", "      name: validation ΔTPR (max − min subgroup TPR)", "      value: \(v(g))"]
    }
    yaml.append("---")

    var md = yaml.joined(separator: "\n") + "\n\n"
    md += "# \(base), fine-tuned with \(method)\n\n"
    md +=
      "Trained by FairMed \(version) on \(config.data). Demographic attributes were used for training only (the fairness method, the sampler and this card); the model never takes them as input.\n\n"
    md += "## Intended use\n\n"
    md +=
      "Research on intersectional fairness of medical image classification: a binary classifier over the class prompts \(classNames.indices.map { "\($0) = \"\(prompt($0))\"" }.joined(separator: ", ")), decided at the threshold below. **Not for clinical use**: it has not been validated prospectively, on other sites or devices, or by a regulator. Use on data like the training data only, and audit it on your own test data (`fairmed predict`, then `fairmed audit`) before drawing any conclusion.\n\n"
    md += "## Training data\n\n"
    let n = trainingCounts.values.flatMap(\.values).reduce(0, +)
    md +=
      "\(n) training images, \(config.val == nil ? "validation: a seeded grouped split (\(config.valFraction)) of the training data" : "validation: \(config.val!)"); subgroups (`\(config.groups)`) × label:\n\n"
    md += "| subgroup | " + classNames.indices.map { "label \($0)" }.joined(separator: " | ") + " | total |\n"
    md += "| --- | " + classNames.indices.map { _ in "---" }.joined(separator: " | ") + " | --- |\n"
    for g in trainingCounts.keys.sorted() {
      let row = trainingCounts[g]!
      md +=
        "| \(markdownCell(g)) | " + classNames.indices.map { String(row[$0] ?? 0) }.joined(separator: " | ")
        + " | \(row.values.reduce(0, +)) |\n"
    }
    md += "\n## Method and options\n\n"
    md +=
      "Method: **\(method)**. Every option of the run (`run.json`; `fairmed train --config` reproduces it with the same data and seed):\n\n"
    md += "| option | value |\n| --- | --- |\n"
    for (k, value) in try flatOptions() { md += "| \(k) | \(value) |\n" }
    if let s = selection {
      md += "\n## Strength chosen on validation\n\n" + s.markdown
    }
    md += "\n## Decision threshold\n\n"
    md +=
      threshold.policy == .argmax
      ? "0.5 (argmax over the class prompts): no threshold was chosen on validation.\n"
      : "P(class 1) ≥ \(String(format: "%.4g", threshold.value)), chosen by Youden's J on the \(threshold.validationRows) validation predictions (no demographics, no test data).\n"
    md += "\n## Validation results at that threshold\n\n"
    md +=
      "Epoch \(validation.epoch), \(validation.labels.count) validation rows; 95 % intervals from a stratified bootstrap (\(Self.replicates) replicates, resampling rows within each subgroup). A subgroup with fewer than \(AuditConfiguration().minGroupSize) rows is flagged and left out of the gaps\(AuditConfiguration().minCellCount.map { ", one with fewer than \($0) positives out of the TPR gaps and one with fewer than \($0) negatives out of the FPR gaps" } ?? ""); a TPR rests on the positives (n_pos) and an FPR on the negatives (n_neg) of its row.\n\n"
    md +=
      "| subgroup | n | n_pos | n_neg | AUC | TPR | FPR | flags |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for (g, name) in audit.groups.map({ ($0, markdownCell($0.name)) }) + [(audit.overall, "**overall**")] {
      md +=
        "| \(name) | \(g.n) | \(g.positives) | \(g.counts.negatives) | \(withInterval(g, .auc)) | \(withInterval(g, .tpr)) | \(withInterval(g, .fpr)) | \(g.flags.joined(separator: ", ")) |\n"
    }
    func agg(_ k: AggregateKey, _ label: String) -> String {
      guard let a = audit.aggregates[k], let value = a.value else { return "" }
      let iv = audit.aggregateIntervals[k].map { String(format: " [%.3f, %.3f]", $0.lower, $0.upper) } ?? ""
      return "- \(label): \(String(format: "%.3f", value))\(iv)\n"
    }
    md += "\n" + agg(.deltaTPR, "ΔTPR (max − min subgroup TPR)") + agg(.worstGroupTPR, "worst-group TPR")
    md += "\n## Limitations\n\n"
    md +=
      "- All numbers above are on **validation** data, the data the epoch\(selection == nil ? "" : ", λ") and threshold were chosen on: they are optimistic. Report test results from `fairmed audit` on held-out data.\n"
    let small = audit.groups.filter { $0.positives < 10 }.map(\.name)
    if !small.isEmpty {
      md +=
        "- Subgroups with fewer than 10 validation positives (\(small.map { "`\($0)`" }.joined(separator: ", "))): their TPR and intervals are unstable.\n"
    }
    md += "- Subgroups are those of `\(config.groups)`; other groups (skin tone, site, device) were not examined.\n"
    if config.fromScratch != nil {
      md +=
        "- Trained from scratch at \(config.imageSize ?? 64)×\(config.imageSize ?? 64) pixels: a research model, not a pretrained foundation model.\n"
    }
    if let p = provenance {
      md += "\n## Provenance\n\n"
      md += "- FairMed \(version), card written \(p.dateUTC) (UTC) by `\(p.commandLine.joined(separator: " "))`\n"
      md +=
        "- Data `\(config.data)`: \(n) training and \(validation.labels.count) validation rows (the data's files are named by the spec, not hashed); seed \(config.seed)\n"
      for (file, sha) in p.weights.sorted(by: { $0.key < $1.key }) { md += "- `\(file)` SHA-256 `\(sha)`\n" }
    }
    md += "\n## How to use\n\n"
    switch library {
    case .transformers:
      md += "A Hugging Face CLIP folder: `transformers.CLIPModel.from_pretrained(THIS_FOLDER)` loads it.\n"
    case .openCLIP:
      md += "An open_clip folder (`open_clip_config.json`, `open_clip_model.safetensors`), as open_clip saves one.\n"
    case .peft(let base):
      md +=
        "A PEFT LoRA adapter (`adapter_config.json`, `adapter_model.safetensors`) over \(base.map { "`\($0)`" } ?? "its base model"): `peft.PeftModel.from_pretrained(base, THIS_FOLDER)` loads it.\n"
    }
    md +=
      "\n```sh\nfairmed predict --model THIS_FOLDER --data KIND:PATH --out predictions.csv\nfairmed audit --predictions predictions.csv --groups '\(config.groups)' --threshold model:THIS_FOLDER --out audit\n```\n"
    return md
  }

  /// Class `k`'s prompt.
  func prompt(_ k: Int) -> String { prompts.indices.contains(k) ? prompts[k] : String(k) }

  func withInterval(_ g: GroupMetrics, _ k: MetricKey) -> String {
    guard let value = g[k] else { return "–" }
    guard let iv = g.intervals[k] else { return String(format: "%.3f", value) }
    return String(format: "%.3f [%.3f, %.3f]", value, iv.lower, iv.upper)
  }

  /// `run.json`'s options as (key, value) rows, nested keys dotted (`cmac.sigma`), unset ones "–".
  func flatOptions() throws -> [(String, String)] {
    let object = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(config))
    var out: [(String, String)] = []
    func text(_ v: JSONValue) -> String {
      switch v {
      case .null: return "–"
      case .bool(let b): return b ? "true" : "false"
      case .number(let x): return String(format: "%g", x)
      case .integer(let i): return String(i)
      case .string(let s): return s
      case .array(let a): return a.map(text).joined(separator: ", ")
      case .object: return ""
      }
    }
    func add(_ key: String, _ value: JSONValue) {
      if case .object(let fields) = value {
        for (k, v) in fields.sorted(by: { $0.0 < $1.0 }) { add(key + "." + k, v) }
      } else {
        out.append((key, text(value)))
      }
    }
    for k in object.keys.sorted() { add(k, object[k]!) }
    return out.map { (markdownCell($0.0), markdownCell($0.1)) }
  }

  /// A YAML double-quoted scalar.
  func yamlString(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}

/// A Markdown table cell: `|` escaped (subgroup names join attributes with it).
func markdownCell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
