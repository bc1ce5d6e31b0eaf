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
    .library(name: "NN", targets: ["NN"]),
    .library(name: "CLIP", targets: ["CLIP"]),
    .executable(name: "fairmed", targets: ["fairmed"]),
    .executable(name: "fairmed-bench", targets: ["fairmed-bench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
    .executableTarget(
      name: "fairmed",
      dependencies: [
        "Tensor",
        "NN",
        "CLIP",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "fairmed-bench",
      dependencies: ["Tensor", "NN", "CLIP"],
      swiftSettings: fastMath
    ),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    // Layers, optimisers, safetensors (issue 3).
    .target(name: "NN", dependencies: ["Tensor"], swiftSettings: fastMath),
    .testTarget(name: "NNTests", dependencies: ["NN", "Tensor"], exclude: ["Fixtures"]),
    // zlib, for the gzipped OpenAI BPE vocabulary.
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
    // CLIP: config, tokenizer, model, checkpoints (issue 3).
    .target(name: "CLIP", dependencies: ["NN", "Tensor", "CZlib"]),
    .testTarget(name: "CLIPTests", dependencies: ["CLIP", "NN", "Tensor"], exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v5]
)
