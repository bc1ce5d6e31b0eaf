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
    .executableTarget(
      name: "fairmed",
      dependencies: [
        "Tensor",
        "Data",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "fairmed-bench",
      dependencies: ["Tensor"],
      swiftSettings: fastMath
    ),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
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
  ],
  swiftLanguageModes: [.v5]
)
