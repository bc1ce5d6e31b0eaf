import Foundation
import NN
import Tensor
import Testing

@testable import CLIP

/// Checkpoint keys declared on the towers' properties (`@Child` / `@Param`): the paths the
/// configurations that the fixture of ParameterOrderTests does not cover produce.
@Suite struct DeclaredKeyTests {
  @Test func encoderLayerNamesMatchHF() {
    var g = SeededGenerator(seed: 2)
    let layer = EncoderLayer(
      layerNorm1: LayerNorm(8), selfAttn: MultiHeadAttention(dim: 8, heads: 2, inStd: 0.1, outStd: 0.1, using: &g),
      layerNorm2: LayerNorm(8),
      mlp: MLP(dim: 8, hidden: 16, activation: .quickGELU, fc1Std: 0.1, fc2Std: 0.1, using: &g))
    #expect(
      layer.namedParameters().map(\.path) == [
        "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight", "self_attn.k_proj.bias",
        "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
        "layer_norm1.weight", "layer_norm1.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
        "layer_norm2.weight", "layer_norm2.bias",
      ])
    #expect(layer.parameterCount == 4 * (64 + 8) + 2 * 16 + (128 + 16) + (128 + 8))
    #expect(layer.parameter("self_attn.q_proj.weight") === layer.selfAttn.qProj.weight)
  }

  @Test func timmHeadIsListedEvenWithoutAProjection() {
    var g = SeededGenerator(seed: 3)
    let config = TimmViTConfig(
      width: 8, depth: 1, heads: 2, mlpWidth: 16, patchSize: 4, imageSize: 8, projectionDim: nil)
    let tower = TimmImageTower(config, using: &g)
    let modules = tower.namedModules().map(\.path)
    #expect(modules.contains("head") && !modules.contains("head.proj"))
    #expect(modules.contains("trunk.patch_embed") && modules.contains("trunk.patch_embed.proj"))
    let hasProjection = tower.projection != nil
    #expect(!hasProjection)
    #expect(!tower.namedParameters().contains { $0.path.hasPrefix("head") })
    #expect(
      Array(tower.namedParameters().map(\.path).prefix(4)) == [
        "trunk.cls_token", "trunk.pos_embed", "trunk.patch_embed.proj.weight", "trunk.patch_embed.proj.bias",
      ])
  }

  @Test func bertKeysFollowTheConfiguration() throws {
    var g = SeededGenerator(seed: 4)
    let config = BertConfig(
      vocabSize: 10, hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 16, maxPositions: 6, hasPooler: true)
    let linearTower = BertTextTower(config, outputDim: 4, pooling: .cls, projection: .linear, using: &g)
    let mlpTower = BertTextTower(config, outputDim: 4, pooling: .mean, projection: .mlp, using: &g)

    #expect(linearTower.namedParameters().map(\.path).filter { $0.hasPrefix("proj") } == ["proj.weight"])
    #expect(linearTower.namedModules().map(\.path).filter { $0.hasPrefix("proj") } == ["proj"])
    #expect(
      mlpTower.namedParameters().map(\.path).filter { $0.hasPrefix("proj") } == ["proj.0.weight", "proj.2.weight"])
    #expect(mlpTower.namedModules().map(\.path).filter { $0.hasPrefix("proj") } == ["proj", "proj.0", "proj.2"])

    let modules = linearTower.namedModules().map(\.path)
    #expect(
      Array(modules.prefix(22)) == [
        "", "transformer", "transformer.embeddings", "transformer.embeddings.word_embeddings",
        "transformer.embeddings.position_embeddings", "transformer.embeddings.token_type_embeddings",
        "transformer.embeddings.LayerNorm", "transformer.encoder", "transformer.encoder.layer",
        "transformer.encoder.layer.0",
        "transformer.encoder.layer.0.attention", "transformer.encoder.layer.0.attention.self",
        "transformer.encoder.layer.0.attention.self.query", "transformer.encoder.layer.0.attention.self.key",
        "transformer.encoder.layer.0.attention.self.value", "transformer.encoder.layer.0.attention.output",
        "transformer.encoder.layer.0.attention.output.dense", "transformer.encoder.layer.0.attention.output.LayerNorm",
        "transformer.encoder.layer.0.intermediate", "transformer.encoder.layer.0.intermediate.dense",
        "transformer.encoder.layer.0.output", "transformer.encoder.layer.0.output.dense",
      ])
    #expect(
      Array(modules.suffix(4)) == [
        "transformer.encoder.layer.0.output.LayerNorm", "transformer.pooler", "transformer.pooler.dense", "proj",
      ])

    #expect(try linearTower([[1, 2, 0]]).shape == [1, 4])
    #expect(try mlpTower([[1, 2, 0]]).shape == [1, 4])
  }
}
