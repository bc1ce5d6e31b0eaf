import Support
/// Broadcasting element-wise arithmetic: `+ − × ÷` between tensors and with scalars.
enum BinaryKind {
  case add, sub, mul, div
}

extension Tensor {
  @inline(__always)
  static func apply(_ kind: BinaryKind, _ x: Float, _ y: Float) -> Float {
    switch kind {
    case .add: return x + y
    case .sub: return x - y
    case .mul: return x * y
    case .div: return x / y
    }
  }

  /// Forward of a broadcasting binary op, with fast paths for equal shapes, a scalar operand,
  /// and a trailing-suffix operand (bias rows).
  static func binaryForward(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor, op: String) throws -> Tensor {
    let shape = try Shape.broadcast(a.shape, b.shape, op: op)
    let out = Tensor(uninitialized: shape)
    let n = out.count
    let pa = a.pointer, pb = b.pointer, po = out.pointer
    let ra = SharedReads(pa), rb = SharedReads(pb), wo = DisjointWrites(po)  // disjoint output ranges per worker
    if a.shape == b.shape {
      Parallel.forRange(n) { r in
        let (pa, pb, po) = (ra.base, rb.base, wo.base)
        switch kind {
        case .add: for i in r { po[i] = pa[i] + pb[i] }
        case .sub: for i in r { po[i] = pa[i] - pb[i] }
        case .mul: for i in r { po[i] = pa[i] * pb[i] }
        case .div: for i in r { po[i] = pa[i] / pb[i] }
        }
      }
    } else if b.count == 1 && a.count == n {
      let s = pb[0]
      Parallel.forRange(n) { r in
        let (pa, po) = (ra.base, wo.base)
        switch kind {
        case .add: for i in r { po[i] = pa[i] + s }
        case .sub: for i in r { po[i] = pa[i] - s }
        case .mul: for i in r { po[i] = pa[i] * s }
        case .div: for i in r { po[i] = pa[i] / s }
        }
      }
    } else if a.count == 1 && b.count == n {
      let s = pa[0]
      Parallel.forRange(n) { r in for i in r { wo[i] = apply(kind, s, rb[i]) } }
    } else if a.count == n, isTrailingSuffix(b.shape, of: shape) {
      let inner = b.count
      Parallel.forRange(n / Swift.max(inner, 1), grain: Swift.max(1, Parallel.grain / Swift.max(inner, 1))) { rows in
        let (pa, pb, po) = (ra.base, rb.base, wo.base)
        for row in rows {
          let o = row * inner
          switch kind {
          case .add: for j in 0..<inner { po[o + j] = pa[o + j] + pb[j] }
          case .sub: for j in 0..<inner { po[o + j] = pa[o + j] - pb[j] }
          case .mul: for j in 0..<inner { po[o + j] = pa[o + j] * pb[j] }
          case .div: for j in 0..<inner { po[o + j] = pa[o + j] / pb[j] }
          }
        }
      }
    } else {
      let sa = Shape.broadcastStrides(a.shape, to: shape)
      let sb = Shape.broadcastStrides(b.shape, to: shape)
      stridedForEach(shape: shape, sa, sb) { i, ia, ib in po[i] = apply(kind, pa[ia], pb[ib]) }
    }
    return out
  }

  /// True when `small` (without leading 1s) equals the last axes of `shape`.
  static func isTrailingSuffix(_ small: [Int], of shape: [Int]) -> Bool {
    let s = Array(small.drop(while: { $0 == 1 }))
    return s.count <= shape.count && Array(shape.suffix(s.count)) == s
  }

  /// Visits every index of `shape` with the matching offsets in two strided operands.
  static func stridedForEach(
    shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void
  ) {
    let n = Shape.count(shape)
    if n == 0 { return }
    let r = shape.count
    var idx = [Int](repeating: 0, count: r)
    var ia = 0, ib = 0
    for i in 0..<n {
      body(i, ia, ib)
      var d = r - 1
      while d >= 0 {
        idx[d] += 1
        ia += sa[d]
        ib += sb[d]
        if idx[d] < shape[d] { break }
        ia -= sa[d] * shape[d]
        ib -= sb[d] * shape[d]
        idx[d] = 0
        d -= 1
      }
    }
  }

  /// Sums a broadcast gradient back to `shape` (the inverse of broadcasting).
  public func sumToShape(_ target: [Int]) throws -> Tensor {
    if shape == target { return self }
    guard (try? Shape.broadcast(target, shape, op: "sumToShape")) == shape else {
      throw TensorError.shapeMismatch(op: "sumToShape", lhs: shape, rhs: target)
    }
    let out = Tensor.zeros(target)
    let po = out.pointer, pg = pointer
    if Tensor.isTrailingSuffix(target, of: shape) {
      let inner = out.count
      let rows = count / Swift.max(inner, 1)
      for row in 0..<rows {
        let o = row * inner
        for j in 0..<inner { po[j] += pg[o + j] }
      }
    } else {
      let so = Shape.broadcastStrides(target, to: shape)
      let zero = [Int](repeating: 0, count: shape.count)
      Tensor.stridedForEach(shape: shape, so, zero) { i, io, _ in po[io] += pg[i] }
    }
    return out
  }

  static func binary(_ kind: BinaryKind, _ a: Tensor, _ b: Tensor, op: String) throws -> Tensor {
    let out = try binaryForward(kind, a, b, op: op)
    return record(out, op: op, inputs: [a, b]) { g in
      var ga: Tensor? = nil, gb: Tensor? = nil
      switch kind {
      case .add:
        if a.requiresGrad { ga = try g.sumToShape(a.shape) }
        if b.requiresGrad { gb = try g.sumToShape(b.shape) }
      case .sub:
        if a.requiresGrad { ga = try g.sumToShape(a.shape) }
        if b.requiresGrad { gb = try g.negated().sumToShape(b.shape) }
      case .mul:
        if a.requiresGrad { ga = try (g * b).sumToShape(a.shape) }
        if b.requiresGrad { gb = try (g * a).sumToShape(b.shape) }
      case .div:
        if a.requiresGrad { ga = try (g / b).sumToShape(a.shape) }
        if b.requiresGrad { gb = try (g * a / (b * b)).negated().sumToShape(b.shape) }
      }
      return [ga, gb]
    }
  }

  public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(.add, a, b, op: "add") }
  public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(.sub, a, b, op: "sub") }
  public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(.mul, a, b, op: "mul") }
  public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(.div, a, b, op: "div") }

  public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
  public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
  public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
  public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
  public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
  public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
  public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
  public static func / (s: Float, a: Tensor) -> Tensor { a.reciprocal() * s }
  public static prefix func - (a: Tensor) -> Tensor { a.negated() }

  /// `scale · x + shift` element-wise.
  public func affine(scale: Float, shift: Float) -> Tensor {
    let out = Tensor(uninitialized: shape)
    let px = SharedReads(pointer), po = DisjointWrites(out.pointer)
    Parallel.forRange(count) { r in for i in r { po[i] = px[i] * scale + shift } }
    return Tensor.record(out, op: "affine", inputs: [self]) { g in [g * scale] }
  }

  /// −x.
  public func negated() -> Tensor { affine(scale: -1, shift: 0) }
}
