import Foundation
import TestSupport
import Testing
import Tensor

@testable import NN

/// A parameter-only module for tests that need no ops.
final class Leaf: Module {
  let weight: Tensor, bias: Tensor
  init(_ shape: [Int], seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    weight = Tensor.randn(shape, using: &g).requiringGrad()
    bias = Tensor.randn([shape[0]], using: &g).requiringGrad()
  }
  var localParameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
}

final class Tree: Module {
  let layers: ModuleList<Leaf>
  let norm: Leaf
  init(seed: UInt64 = 0) {
    layers = ModuleList((0..<11).map { Leaf([2, 3], seed: seed * 100 + UInt64($0)) })
    norm = Leaf([3, 1], seed: seed * 100 + 99)
  }
  let scale = Tensor(scalar: 2.5).requiringGrad()
  var localParameters: [(String, Tensor)] { [("logit_scale", scale)] }
  var submodules: [(String, Module)] { [("encoder.layers", layers), ("final_norm", norm)] }
}

@Suite struct ModuleTests {
  @Test func pathsMirrorCheckpointNames() {
    let m = Tree()
    let paths = m.namedParameters().map(\.path)
    #expect(paths.first == "logit_scale")
    #expect(paths.contains("encoder.layers.10.bias") && paths.contains("final_norm.weight"))
    #expect(paths.count == 1 + 22 + 2)
    #expect(m.parameterCount == 1 + 11 * 8 + 6)
    #expect(m.parameter("encoder.layers.3.weight") === m.layers[3].weight)
  }

  @Test func freezeByPrefixMatchesWholeComponents() {
    let m = Tree()
    #expect(m.freeze(prefix: "encoder.layers.1") == 2)  // not layers.10
    #expect(!m.layers[1].weight.requiresGrad && m.layers[10].weight.requiresGrad)
    #expect(m.trainableParameterCount == m.parameterCount - 8)
    #expect(m.freeze() == 25 && m.trainableParameterCount == 0)
    #expect(m.unfreeze(prefix: "final_norm") == 2 && m.trainableParameterCount == 6)
  }

  @Test func loadReportsEveryProblemAtOnce() throws {
    let m = Tree()
    var sd = Dictionary(uniqueKeysWithValues: Tree(seed: 1).stateDict())
    sd["encoder.layers.2.weight"] = nil
    sd["final_norm.bias"] = nil
    sd["encoder.layers.4.weight"] = Tensor.zeros([3, 2])
    sd["extra.thing"] = Tensor.zeros([5])
    let before = m.layers[0].weight.scalars
    do {
      try m.loadStateDict(sd)
      Issue.record("expected an error")
    } catch let e as StateDictError {
      #expect(e.missing.map(\.name) == ["encoder.layers.2.weight", "final_norm.bias"])
      #expect(e.missing[0].expected == [2, 3])
      #expect(e.wrongShape.map(\.name) == ["encoder.layers.4.weight"])
      #expect(e.wrongShape[0].expected == [2, 3] && e.wrongShape[0].found == [3, 2])
      #expect(e.unexpected.map(\.name) == ["extra.thing"])
      #expect(e.description.contains("expected [2, 3], found [3, 2]"))
    }
    #expect(m.layers[0].weight.scalars == before)  // nothing changed
    sd["encoder.layers.4.weight"] = nil
    try m.loadStateDict(sd, strict: false)
    #expect(m.layers[0].weight.scalars != before)
  }

  @Test func safetensorsSaveLoadRoundTrip() throws {
    let dir = URL(fileURLWithPath: freshDirectory("nn"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = Tree(seed: 2), b = Tree(seed: 3)
    for (_, t) in b.namedParameters() { t.pointer.update(repeating: 0, count: t.count) }
    let path = dir.appendingPathComponent("tree.safetensors").path
    try a.save(safetensors: path)
    try b.load(safetensors: path)
    for (pa, pb) in zip(a.namedParameters(), b.namedParameters()) {
      #expect(pa.path == pb.path && pa.tensor.scalars.map(\.bitPattern) == pb.tensor.scalars.map(\.bitPattern))
    }
    let small = Leaf([2, 3], seed: 1)
    #expect(throws: StateDictError.self) { try small.load(safetensors: path) }
  }
}
