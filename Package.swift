// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "FairMed",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "Tensor", targets: ["Tensor"]),
    .library(name: "Training", targets: ["Training"]),
    .library(name: "Fairness", targets: ["Fairness"]),
    .library(name: "NN", targets: ["NN"]),
    .library(name: "CLIP", targets: ["CLIP"]),
    .library(name: "Datasets", targets: ["Datasets"]),
    .library(name: "SyntheticData", targets: ["SyntheticData"]),
    .library(name: "Report", targets: ["Report"]),
    .library(name: "Experiments", targets: ["Experiments"]),
    .library(name: "Support", targets: ["Support"]),
    .library(name: "Distributed", targets: ["Distributed"]),
    .executable(name: "fairmed", targets: ["fairmed"]),
    .executable(name: "fairmed-bench", targets: ["fairmed-bench"]),
  ],
  // `swift build --traits MPI` links MPI (Scripts/install-deps --mpi); without it every run is a
  // one-process world and nothing needs mpi.h.
  traits: [.trait(name: "MPI", description: "Data-parallel training across processes with MPI (mpirun, srun).")],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
  ],
  targets: [
    // BLAS: OpenBLAS on Linux; Apple platforms use Accelerate directly (see Tensor/BLAS.swift).
    .systemLibrary(
      name: "CBLAS",
      path: "Sources/CBLAS",
      providers: [.apt(["libopenblas-dev"])]
    ),
    .target(
      name: "Tensor",
      dependencies: [
        "Support", "CVectorKernels", "CBF16GEMM", .target(name: "CBLAS", condition: .when(platforms: [.linux])),
      ]
    ),
    // bf16 GEMMs with fp32 accumulation (`--precision bf16`) through oneDNN's matmul primitive
    // (Debian's libdnnl-dev, installed by Scripts/install-deps); without oneDNN's header the
    // target builds a stub and bf16 is refused at run time.
    .target(
      name: "CBF16GEMM", path: "Sources/CBF16GEMM",
      linkerSettings: [.linkedLibrary("dnnl", .when(platforms: [.linux]))]),
    // Element-wise kernels with AVX2 + FMA chosen at run time (Swift builds for baseline x86-64).
    .target(name: "CVectorKernels", path: "Sources/CVectorKernels"),
    .target(
      name: "Training", dependencies: ["Tensor", "NN", "CLIP", "Datasets", "Fairness", "Support", "Distributed"]),
    // MPI (Open MPI or MPICH through pkg-config's `mpi`), only with the MPI trait.
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "mpi", providers: [.apt(["libopenmpi-dev"])]),
    // Distributed: the process world (rank, size, collectives) over MPI, or a one-process world.
    .target(name: "Distributed", dependencies: [.target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
    .target(
      name: "Experiments",
      dependencies: ["Tensor", "Training", "Datasets", "SyntheticData", "Fairness", "Report", "Support"]),
    .testTarget(
      name: "ExperimentsTests", dependencies: ["Experiments", "Training", "Tensor", "Support", "TestSupport"]),
    .executableTarget(
      name: "fairmed",
      dependencies: [
        "Tensor",
        "NN",
        "CLIP",
        "Fairness",
        "Report",
        "Datasets",
        "SyntheticData",
        "Training",
        "Experiments",
        "Support",
        "Distributed",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "fairmed-bench", dependencies: ["Tensor", "NN", "CLIP", "Datasets", "Training", "Distributed"]),
    .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport", "CVectorKernels"]),
    .testTarget(
      name: "TrainingTests",
      dependencies: [
        "Training", "Tensor", "NN", "CLIP", "Datasets", "SyntheticData", "Fairness", "Support", "Distributed",
        "TestSupport",
      ], exclude: ["Fixtures"]),
    // Fairness audit: standalone (Foundation only), never depends on the engine.
    .target(name: "Fairness", dependencies: ["Support"]),
    .target(name: "Report", dependencies: ["Fairness", "Support"]),
    // Support: the small Foundation-only pieces every module shares (CSV/JSON escaping, atomic writes, xoshiro).
    .target(name: "Support", dependencies: ["FairMedZlib"]),
    .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"]),
    // Helpers every test target shares (fixture paths, fresh folders, tolerance checks, the `.slow`
    // tag that `Scripts/test --fast` skips, the audits' synthetic data); every test target depends on it.
    .target(name: "TestSupport", dependencies: ["Tensor", "Fairness", "Support"], path: "Tests/TestSupport"),
    // The real `fairmed` binary, run as a process (it is built with the tests).
    .testTarget(name: "CLITests", dependencies: ["NN", "Tensor", "Datasets", "TestSupport"]),
    .testTarget(name: "ReportTests", dependencies: ["Report", "Fairness", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "FairnessTests", dependencies: ["Support", "Fairness", "TestSupport"], exclude: ["Fixtures"]),
    // Data: image codecs (libjpeg-turbo, libpng via a setjmp-safe C shim), dataset layouts, sampling, synth.
    .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
    .target(
      name: "CImageCodecs",
      dependencies: ["CJPEG", "CPNG"],
      linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
    ),
    // Datasets: the dataset formats and loaders (HAM10000, BCN20000, FairVLMed, manifests), images,
    // transforms, samplers and splits. (Named so that `Data` stays Foundation's.)
    .target(
      name: "Datasets",
      dependencies: [
        "CImageCodecs", "FairMedZlib", "Fairness", "Support", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ]
    ),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Fairness", "TestSupport"], exclude: ["Fixtures"]),
    // SyntheticData: the synthetic dermatology and fundus benchmarks written in the datasets' layouts.
    .target(name: "SyntheticData", dependencies: ["Datasets", "Support"]),
    .testTarget(name: "SyntheticDataTests", dependencies: ["SyntheticData", "Datasets", "Fairness", "TestSupport"]),
    // Layers, optimisers, safetensors (issue 3).
    .target(name: "NN", dependencies: ["Tensor", "Support"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "TestSupport"], exclude: ["Fixtures"]),
    // zlib, for the gzipped OpenAI BPE vocabulary.
    .systemLibrary(name: "FairMedZlib", path: "Sources/FairMedZlib", providers: [.apt(["zlib1g-dev"])]),
    // CLIP: config, tokenizer, model, checkpoints (issue 3).
    .target(
      name: "CLIP", dependencies: ["NN", "Tensor", "Support", "FairMedZlib"],
      resources: [.copy("Resources/bpe_simple_vocab_16e6.txt.gz")]),
    .testTarget(name: "CLIPTests", dependencies: ["CLIP", "NN", "Tensor", "TestSupport"], exclude: ["Fixtures"]),
  ],
  // Every target builds in Swift 6 language mode with strict concurrency checking.
  swiftLanguageModes: [.v6]
)
