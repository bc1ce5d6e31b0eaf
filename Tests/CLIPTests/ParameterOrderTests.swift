import Foundation
import NN
import Testing

@testable import CLIP

/// Every architecture's parameter and module paths, in enumeration order, pinned: the order
/// decides checkpoint files, optimiser state and the gradient norm's summation, so a change in
/// how modules declare their children must leave it exactly as it is.
/// `FAIRMED_WRITE_PARAMETER_ORDER=1 swift test --filter ParameterOrder` rewrites the fixture.
@Suite struct ParameterOrderTests {
  static let fixture = fixtures.appendingPathComponent("parameter_order.json").path

  static func models() throws -> [(String, Module)] {
    let tiny = CLIPModel(config: ModelPresets.config(named: "tiny", imageSize: 32)!, seed: 0)
    let biomed = try #require(try CLIPFolder.load(biomedTiny).model as? OpenCLIPModel)
    let lora = try #require(try CLIPFolder.load(biomedTiny).model as? OpenCLIPModel)
    _ = try lora.attachLoRA(LoRAConfig(rank: 2, alpha: nil, dropout: 0, targets: lora.defaultLoRATargets), seed: 0)
    let hf = try CLIPModel(directory: tinyCLIP)
    return [("clip_tiny", tiny), ("biomedclip_tiny", biomed), ("biomedclip_tiny_lora", lora), ("hf_tiny_clip", hf)]
  }

  @Test func parameterAndModulePathsKeepTheirOrder() throws {
    var now: [String: [String: [String]]] = [:]
    for (name, model) in try Self.models() {
      now[name] = ["parameters": model.namedParameters().map(\.path), "modules": model.namedModules().map(\.path)]
    }
    if ProcessInfo.processInfo.environment["FAIRMED_WRITE_PARAMETER_ORDER"] == "1" {
      let data = try JSONSerialization.data(withJSONObject: now, options: [.prettyPrinted, .sortedKeys])
      try data.write(to: URL(fileURLWithPath: Self.fixture))
      return
    }
    let pinned =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
      as! [String: [String: [String]]]
    #expect(Set(pinned.keys) == Set(now.keys))
    for (name, lists) in pinned {
      #expect(now[name]?["parameters"] == lists["parameters"], "\(name): parameter order changed")
      #expect(now[name]?["modules"] == lists["modules"], "\(name): module paths changed")
    }
  }
}
