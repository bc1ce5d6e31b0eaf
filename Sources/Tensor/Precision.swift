import CBF16GEMM
import Support

/// The arithmetic of the engine's GEMMs (`--precision`).
///
/// - `fp32`: every GEMM in fp32 (OpenBLAS's kernels, FairMed's threading).
/// - `bf16`: the GEMMs of projections, MLPs, patch embeddings and their gradients (every
///   ``BLAS/sgemm`` call of at least ``Precision/bf16MinimumWork`` multiply-adds, and attention's
///   per-head products of that size) read their operands
///   rounded to bf16 (round to nearest even) and accumulate in fp32 through oneDNN's matmul
///   primitive. Everything else stays fp32: master weights, gradients, optimizer state, layer norm,
///   softmax, the losses and CMAC-MMD's margins and kernel. A weight is rounded once per step: the
///   forward pass keeps its bf16 copy for backward's input gradient.
///
/// The precision is scoped to a task (``withPrecision(_:_:)``), so concurrent work keeps its own.
public enum Precision: String, CaseIterable, Sendable, Codable {
  case fp32
  case bf16

  /// The `--precision` help, for every command that takes it.
  public static let help =
    "GEMM arithmetic: fp32, or bf16 (operands rounded to bf16, fp32 accumulation, on oneDNN; needs AVX512_BF16 or AMX-BF16). Weights, optimizer state, norms, softmax and losses stay fp32."

  /// GEMMs with fewer multiply-adds (m·n·k) stay fp32 under bf16: their rounding and call costs
  /// exceed the gain.
  public static let bf16MinimumWork = 1 << 18

  @TaskLocal static var taskPrecision: Precision = .fp32

  /// The precision of the GEMMs run by the current task.
  public static var current: Precision { taskPrecision }

  /// Runs `body` with `precision` for this task's GEMMs, after checking this machine runs it
  /// (``check()``).
  public static func withPrecision<T>(_ precision: Precision, _ body: () throws -> T) throws -> T {
    try precision.check()
    return try $taskPrecision.withValue(precision, operation: body)
  }

  /// Refuses a precision this machine cannot run natively, naming what is missing: bf16 needs
  /// oneDNN in the build and a CPU with AVX512_BF16 or AMX-BF16 (never a slow emulation).
  public func check() throws {
    if let problem = Self.problem(self, features: BF16Support.features, oneDNN: BF16Support.oneDNN) {
      throw TensorError.invalidArgument(problem)
    }
  }

  /// Why `precision` cannot run on a machine with these CPU features and oneDNN or not; nil: it can.
  public static func problem(_ precision: Precision, features: BF16Support.Features, oneDNN: Bool) -> String? {
    guard precision == .bf16 else { return nil }
    if !oneDNN {
      return
        "--precision bf16 needs oneDNN (libdnnl), which this build lacks: install it (Scripts/install-deps) and rebuild, or use --precision fp32"
    }
    if !features.avx512BF16 && !features.amxBF16 {
      let has = features.avx512F ? "AVX-512F without AVX512_BF16" : "no AVX-512"
      return
        "--precision bf16 needs a CPU with the AVX512_BF16 or AMX-BF16 instructions (this CPU has \(has)); use --precision fp32"
    }
    return nil
  }
}

/// What this machine offers the bf16 path.
public enum BF16Support {
  public struct Features: Sendable, Equatable {
    public var avx512F: Bool
    public var avx512BF16: Bool
    public var amxBF16: Bool
    public init(avx512F: Bool, avx512BF16: Bool, amxBF16: Bool) {
      self.avx512F = avx512F; self.avx512BF16 = avx512BF16; self.amxBF16 = amxBF16
    }
  }

  /// The CPU's features (CPUID, with the OS saving the AVX-512 and AMX state).
  public static let features: Features = {
    let f = fm_cpu_bf16_detect()
    return Features(avx512F: f.avx512f != 0, avx512BF16: f.avx512_bf16 != 0, amxBF16: f.amx_bf16 != 0)
  }()

  /// Whether this build links oneDNN.
  public static let oneDNN = fm_bf16_available() != 0

  /// oneDNN's version ("2.6.3"), nil without it.
  public static var oneDNNVersion: String? {
    let v = String(cString: fm_dnnl_version())
    return v.isEmpty ? nil : v
  }

  /// Whether `--precision bf16` runs here.
  public static var available: Bool { Precision.problem(.bf16, features: features, oneDNN: oneDNN) == nil }

  /// fp32 → bf16 → fp32: `x` as the bf16 GEMMs read it (round to nearest even).
  public static func rounded(_ x: Float) -> Float {
    var v = x
    var h: UInt16 = 0
    fm_f32_to_bf16(&v, 1, 1, 1, &h)
    var out: Float = 0
    fm_bf16_to_f32(&h, 1, &out)
    return out
  }
}
