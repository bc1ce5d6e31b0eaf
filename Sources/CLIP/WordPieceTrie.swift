/// A WordPiece vocabulary as two byte tries (word-initial pieces, and `##` continuations with the
/// `##` removed), so that greedy longest-match-first is one walk down the trie per piece instead
/// of a string built and hashed for every candidate length.
///
/// Matching is exact on UTF-8 bytes, which is exact on Unicode scalars, as `transformers`'
/// `BertTokenizer` and `tokenizers`' WordPiece compare (Swift's `String ==` would also match
/// canonically equivalent spellings). A terminal is only ever reached at the end of a vocabulary
/// entry, a whole UTF-8 string, so every match ends on a scalar boundary of the word.
struct WordPieceTrie: Sendable {
  /// Child of `node` under `byte`, keyed `node << 8 | byte`.
  private var children: [Int: Int32] = [:]
  /// The token id ending at each node, or -1.
  private var tokenAt: [Int32] = [-1, -1]
  /// The two roots.
  static let wordRoot = 0, continuationRoot = 1

  /// Builds the tries; the first occurrence of a duplicated entry keeps its id, as `ids` does.
  init(_ vocabulary: [String]) {
    for (id, token) in vocabulary.enumerated() {
      insert(Array(token.utf8)[...], id: id, root: Self.wordRoot)
      if token.utf8.starts(with: [0x23, 0x23]) {
        insert(Array(token.utf8).dropFirst(2), id: id, root: Self.continuationRoot)
      }
    }
  }

  private mutating func insert(_ bytes: ArraySlice<UInt8>, id: Int, root: Int) {
    guard !bytes.isEmpty else { return }
    var node = root
    for b in bytes {
      let key = node << 8 | Int(b)
      if let next = children[key] {
        node = Int(next)
      } else {
        tokenAt.append(-1)
        children[key] = Int32(tokenAt.count - 1)
        node = tokenAt.count - 1
      }
    }
    if tokenAt[node] < 0 { tokenAt[node] = Int32(id) }
  }

  /// Appends the pieces of one pre-tokenized, normalised word (`scalars` Unicode scalars long), or
  /// `unk` alone when the word is longer than `maxScalars` or any part of it matches no piece.
  func appendPieces(of word: UnsafeBufferPointer<UInt8>, scalars: Int, maxScalars: Int, unk: Int, to out: inout [Int]) {
    guard !word.isEmpty else { return }
    guard scalars <= maxScalars else { out.append(unk); return }
    let mark = out.count
    var start = 0
    while start < word.count {
      var node = start == 0 ? Self.wordRoot : Self.continuationRoot
      var best = -1, bestEnd = start
      var i = start
      while i < word.count, let next = children[node << 8 | Int(word[i])] {
        node = Int(next)
        i += 1
        if tokenAt[node] >= 0 {
          best = Int(tokenAt[node])
          bestEnd = i
        }
      }
      guard best >= 0 else {
        out.removeSubrange(mark...)
        out.append(unk)
        return
      }
      out.append(best)
      start = bestEnd
    }
  }
}
