import CLIP
import Foundation
import FuzzShared

/// Small fixed BPE and WordPiece tokenizers on any text, and any bytes as vocab.json + merges.txt
/// (split at the first NUL byte).
let fixed: CLIPTokenizer? = {
  var vocab: [String: Int] = [:]
  for (i, s) in ["a", "b", "c", "ab", "bc", "abc", "a</w>", "b</w>", "c</w>", "ab</w>", "é", "é</w>"].enumerated() {
    vocab[s] = i
  }
  vocab["<|startoftext|>"] = vocab.count
  vocab["<|endoftext|>"] = vocab.count
  return try? CLIPTokenizer(vocab: vocab, merges: [("a", "b"), ("ab", "c"), ("b", "c")])
}()

let wordPiece = try? WordPieceTokenizer(
  vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "é", "##a", "##b", "ab", "##ab", "中", ".", "!"],
  contextLength: 16)

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let buffer = UnsafeBufferPointer(start: data, count: size)
  let text = String(decoding: buffer, as: UTF8.self)
  if let fixed { _ = fixed.decode(fixed(text)) }
  if let wordPiece { _ = wordPiece.tokens(wordPiece.encode(text)); _ = wordPiece([text]) }
  let cut = buffer.firstIndex(of: 0) ?? size
  let raw = UnsafeRawBufferPointer(buffer)
  let vocab = Scratch.file(UnsafeRawBufferPointer(rebasing: raw[..<cut]), "vocab.json")
  let merges = Scratch.file(UnsafeRawBufferPointer(rebasing: raw[min(cut + 1, size)...]), "merges.txt")
  if let t = try? CLIPTokenizer(vocabJSON: vocab, merges: merges) { _ = t("a photo of a lesion") }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
