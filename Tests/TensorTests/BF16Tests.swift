import Foundation
import Testing

@testable import Tensor

/// `--precision bf16`: the refusal on machines without the instructions, and, where they exist,
/// every bf16 GEMM against an fp64 reference within the error bf16 rounding allows.
@Suite struct BF16Tests {
  /// The refusal names what is missing, and fp32 is never refused.
  @Test func bf16IsRefusedNamingWhatIsMissing() throws {
    let none = BF16Support.Features(avx512F: false, avx512BF16: false, amxBF16: false)
    let avx512Only = BF16Support.Features(avx512F: true, avx512BF16: false, amxBF16: false)
    let bf16 = BF16Support.Features(avx512F: true, avx512BF16: true, amxBF16: false)
    let amx = BF16Support.Features(avx512F: true, avx512BF16: false, amxBF16: true)
    for f in [none, avx512Only, bf16, amx] {
      #expect(Precision.problem(.fp32, features: f, oneDNN: false) == nil)
    }
    #expect(Precision.problem(.bf16, features: bf16, oneDNN: true) == nil)
    #expect(Precision.problem(.bf16, features: amx, oneDNN: true) == nil)
    let noInstructions = try #require(Precision.problem(.bf16, features: none, oneDNN: true))
    #expect(noInstructions.contains("AVX512_BF16 or AMX-BF16") && noInstructions.contains("no AVX-512"))
    #expect(try #require(Precision.problem(.bf16, features: avx512Only, oneDNN: true)).contains("without AVX512_BF16"))
    #expect(try #require(Precision.problem(.bf16, features: bf16, oneDNN: false)).contains("oneDNN (libdnnl)"))
    // This machine: bf16 runs exactly where the check passes, and is refused with the message otherwise.
    if BF16Support.available {
      #expect(try Precision.withPrecision(.bf16) { Precision.current } == .bf16)
    } else {
      #expect(throws: TensorError.self) { try Precision.withPrecision(.bf16) { () } }
    }
    #expect(Precision.current == .fp32)
  }

  /// Round to nearest even, as oneDNN and PyTorch round fp32 to bf16.
  @Test func roundingIsToNearestEven() {
    #expect(BF16Support.rounded(1) == 1)
    #expect(BF16Support.rounded(1 + 1.0 / 256) == 1)  // a tie: to the even neighbour 1
    #expect(BF16Support.rounded(1 + 3.0 / 256) == 1 + 4.0 / 256)  // a tie: to the even 1 + 2/128
    #expect(BF16Support.rounded(1 + 1.5 / 256) == 1 + 2.0 / 256)
    #expect(BF16Support.rounded(-3.14159) == -3.140625)
    #expect(BF16Support.rounded(.infinity) == .infinity)
    #expect(BF16Support.rounded(.nan).isNaN)
    #expect(BF16Support.rounded(Float.greatestFiniteMagnitude) == .infinity)
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float, pad: Int
    var testDescription: String { "\(m)×\(n)×\(k) tA \(transA) tB \(transB) α \(alpha) β \(beta) pad \(pad)" }
  }

  static let cases: [Case] = [
    Case(transA: false, transB: false, m: 197, n: 384, k: 256, alpha: 1, beta: 0, pad: 0),
    Case(transA: false, transB: true, m: 197, n: 384, k: 256, alpha: 1, beta: 1, pad: 3),
    Case(transA: true, transB: false, m: 256, n: 384, k: 197, alpha: 1, beta: 0, pad: 5),
    Case(transA: true, transB: true, m: 130, n: 96, k: 300, alpha: 0.5, beta: 2, pad: 1),
    // m < n: the split goes by columns of C.
    Case(transA: false, transB: false, m: 16, n: 2048, k: 512, alpha: 1, beta: 0.5, pad: 2),
    Case(transA: false, transB: true, m: 16, n: 2048, k: 512, alpha: -1, beta: 0, pad: 0),
  ]

  /// C = α·op(A)·op(B) + β·C in bf16 against fp64. Every product of two bf16-rounded inputs has a
  /// relative error of at most 2u + u² (u = 2⁻⁸, bf16's unit roundoff: 8 significant bits), and
  /// fp32 accumulation over k terms adds at most k·2⁻²⁴ (relative, of Σ|a||b|) plus the final
  /// α and β·C roundings: so |C − C_exact| ≤ (2u + u² + (k + 2)·2⁻²⁴)·|α|·Σ_p |a_ip||b_pj| +
  /// 2⁻²³·|β·C_ij|. The same bound with the inputs rounded first holds with u = 0. It also differs
  /// from the fp32 GEMM, so the bf16 path really ran.
  @Test(arguments: cases) func bf16GEMMIsWithinBF16RoundingOfExact(_ t: Case) throws {
    guard BF16Support.available else {
      #expect(throws: TensorError.self) { try Precision.withPrecision(.bf16) { () } }
      return
    }
    var rng = SystemRandomNumberGenerator()
    let (rowsA, colsA) = t.transA ? (t.k, t.m) : (t.m, t.k)
    let (rowsB, colsB) = t.transB ? (t.n, t.k) : (t.k, t.n)
    let lda = colsA + t.pad, ldb = colsB + t.pad, ldc = t.n + t.pad
    let a = (0..<rowsA * lda).map { _ in Float.random(in: -2...2, using: &rng) }
    let b = (0..<rowsB * ldb).map { _ in Float.random(in: -2...2, using: &rng) }
    let c0 = (0..<t.m * ldc).map { _ in Float.random(in: -1...1, using: &rng) }
    func gemm(_ precision: Precision) throws -> [Float] {
      var c = c0
      try Precision.withPrecision(precision) {
        a.withUnsafeBufferPointer { a in
          b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
              BLAS.sgemm(
                transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha, a: a.baseAddress!, lda: lda,
                b: b.baseAddress!, ldb: ldb, beta: t.beta, c: c.baseAddress!, ldc: ldc)
            }
          }
        }
      }
      return c
    }
    let fallbacks = BLAS.bf16Fallbacks
    let half = try gemm(.bf16), single = try gemm(.fp32)
    #expect(BLAS.bf16Fallbacks == fallbacks)
    func A(_ i: Int, _ p: Int) -> Float { t.transA ? a[p * lda + i] : a[i * lda + p] }
    func B(_ p: Int, _ j: Int) -> Float { t.transB ? b[j * ldb + p] : b[p * ldb + j] }
    let u = 1.0 / 256, ulp32 = 1.0 / 16_777_216
    var violations: [String] = []
    for i in 0..<t.m {
      for j in 0..<t.n {
        var exact = 0.0, rounded = 0.0, magnitude = 0.0
        for p in 0..<t.k {
          let x = A(i, p), y = B(p, j)
          exact += Double(x) * Double(y)
          rounded += Double(BF16Support.rounded(x)) * Double(BF16Support.rounded(y))
          magnitude += abs(Double(x) * Double(y))
        }
        let old = Double(c0[i * ldc + j]), got = Double(half[i * ldc + j])
        let alpha = Double(t.alpha), beta = Double(t.beta)
        let accumulation = Double(t.k + 2) * ulp32 * abs(alpha) * magnitude * (1 + 2 * u + u * u)
        let tail = 4 * ulp32 * abs(beta * old)
        let boundRounded: Double = accumulation + tail
        let boundExact: Double = (2 * u + u * u) * abs(alpha) * magnitude + boundRounded
        let errExact = abs(got - (alpha * exact + beta * old))
        let errRounded = abs(got - (alpha * rounded + beta * old))
        if errExact > boundExact || errRounded > boundRounded {
          violations.append(
            "C[\(i),\(j)] = \(got): error \(errExact) (bound \(boundExact)), \(errRounded) vs rounded inputs (bound \(boundRounded))"
          )
        }
      }
    }
    #expect(violations.isEmpty, "\(violations.count) entries out of bounds, first: \(violations.first ?? "")")
    // Padding (between rows) is never written.
    for i in 0..<t.m { for j in t.n..<ldc { #expect(half[i * ldc + j] == c0[i * ldc + j]) } }
    #expect(half != single, "the bf16 GEMM returned fp32's result")
  }

  /// Under fp32, and for GEMMs below the bf16 work floor under bf16, the result is fp32's, bit for bit.
  @Test func fp32AndSmallGEMMsAreUnchanged() throws {
    var rng = SystemRandomNumberGenerator()
    for (m, n, k) in [(8, 8, 8), (40, 50, 60), (300, 300, 300)] {
      let a = (0..<m * k).map { _ in Float.random(in: -1...1, using: &rng) }
      let b = (0..<k * n).map { _ in Float.random(in: -1...1, using: &rng) }
      func run() -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        return c
      }
      let reference = run()
      if m * n * k < Precision.bf16MinimumWork && BF16Support.available {
        #expect(try Precision.withPrecision(.bf16, run) == reference)
      }
      #expect(try Precision.withPrecision(.fp32, run) == reference)
    }
  }
}
