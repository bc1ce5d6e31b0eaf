import ArgumentParser
import CLIP
import Foundation
import NN
import Tensor

/// `fairmed encode`: normalised CLIP features of images or texts, written as safetensors.
struct EncodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encode",
    abstract: "Write normalised CLIP image or text features (tensor `features`) to a safetensors file.")

  @Option(help: "Hugging Face CLIP folder (config.json, model.safetensors, vocab.json, merges.txt).") var model: String
  @Option(parsing: .upToNextOption, help: "Image files (binary PPM/PGM until the data module is merged).") var images: [String] = []
  @Option(help: "Manifest CSV whose `path` column lists images (relative to the CSV's folder).") var manifest: String?
  @Option(help: "Text file, one text per line; also writes `input_ids`.") var texts: String?
  @Option(help: "Images or texts per forward pass.") var batchSize: Int = 32
  @Option(help: "Output .safetensors file.") var out: String

  func validate() throws {
    let sources = [!images.isEmpty, manifest != nil, texts != nil].filter { $0 }.count
    guard sources == 1 else { throw ValidationError("give exactly one of --images, --manifest, --texts") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
  }

  func run() throws {
    let clip = try CLIPModel(directory: model)
    clip.setTraining(false)
    if let texts {
      guard let body = try? String(contentsOfFile: texts, encoding: .utf8) else {
        throw ValidationError("cannot read \(texts) as UTF-8")
      }
      let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        .filter { !$0.isEmpty }
      let tok = try CLIPTokenizer(modelDirectory: model, config: clip.config)
      let ids = tok(lines)
      let features = try encodeInBatches(ids.count) { try clip.textFeatures(Array(ids[$0])) }
      let idTensor = try Tensor(ids.flatMap { $0.map(Float.init) }, shape: [ids.count, tok.contextLength])
      try Safetensors.write([("features", features), ("input_ids", idTensor)], metadata: ["source": texts], to: out)
      print("encoded \(lines.count) texts → \(out) \(features.shape)")
    } else {
      let paths = try manifest.map { try ManifestPaths.read($0).paths } ?? images
      let size = clip.config.vision.imageSize
      let features = try encodeInBatches(paths.count) {
        try clip.imageFeatures(CLIPImageInput.batch(Array(paths[$0]), size: size))
      }
      try Safetensors.write([("features", features)], to: out)
      print("encoded \(paths.count) images → \(out) \(features.shape)")
    }
  }

  /// Runs `body` on consecutive index ranges without gradients and stacks the results.
  func encodeInBatches(_ n: Int, _ body: (Range<Int>) throws -> Tensor) throws -> Tensor {
    guard n > 0 else { throw ValidationError("nothing to encode") }
    return try withNoGrad {
      try concat(stride(from: 0, to: n, by: batchSize).map { try body($0..<min($0 + batchSize, n)) }, axis: 0)
    }
  }
}

/// The `path` (and optional `label`) columns of a manifest CSV, paths resolved against its folder.
enum ManifestPaths {
  static func read(_ csv: String) throws -> (paths: [String], labels: [Int?]) {
    guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
      throw ValidationError("cannot read manifest \(csv)")
    }
    let rows = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    guard let header = rows.first, let pathColumn = header.firstIndex(of: "path") else {
      throw ValidationError("manifest \(csv) has no `path` column")
    }
    let labelColumn = header.firstIndex(of: "label")
    let base = URL(fileURLWithPath: csv).deletingLastPathComponent()
    var paths: [String] = [], labels: [Int?] = []
    for (n, row) in rows.dropFirst().enumerated() where row.count > pathColumn {
      let p = row[pathColumn]
      paths.append(p.hasPrefix("/") ? p : base.appendingPathComponent(p).path)
      if let c = labelColumn, c < row.count, !row[c].isEmpty {
        guard let y = Int(row[c]) else { throw ValidationError("manifest \(csv) line \(n + 2): label \(row[c]) is not an integer") }
        labels.append(y)
      } else {
        labels.append(nil)
      }
    }
    return (paths, labels)
  }
}
