// swift-tools-version: 6.0
// libFuzzer targets for FairMed's readers of untrusted files. Built and run by Scripts/fuzz/run
// (`swift build -Xswiftc -sanitize=fuzzer,address`), never by the main package or its tests.
import Foundation
import PackageDescription

/// The FairMed checkout two folders up; SwiftPM names a path dependency after its folder.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()
let fairmed = root.lastPathComponent.lowercased()

func target(_ name: String, _ products: [String]) -> Target {
  .executableTarget(
    name: name,
    dependencies: ["FuzzShared", .product(name: "Support", package: fairmed)]
      + products.map { .product(name: $0, package: fairmed) })
}

let package = Package(
  name: "FairMedFuzz",
  dependencies: [.package(path: root.path)],
  targets: [
    .target(name: "FuzzShared"),
    target("FuzzSafetensors", ["NN", "Tensor"]),
    target("FuzzNpy", ["Datasets"]),
    target("FuzzNpz", ["Datasets"]),
    target("FuzzCSV", ["Fairness", "Datasets"]),
    target("FuzzConfig", ["CLIP", "Training", "Experiments"]),
    target("FuzzTokenizer", ["CLIP"]),
    target("FuzzImage", ["Datasets"]),
    target("FuzzPickle", ["NN"]),
  ]
)
