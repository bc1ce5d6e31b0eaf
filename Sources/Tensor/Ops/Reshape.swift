import Support
/// Shape ops: views (reshape), copies (permute, concat, narrow) and index-based gathers.
extension Tensor {
  /// The same storage read with another shape (one extent may be −1).
  public func reshaped(_ newShape: [Int]) throws -> Tensor {
    var s = newShape
    if let i = s.firstIndex(of: -1) {
      let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
      guard known > 0, count % known == 0 else {
        throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape)
      }
      s[i] = count / known
    }
    guard Shape.count(s) == count, s.allSatisfy({ $0 >= 0 }) else {
      throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape)
    }
    let out = Tensor(shape: s, storage: storage, offset: offset)
    let inputShape = shape
    return Tensor.record(out, op: "reshape", inputs: [self]) { g in [try g.reshaped(inputShape)] }
  }

  /// Axes reordered so that output axis i is input axis `axes[i]` (a copy).
  public func permuted(_ axes: [Int]) throws -> Tensor {
    let ax = try axes.map { try axis($0, op: "permute") }
    guard ax.count == rank, Set(ax).count == rank else {
      throw TensorError.invalidArgument("permute: \(axes) is not a permutation of the \(rank) axes of \(shape)")
    }
    let out = Tensor(uninitialized: ax.map { shape[$0] })
    let inStrides = Shape.strides(shape)
    let readStrides = ax.map { inStrides[$0] }
    let px = pointer, po = out.pointer
    if let last = ax.last, last == rank - 1, rank >= 2 {
      // Innermost axis unchanged: copy contiguous rows.
      let inner = shape[rank - 1]
      let rowShape = Array(out.shape.dropLast())
      let rowStrides = Array(readStrides.dropLast())
      Tensor.stridedForEach(shape: rowShape, rowStrides, rowStrides) { i, src, _ in
        (po + i * inner).update(from: px + src, count: inner)
      }
    } else {
      Tensor.stridedForEach(shape: out.shape, readStrides, readStrides) { i, src, _ in po[i] = px[src] }
    }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, a) in ax.enumerated() { inverse[a] = i }
    return Tensor.record(out, op: "permute", inputs: [self]) { g in [try g.permuted(inverse)] }
  }

  /// Swaps two axes (a copy; matmul takes transposes as flags instead).
  public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
    var p = Array(0..<rank)
    p.swapAt(try axis(a, op: "transpose"), try axis(b, op: "transpose"))
    return try permuted(p)
  }

  /// `length` entries starting at `start` along `axis` (a view when `axis` is the first axis).
  public func narrow(axis a: Int, start: Int, length: Int) throws -> Tensor {
    let ax = try axis(a, op: "narrow")
    guard start >= 0, length >= 0, start + length <= shape[ax] else {
      throw TensorError.invalidArgument(
        "narrow: range \(start)..<\(start + length) is outside axis \(a) of shape \(shape)")
    }
    let (outer, n, inner) = around(ax)
    var outShape = shape
    outShape[ax] = length
    let out: Tensor
    if outer == 1 {
      out = Tensor(shape: outShape, storage: storage, offset: offset + start * inner)
    } else {
      out = Tensor(uninitialized: outShape)
      for o in 0..<outer {
        (out.pointer + o * length * inner).update(from: pointer + (o * n + start) * inner, count: length * inner)
      }
    }
    let inputShape = shape
    return Tensor.record(out, op: "narrow", inputs: [self]) { g in
      let gx = Tensor.zeros(inputShape)
      for o in 0..<outer {
        (gx.pointer + (o * n + start) * inner).update(from: g.pointer + o * length * inner, count: length * inner)
      }
      return [gx]
    }
  }

  /// Entries `indices` along `axis`, in that order (repeats allowed).
  public func indexSelect(axis a: Int, indices: [Int]) throws -> Tensor {
    let ax = try axis(a, op: "indexSelect")
    let (outer, n, inner) = around(ax)
    if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
      throw TensorError.invalidArgument("indexSelect: index \(bad) is out of range for axis \(a) of shape \(shape)")
    }
    var outShape = shape
    outShape[ax] = indices.count
    let out = Tensor(uninitialized: outShape)
    let m = indices.count
    let px = SharedReads(pointer), po = DisjointWrites(out.pointer)
    Parallel.forRange(outer * m, grain: Swift.max(1, Parallel.grain / Swift.max(inner, 1))) { r in
      for k in r {
        let o = k / m, j = k % m
        (po + k * inner).update(from: px + (o * n + indices[j]) * inner, count: inner)
      }
    }
    let inputShape = shape
    return Tensor.record(out, op: "indexSelect", inputs: [self]) { g in
      let gx = Tensor.zeros(inputShape)
      let pg = g.pointer, pgx = gx.pointer
      for o in 0..<outer {
        for (j, idx) in indices.enumerated() {
          let dst = pgx + (o * n + idx) * inner, src = pg + (o * m + j) * inner
          for i in 0..<inner { dst[i] += src[i] }
        }
      }
      return [gx]
    }
  }

  /// Along `axis`, picks `indices[k]` for every other position k (like `torch.gather` with one
  /// index per row): input [.., n, ..] → output with that axis removed.
  public func gather(axis a: Int, indices: [Int]) throws -> Tensor {
    let ax = try axis(a, op: "gather")
    let (outer, n, inner) = around(ax)
    guard indices.count == outer * inner else {
      throw TensorError.invalidArgument(
        "gather: \(indices.count) indices for \(outer * inner) positions of shape \(shape) along axis \(a)")
    }
    if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
      throw TensorError.invalidArgument("gather: index \(bad) is out of range for axis \(a) of shape \(shape)")
    }
    var outShape = shape
    outShape.remove(at: ax)
    let out = Tensor(uninitialized: outShape)
    for o in 0..<outer {
      for i in 0..<inner { out.pointer[o * inner + i] = pointer[(o * n + indices[o * inner + i]) * inner + i] }
    }
    let inputShape = shape
    return Tensor.record(out, op: "gather", inputs: [self]) { g in
      let gx = Tensor.zeros(inputShape)
      for o in 0..<outer {
        for i in 0..<inner { gx.pointer[(o * n + indices[o * inner + i]) * inner + i] += g.pointer[o * inner + i] }
      }
      return [gx]
    }
  }

  /// `value` where `mask` is true, else self. `mask` has one entry per element (row-major).
  public func maskedFill(_ mask: [Bool], value: Float) throws -> Tensor {
    guard mask.count == count else {
      throw TensorError.invalidArgument("maskedFill: mask has \(mask.count) entries for shape \(shape)")
    }
    let out = copy()
    for i in 0..<count where mask[i] { out.pointer[i] = value }
    return Tensor.record(out, op: "maskedFill", inputs: [self]) { g in
      let gx = g.copy()
      for i in 0..<mask.count where mask[i] { gx.pointer[i] = 0 }
      return [gx]
    }
  }

  /// Element-wise choice: `a` where `condition`, else `b` (same shapes).
  public static func `where`(_ condition: [Bool], _ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard a.shape == b.shape else { throw TensorError.shapeMismatch(op: "where", lhs: a.shape, rhs: b.shape) }
    guard condition.count == a.count else {
      throw TensorError.invalidArgument("where: condition has \(condition.count) entries for shape \(a.shape)")
    }
    let out = Tensor(uninitialized: a.shape)
    for i in 0..<a.count { out.pointer[i] = condition[i] ? a.pointer[i] : b.pointer[i] }
    return record(out, op: "where", inputs: [a, b]) { g in
      let ga = Tensor.zeros(a.shape), gb = Tensor.zeros(b.shape)
      for i in 0..<condition.count {
        if condition[i] { ga.pointer[i] = g.pointer[i] } else { gb.pointer[i] = g.pointer[i] }
      }
      return [ga, gb]
    }
  }
}

/// Joins tensors along `axis`; all other extents must agree.
public func concat(_ tensors: [Tensor], axis a: Int) throws -> Tensor {
  guard let first = tensors.first else { throw TensorError.invalidArgument("concat: no tensors") }
  let ax = try first.axis(a, op: "concat")
  for t in tensors.dropFirst() {
    guard t.rank == first.rank,
      t.shape.enumerated().allSatisfy({ $0.offset == ax || $0.element == first.shape[$0.offset] })
    else { throw TensorError.shapeMismatch(op: "concat", lhs: first.shape, rhs: t.shape) }
  }
  var outShape = first.shape
  outShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
  let out = Tensor(uninitialized: outShape)
  let (outer, total, inner) = out.around(ax)
  var start = 0
  var starts: [Int] = []
  for t in tensors {
    let n = t.shape[ax]
    starts.append(start)
    for o in 0..<outer {
      (out.pointer + (o * total + start) * inner).update(from: t.pointer + o * n * inner, count: n * inner)
    }
    start += n
  }
  return Tensor.record(out, op: "concat", inputs: tensors) { g in
    try zip(tensors, starts).map { t, s in
      t.requiresGrad ? try g.detached().narrow(axis: ax, start: s, length: t.shape[ax]).copy() : nil
    }
  }
}

/// Rows of `weight` ([V, D]) for each id; the result has shape `shape + [D]`.
public func embedding(_ weight: Tensor, ids: [Int], shape: [Int]) throws -> Tensor {
  guard weight.rank == 2 else {
    throw TensorError.invalidArgument("embedding: weight must be [vocab, dim], got \(weight.shape)")
  }
  guard Shape.count(shape) == ids.count else {
    throw TensorError.invalidArgument("embedding: \(ids.count) ids do not fill shape \(shape)")
  }
  return try weight.indexSelect(axis: 0, indices: ids).reshaped(shape + [weight.shape[1]])
}
