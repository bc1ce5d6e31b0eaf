import Foundation
import Support
import Tensor

/// `fairmed engine-demo`: a tiny two-layer network fitted to seeded XOR-like points with the
/// autodiff engine and plain gradient descent (a smoke test of the engine).
public enum EngineDemo {
  public struct Result: Sendable { public let accuracy: Double; public let points: Int; public let finalLoss: Float }

  public static func run(seed: UInt64, steps: Int, learningRate: Float, log: (Int, Float) -> Void) throws -> Result {
    var g = SeededGenerator(seed: seed)
    let n = 256
    var xs: [Float] = [], ys: [Int] = []
    for _ in 0..<n {
      let a = g.uniformFloat() * 2 - 1, b = g.uniformFloat() * 2 - 1
      xs += [a, b]
      ys.append((a > 0) != (b > 0) ? 1 : 0)
    }
    let x = try Tensor(xs, shape: [n, 2])
    let w1 = Tensor.randn([16, 2], std: 1, using: &g).requiringGrad(), b1 = Tensor.zeros([16]).requiringGrad()
    let w2 = Tensor.randn([2, 16], std: 0.3, using: &g).requiringGrad(), b2 = Tensor.zeros([2]).requiringGrad()
    let params = [w1, b1, w2, b2]
    var loss: Float = .nan
    for step in 0...steps {
      let logits = try linear(linear(x, weight: w1, bias: b1).tanh(), weight: w2, bias: b2)
      let l = try crossEntropy(logits, targets: ys)
      loss = l.item()
      if step % max(1, steps / 10) == 0 { log(step, loss) }
      if step == steps { break }
      for p in params { p.grad = nil }
      try l.backward()
      for p in params {
        let pg = p.grad!.pointer
        for i in 0..<p.count { p.pointer[i] -= learningRate * pg[i] }
      }
    }
    let predicted = try withNoGrad {
      try linear(linear(x, weight: w1, bias: b1).tanh(), weight: w2, bias: b2).argmax(axis: 1)
    }
    let correct = zip(predicted, ys).filter { $0 == $1 }.count
    return Result(accuracy: Double(correct) / Double(n), points: n, finalLoss: loss)
  }
}
