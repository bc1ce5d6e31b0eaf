import Foundation
import Testing
import Tensor

@testable import NN

/// A module whose members are all declared through keys: a plain and a dotted parameter, dotted
/// and plain children interleaved, an optional child, a list and a child with an initial value.
/// `note` is a plain stored property, not a member.
final class KeyedModule: Module {
  let note = "not a member"
  @Param("scale") var scale: Tensor
  @Child("attention.self.query") var query: Linear
  @Param("attention.bias") var attentionBias: Tensor
  @Child("attention.self.key") var key: Linear
  @Child("norm") var norm: LayerNorm
  @Child("pooler.dense") var pooler: Linear? = nil
  @Child("blocks") var blocks: ModuleList<LayerNorm>
  @Child("drop") var drop: Dropout = Dropout(p: 0.5, seed: 1)

  init(pooler hasPooler: Bool) {
    var g = SeededGenerator(seed: 5)
    scale = Tensor(scalar: 1).requiringGrad()
    query = Linear(2, 2, using: &g)
    attentionBias = Tensor.zeros([2]).requiringGrad()
    key = Linear(2, 2, bias: false, using: &g)
    norm = LayerNorm(2)
    if hasPooler { pooler = Linear(2, 2, using: &g) }
    blocks = ModuleList([LayerNorm(2), LayerNorm(2)])
  }
}

@Suite struct DeclaredMembersTests {
  @Test func keysEnumerateInDeclarationOrderAndDottedKeysNest() {
    let m = KeyedModule(pooler: true)
    #expect(
      m.namedParameters().map(\.path) == [
        "scale", "attention.bias", "attention.self.query.weight", "attention.self.query.bias",
        "attention.self.key.weight",
        "norm.weight", "norm.bias", "pooler.dense.weight", "pooler.dense.bias",
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
      ])
    #expect(
      m.namedModules().map(\.path) == [
        "", "attention", "attention.self", "attention.self.query", "attention.self.key", "norm", "pooler",
        "pooler.dense",
        "blocks", "blocks.0", "blocks.1", "drop",
      ])
    #expect(m.localParameters.map { $0.0 } == ["scale"])
    #expect(m.submodules.map { $0.0 } == ["attention", "norm", "pooler", "blocks", "drop"])
    #expect(m.parameter("attention.self.query.weight") === m.query.weight)
    #expect(m.parameter("attention.bias") === m.attentionBias)
    let attentionIsAGroup = m.namedModules().first { $0.path == "attention" }?.module is ModuleGroup
    #expect(attentionIsAGroup)
  }

  @Test func nilMembersAreLeftOut() {
    let m = KeyedModule(pooler: false)
    let modules = m.namedModules().map(\.path)
    #expect(!modules.contains("pooler") && !modules.contains("pooler.dense"))
    #expect(m.namedParameters().map(\.path).contains("attention.self.key.weight"))
    #expect(!m.namedParameters().map(\.path).contains("attention.self.key.bias"))
  }

  @Test func replacingAChildChangesWhatIsListed() {
    let m = KeyedModule(pooler: false)
    var g = SeededGenerator(seed: 8)
    let pooler = Linear(2, 2, bias: false, using: &g)
    m.pooler = pooler
    #expect(m.parameter("pooler.dense.weight") === pooler.weight)
    m.pooler = nil
    let gone = m.parameter("pooler.dense.weight") == nil
    #expect(gone)
  }

  @Test func aLoRAAdapterIsListedUnderItsLinearLayer() throws {
    let m = KeyedModule(pooler: false)
    let adapted = try m.attachLoRA(LoRAConfig(rank: 1, dropout: 0.1, targets: ["query"]), seed: 7)
    #expect(adapted == ["attention.self.query"])
    let expected = [
      "attention.self.query.weight", "attention.self.query.bias",
      "attention.self.query.lora_A.weight", "attention.self.query.lora_B.weight",
    ]
    #expect(m.namedParameters().map(\.path).filter { $0.hasPrefix("attention.self.query") } == expected)
    #expect(
      m.namedModules().map(\.path).filter { $0.hasPrefix("attention.self.query") } == [
        "attention.self.query", "attention.self.query.lora_A", "attention.self.query.lora_B",
        "attention.self.query.lora_dropout",
      ])
    let merged = try m.withLoRAMerged {
      m.namedParameters().map(\.path).filter { $0.hasPrefix("attention.self.query") }
    }
    #expect(merged == Array(expected.prefix(2)))
    #expect(m.namedParameters().map(\.path).filter { $0.hasPrefix("attention.self.query") } == expected)
  }
}
