import Support
/// Reductions along axes: sum, mean, variance, max/min (with their indices) and argmax.
extension Tensor {
  /// (outer, n, inner) extents when viewing the tensor around `axis`.
  func around(_ axis: Int) -> (Int, Int, Int) {
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    return (outer, shape[axis], inner)
  }

  /// Sum over one axis, keeping it with extent 1.
  func sumKeeping(axis: Int) -> Tensor {
    let (outer, n, inner) = around(axis)
    var outShape = shape
    outShape[axis] = 1
    let out = Tensor.zeros(outShape)
    let px = SharedReads(pointer), po = DisjointWrites(out.pointer)
    Parallel.forRange(outer, grain: Swift.max(1, Parallel.grain / Swift.max(1, n * inner))) { rows in
      for o in rows {
        let dst = po + o * inner
        for j in 0..<n {
          let src = px + (o * n + j) * inner
          for i in 0..<inner { dst[i] += src[i] }
        }
      }
    }
    return out
  }

  /// Normalised axis list (all axes when nil), sorted and unique.
  func resolveAxes(_ axes: [Int]?, op: String) throws -> [Int] {
    guard let axes else { return Array(0..<rank) }
    return Array(Set(try axes.map { try axis($0, op: op) })).sorted()
  }

  /// Shape after reducing `axes`, with or without the reduced axes kept as 1.
  func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
    var s: [Int] = []
    for (i, d) in shape.enumerated() {
      if axes.contains(i) { if keepDims { s.append(1) } } else { s.append(d) }
    }
    return s
  }

  /// Sum over `axes` (all when nil).
  public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
    let ax = try resolveAxes(axes, op: "sum")
    var out: Tensor
    if ax.count == rank && rank > 0 {
      var acc = 0.0
      let p = pointer
      for i in 0..<count { acc += Double(p[i]) }
      out = Tensor.full(Float(acc), reducedShape(ax, keepDims: keepDims))
    } else {
      out = self.detached()
      for a in ax { out = out.sumKeeping(axis: a) }
      out = Tensor(shape: reducedShape(ax, keepDims: keepDims), storage: out.storage, offset: out.offset)
    }
    let inputShape = shape
    let keptShape = reducedShape(ax, keepDims: true)
    return Tensor.record(out, op: "sum", inputs: [self]) { g in
      let gk = Tensor(shape: keptShape, storage: g.storage, offset: g.offset)
      return [try Tensor.zeros(inputShape) + gk]
    }
  }

  /// Mean over `axes` (all when nil).
  public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
    let ax = try resolveAxes(axes, op: "mean")
    let n = ax.reduce(1) { $0 * shape[$1] }
    return try sum(axes: ax, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
  }

  /// Variance over `axes` with Bessel's `correction` (1 = unbiased, as `torch.var`).
  public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) throws -> Tensor {
    let ax = try resolveAxes(axes, op: "variance")
    let n = ax.reduce(1) { $0 * shape[$1] }
    let centered = try self - mean(axes: ax, keepDims: true)
    return try (centered * centered).sum(axes: ax, keepDims: keepDims) * (1 / Float(Swift.max(n - correction, 1)))
  }

  /// Values and indices of the extreme element along `axis`.
  func extreme(axis a: Int, keepDims: Bool, isMax: Bool, op: String) throws -> (Tensor, [Int]) {
    let ax = try axis(a, op: op)
    let (outer, n, inner) = around(ax)
    guard n > 0 else { throw TensorError.invalidArgument("\(op): axis \(a) of shape \(shape) is empty") }
    var keptShape = shape
    keptShape[ax] = 1
    let out = Tensor(uninitialized: keptShape)
    var idx = [Int](repeating: 0, count: outer * inner)
    let px = pointer, po = out.pointer
    for o in 0..<outer {
      for i in 0..<inner {
        var best = px[o * n * inner + i], bi = 0
        for j in 1..<n {
          let v = px[(o * n + j) * inner + i]
          if (isMax ? v > best : v < best) || (v.isNaN && !best.isNaN) { best = v; bi = j }
        }
        po[o * inner + i] = best
        idx[o * inner + i] = bi
      }
    }
    let resultShape = keepDims ? keptShape : shape.enumerated().filter { $0.offset != ax }.map(\.element)
    let result = Tensor(shape: resultShape, storage: out.storage)
    let inputShape = shape
    let recorded = Tensor.record(result, op: op, inputs: [self]) { g in
      let gx = Tensor.zeros(inputShape)
      let pg = g.pointer, pgx = gx.pointer
      for o in 0..<outer {
        for i in 0..<inner { pgx[(o * n + idx[o * inner + i]) * inner + i] += pg[o * inner + i] }
      }
      return [gx]
    }
    return (recorded, idx)
  }

  /// Maximum along `axis` (the gradient goes to the first maximal element).
  public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
    try extreme(axis: axis, keepDims: keepDims, isMax: true, op: "max").0
  }

  /// Minimum along `axis`.
  public func min(axis: Int, keepDims: Bool = false) throws -> Tensor {
    try extreme(axis: axis, keepDims: keepDims, isMax: false, op: "min").0
  }

  /// Index of the first maximum along `axis`, flattened over the other axes in row-major order.
  public func argmax(axis: Int) throws -> [Int] {
    try withNoGrad { try extreme(axis: axis, keepDims: false, isMax: true, op: "argmax").1 }
  }
}
