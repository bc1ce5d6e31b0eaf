// swift-tools-version: 6.0
import PackageDescription

/// Compiler settings shared by the engine's hot loops: optimise for the build machine's vector units.
let fastMath: [SwiftSetting] = [
  .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]

let package = Package(
  name: "FairMed",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "Tensor", targets: ["Tensor"]),
    .library(name: "Training", targets: ["Training"]),
    .library(name: "Fairness", targets: ["Fairness"]),
    .library(name: "NN", targets: ["NN"]),
    .library(name: "CLIP", targets: ["CLIP"]),
    .executable(name: "fairmed", targets: ["fairmed"]),
    .executable(name: "fairmed-bench", targets: ["fairmed-bench"]),
  ],
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
      dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux]))],
      swiftSettings: fastMath
    ),
    .target(name: "Training", dependencies: ["Tensor", "NN", "CLIP", "Data", "Fairness"]),
    .target(name: "Experiments", dependencies: ["Training", "Data", "Fairness", "Report"]),
    .testTarget(name: "ExperimentsTests", dependencies: ["Experiments"]),
    .executableTarget(
      name: "fairmed",
      dependencies: [
        "Tensor",
        "NN",
        "CLIP",
        "Fairness",
        "Report",
        "Data",
        "Training",
        "Experiments",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "fairmed-bench",
      dependencies: ["Tensor", "NN", "CLIP", "Training"],
      swiftSettings: fastMath
    ),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "Tensor", "NN", "CLIP", "Data", "Fairness"], exclude: ["Fixtures"]),
    // Fairness audit: standalone (Foundation only), never depends on the engine.
    .target(name: "Fairness", swiftSettings: fastMath),
    .target(name: "Report", dependencies: ["Fairness"]),
    .testTarget(name: "ReportTests", dependencies: ["Report", "Fairness"]),
    .testTarget(name: "FairnessTests", dependencies: ["Fairness", "Report"], exclude: ["Fixtures"]),
    // Data: image codecs (libjpeg-turbo, libpng via a setjmp-safe C shim), dataset layouts, sampling, synth.
    .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG", providers: [.apt(["libpng-dev"])]),
    .target(
      name: "CImageCodecs",
      dependencies: ["CJPEG", "CPNG"],
      linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
    ),
    .target(
      name: "Data",
      dependencies: ["CImageCodecs", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
    ),
    .testTarget(name: "DataTests", dependencies: ["Data"], exclude: ["Fixtures"]),
    // Layers, optimisers, safetensors (issue 3).
    .target(name: "NN", dependencies: ["Tensor"], swiftSettings: fastMath),
    .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"], exclude: ["Fixtures"]),
    // zlib, for the gzipped OpenAI BPE vocabulary.
    .systemLibrary(name: "FairMedZlib", path: "Sources/FairMedZlib", providers: [.apt(["zlib1g-dev"])]),
    // CLIP: config, tokenizer, model, checkpoints (issue 3).
    .target(name: "CLIP", dependencies: ["NN", "Tensor", "FairMedZlib"], resources: [.copy("Resources/bpe_simple_vocab_16e6.txt.gz")]),
    .testTarget(name: "CLIPTests", dependencies: ["CLIP", "NN", "Tensor"], exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v5]
)
