import Foundation
import Testing
import Tensor

@testable import NN

@Suite struct LayerTests {
  @Test func linearUsesTheHFLayoutAndOptionalBias() throws {
    var g = SeededGenerator(seed: 1)
    let l = Linear(3, 2, using: &g)
    #expect(l.weight.shape == [2, 3] && l.bias?.shape == [2])
    #expect(l.namedParameters().map(\.path) == ["weight", "bias"])
    l.bias!.pointer[1] = 0.5
    let x = try Tensor([1, 2, 3], shape: [1, 3])
    let y = try l(x)
    let w = l.weight.scalars
    #expect(abs(y.pointer[0] - (w[0] + 2 * w[1] + 3 * w[2])) < 1e-5)
    #expect(abs(y.pointer[1] - (w[3] + 2 * w[4] + 3 * w[5] + 0.5)) < 1e-5)
    let noBias = Linear(3, 2, bias: false, std: 0.1, using: &g)
    #expect(noBias.namedParameters().map(\.path) == ["weight"])
  }

  @Test func dropoutFollowsTrainingMode() throws {
    final class Holder: Module {
      let drop = Dropout(p: 0.5, seed: 3)
      var submodules: [(String, Module)] { [("drop", drop)] }
    }
    let h = Holder()
    let x = Tensor.ones([1000])
    let y = try h.drop(x)
    let zeros = y.scalars.filter { $0 == 0 }.count
    #expect(zeros > 400 && zeros < 600 && y.scalars.allSatisfy { $0 == 0 || $0 == 2 })
    h.setTraining(false)
    #expect(try h.drop(x) === x)
  }

  @Test func embeddingRejectsOutOfRangeIds() throws {
    var g = SeededGenerator(seed: 4)
    let e = Embedding(5, 3, using: &g)
    #expect(try e([4, 0], shape: [2]).shape == [2, 3])
    #expect(throws: TensorError.self) { try e([5], shape: [1]) }
  }

  @Test func activationsParseConfigNames() {
    #expect(Activation(configName: "quick_gelu") == .quickGELU)
    #expect(Activation(configName: "gelu_pytorch_tanh") == .geluNew)
    #expect(Activation(configName: "swish") == nil)
  }
}
