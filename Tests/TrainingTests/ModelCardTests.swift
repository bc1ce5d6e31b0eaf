import Foundation
import Support
import TestSupport
import Testing
@testable import Training

/// The model card of every trained model (`best/README.md`).
@Suite struct ModelCardTests {
  /// A fixed card: seeded validation predictions of two subgroups, one of them with few positives.
  static func card(selection: LambdaSelection.Outcome? = nil) -> ModelCard {
    var rng = SplitMix64(seed: 11)
    var labels: [Int] = [], scores: [Double] = [], groups: [String] = []
    for (group, n, positives, signal) in [("female|<40", 60, 8, 0.5), ("male|40-59", 200, 60, 2.0)] {
      for i in 0..<n {
        let y = i < positives ? 1 : 0
        let z = (y == 1 ? signal : 0) + Double.random(in: -1...1, using: &rng)
        labels.append(y); scores.append(1 / (1 + exp(-z))); groups.append(group)
      }
    }
    var config = RunConfig(data: "ham10000:/data/HAM10000")
    config.fromScratch = .tiny
    config.lambda = 0.5
    var card = ModelCard(
      config: config, trainingCounts: ["female|<40": [0: 300, 1: 40], "male|40-59": [0: 900, 1: 300]],
      classNames: ["0", "1"], prompts: ["benign", "malignant"],
      validation: ValidationPredictions(epoch: 3, labels: labels, scores: scores, groups: groups, threshold: 0.55),
      threshold: DecisionThreshold(policy: .youden, value: 0.55, validationRows: labels.count, youdenJ: 0.4),
      selection: selection)
    card.version = "0.9.0 (commit 0123456789ab)"  // fixed: the snapshot must not change with every commit
    return card
  }

  /// The card equals the committed snapshot, which `Scripts/fixtures/check_model_card.py` loaded
  /// with `huggingface_hub.ModelCard` (2.4.0): what it read is committed beside it and checked here
  /// against the card's own front matter.
  @Test func theCardIsTheSnapshotHuggingFaceHubLoaded() throws {
    let text = try Self.card().markdown()
    let snapshot = fixturePath("model_card/README.md")
    guard let committed = try? String(contentsOfFile: snapshot, encoding: .utf8) else {
      try text.write(toFile: "/tmp/fairmed-model-card-README.md", atomically: true, encoding: .utf8)
      Issue.record("no snapshot at \(snapshot): the card was written to /tmp/fairmed-model-card-README.md")
      return
    }
    #expect(text == committed, "the card changed: regenerate the snapshot and run Scripts/fixtures/check_model_card.py")
    let hf = try jsonObject(atPath: fixturePath("model_card/huggingface_hub.json"))
    #expect(hf["library_name"] as? String == "transformers")
    #expect(hf["tags"] as? [String] == ["fairmed", "clip", "medical-imaging", "fairness", "cmac-mmd"])
    let results = try #require(hf["eval_results"] as? [[String: Any]])
    #expect(results.map { $0["metric_type"] as? String } == ["roc_auc", "recall", "worst_group_tpr", "delta_tpr"])
    for r in results {
      let value = try #require(r["metric_value"] as? Double)
      #expect(text.contains("value: \(String(format: "%.4f", value))"))
      #expect(r["dataset_split"] as? String == "validation")
    }
  }

  /// The card names the library that loads its folder, told by the folder's files: a PEFT adapter
  /// (with its base model), an open_clip folder, a transformers folder; a merged LoRA model's
  /// `adapter/` gets its own PEFT card.
  @Test func theCardNamesTheLibraryOfItsFolder() throws {
    let root = NSTemporaryDirectory() + "fairmed-card-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let fm = FileManager.default
    func folder(_ name: String, files: [String: String]) throws -> String {
      let dir = root + "/" + name
      for (path, text) in files {
        let full = dir + "/" + path
        try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
      }
      try Self.card().write(toDirectory: dir)
      return dir
    }
    func frontMatter(_ dir: String) throws -> String {
      let text = try String(contentsOfFile: dir + "/README.md", encoding: .utf8)
      return String(text.split(separator: "---", maxSplits: 2)[0])
    }
    let hf = try folder("hf", files: ["config.json": "{}"])
    #expect(try frontMatter(hf).contains("library_name: transformers\n"))
    let oc = try folder("oc", files: ["open_clip_config.json": "{}"])
    #expect(try frontMatter(oc).contains("library_name: open_clip\n"))
    let adapter = try folder("lora", files: ["adapter_config.json": #"{"base_model_name_or_path": "../base"}"#])
    let adapterCard = try frontMatter(adapter)
    #expect(adapterCard.contains("library_name: peft\nbase_model: \"../base\"\n"))
    #expect(
      try String(contentsOfFile: adapter + "/README.md", encoding: .utf8).contains("`peft.PeftModel.from_pretrained"))
    let merged = try folder(
      "merged", files: ["config.json": "{}", "adapter/adapter_config.json": #"{"base_model_name_or_path": "b"}"#])
    #expect(try frontMatter(merged).contains("library_name: transformers\n"))
    #expect(try frontMatter(merged + "/adapter").contains("library_name: peft\nbase_model: \"b\"\n"))
    // A written card carries its provenance: the date, the command and the weights' SHA-256.
    let weighed = try folder("weights", files: ["config.json": "{}", "model.safetensors": "abc"])
    let card = try String(contentsOfFile: weighed + "/README.md", encoding: .utf8)
    #expect(card.contains("## Provenance") && card.contains("(UTC) by `"))
    #expect(card.contains("- `model.safetensors` SHA-256 `\(SHA256.hex(Data("abc".utf8)))`"), "\(card)")
    #expect(!(try Self.card().markdown()).contains("## Provenance"))  // in memory: nothing to hash
  }

  @Test func theCardSaysWhatAReviewerNeeds() throws {
    let text = try Self.card().markdown()
    for section in [
      "## Intended use", "**Not for clinical use**", "## Training data", "| female\\|<40 | 300 | 40 | 340 |",
      "## Method and options", "| lambda | 0.5 |", "| augment | true |", "| model | – |", "## Decision threshold",
      "P(class 1) ≥ 0.55, chosen by Youden's J on the 260 validation predictions",
      "## Validation results at that threshold", "| female\\|<40 | 60 | 8 | 52 |", "- ΔTPR (max − min subgroup TPR): ",
      "## Limitations", "fewer than 10 validation positives (`female|<40`)", "FairMed 0.9.0 (commit 0123456789ab)",
    ] {
      #expect(text.contains(section), "missing: \(section)")
    }
    // Intervals at the threshold: the overall TPR with its bootstrap interval.
    #expect(
      text.range(
        of: #"\| \*\*overall\*\* \| 260 \| 68 \| 192 \| 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\]"#, options: .regularExpression)
        != nil)
  }

  @Test func aLambdaPathCardCarriesTheSelection() throws {
    let outcome = try LambdaSelection.select(
      [(0, validation(hits: [18, 6])), (1, validation(hits: [18, 16], shift: 5))], delta: 0.01, minPositives: 5,
      seed: 1)
    let text = try Self.card(selection: outcome).markdown()
    #expect(text.contains("## Strength chosen on validation"))
    #expect(text.contains(outcome.reason))
    #expect(text.contains("(λ 1 chosen on validation)"))
    // λ 0 kept: the card says the method's term is off, not that the method chose a strength.
    let fellBack = try LambdaSelection.select(
      [(0, validation(hits: [18, 6])), (1, validation(hits: [18, 6], shift: 5))], delta: 0.01, minPositives: 5,
      seed: 1)
    #expect(fellBack.fellBack)
    let kept = try Self.card(selection: fellBack).markdown()
    #expect(kept.contains("with its term off (λ 0 kept on validation: ERM on the same batches)"))
    #expect(!kept.contains("chosen on validation)"))
  }
}
