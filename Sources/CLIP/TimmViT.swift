import Foundation
import NN
import Tensor

/// The shape of a timm Vision Transformer trunk (`timm.models.vision_transformer`), as
/// open_clip's `TimmModel` builds it: pre-LN blocks with a fused `qkv`, exact GELU, LayerNorm
/// eps 1e-6, a biased patch convolution, class token, learned positions, final `norm`.
public struct TimmViTConfig: Sendable, Equatable {
  public var width: Int
  public var depth: Int
  public var heads: Int
  public var mlpWidth: Int
  public var patchSize: Int
  public var imageSize: Int
  public var channels: Int = 3
  public var layerNormEps: Float = 1e-6
  /// Output width of the `head.proj` linear layer (open_clip's `embed_dim`); nil for no head.
  public var projectionDim: Int?
  public var projectionBias = false
  public var qkvBias = true

  public init(width: Int, depth: Int, heads: Int, mlpWidth: Int, patchSize: Int, imageSize: Int, projectionDim: Int?) {
    self.width = width
    self.depth = depth
    self.heads = heads
    self.mlpWidth = mlpWidth
    self.patchSize = patchSize
    self.imageSize = imageSize
    self.projectionDim = projectionDim
  }

  /// Patches per image side.
  public var gridSize: Int { imageSize / max(patchSize, 1) }
}

/// Multi-head self-attention with one fused `qkv` projection (timm's `Attention`).
public final class FusedQKVAttention: Module {
  @Child("qkv") public private(set) var qkv: Linear
  @Child("proj") public private(set) var proj: Linear
  public let heads: Int

  init(dim: Int, heads: Int, bias: Bool, using g: inout SeededGenerator) {
    self.heads = heads
    qkv = Linear(dim, 3 * dim, bias: bias, std: 0.02, using: &g)
    proj = Linear(dim, dim, std: 0.02, using: &g)
  }

  public func callAsFunction(_ x: Tensor, keyMask: [Bool]? = nil) throws -> Tensor {
    try proj(scaledDotProductAttention(packed: qkv(x), heads: heads, keyMask: keyMask))
  }
}

/// timm's pre-LN `Block`: `x += attn(norm1(x)); x += mlp(norm2(x))`.
public final class TimmBlock: Module {
  @Child("norm1") public private(set) var norm1: LayerNorm
  @Child("attn") public private(set) var attn: FusedQKVAttention
  @Child("norm2") public private(set) var norm2: LayerNorm
  @Child("mlp") public private(set) var mlp: MLP

  init(_ c: TimmViTConfig, using g: inout SeededGenerator) {
    norm1 = LayerNorm(c.width, eps: c.layerNormEps)
    attn = FusedQKVAttention(dim: c.width, heads: c.heads, bias: c.qkvBias, using: &g)
    norm2 = LayerNorm(c.width, eps: c.layerNormEps)
    mlp = MLP(dim: c.width, hidden: c.mlpWidth, activation: .gelu, fc1Std: 0.02, fc2Std: 0.02, using: &g)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let h = try x + attn(norm1(x))
    return try h + mlp(norm2(h))
  }
}

/// A patch convolution (stride = kernel) with a bias: `patch_embed.proj` (`weight [D, C, P, P]`, `bias [D]`).
public final class PatchProjection: Module {
  @Param("weight") public private(set) var weight: Tensor
  @Param("bias") public private(set) var bias: Tensor

  init(_ c: TimmViTConfig, using g: inout SeededGenerator) {
    weight = Tensor.randn([c.width, c.channels, c.patchSize, c.patchSize], std: 0.02, using: &g).requiringGrad()
    bias = Tensor.zeros([c.width]).requiringGrad()
  }

  /// Patch tokens `[B, N, D]` for pixels `[B, C, H, W]`.
  public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
    try patchEmbedding(pixels, weight: weight) + bias.reshaped([1, 1, bias.count])
  }
}

/// The timm ViT trunk (`visual.trunk`): tokens → blocks → `norm`, pooled at the class token.
public final class TimmViT: Module {
  public let config: TimmViTConfig
  @Param("cls_token") public private(set) var clsToken: Tensor
  @Param("pos_embed") public private(set) var posEmbed: Tensor
  @Child("patch_embed.proj") public private(set) var patchEmbed: PatchProjection
  @Child("blocks") public private(set) var blocks: ModuleList<TimmBlock>
  @Child("norm") public private(set) var norm: LayerNorm

  init(_ c: TimmViTConfig, using g: inout SeededGenerator) {
    config = c
    clsToken = Tensor.randn([1, 1, c.width], std: 1e-6, using: &g).requiringGrad()
    posEmbed = Tensor.randn([1, c.gridSize * c.gridSize + 1, c.width], std: 0.02, using: &g).requiringGrad()
    patchEmbed = PatchProjection(c, using: &g)
    blocks = ModuleList((0..<c.depth).map { _ in TimmBlock(c, using: &g) })
    norm = LayerNorm(c.width, eps: c.layerNormEps)
  }

  /// The normalised class token `[B, D]`.
  public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
    let patches = try patchEmbed(pixels)
    let b = pixels.shape[0], d = config.width
    guard patches.shape[1] + 1 == posEmbed.shape[1] else {
      throw TensorError.invalidArgument(
        "timm ViT: \(patches.shape[1]) patches from image \(pixels.shape) but the model has \(posEmbed.shape[1] - 1) positions"
      )
    }
    let cls = try Tensor.zeros([b, 1, d]) + clsToken
    var h = try concat([cls, patches], axis: 1) + posEmbed
    for block in blocks.items { h = try block(h) }
    return try norm(h.narrow(axis: 1, start: 0, length: 1).reshaped([b, d]))
  }
}

/// open_clip's `TimmModel` (`visual`): the trunk and its `head`.
public final class TimmImageTower: Module {
  @Child("trunk") public private(set) var trunk: TimmViT
  @Child("head") public private(set) var head: TimmHead

  init(_ c: TimmViTConfig, using g: inout SeededGenerator) {
    trunk = TimmViT(c, using: &g)
    head = TimmHead(
      proj: c.projectionDim.map {
        Linear(c.width, $0, bias: c.projectionBias, std: 1 / Float(c.width).squareRoot(), using: &g)
      })
  }

  /// `head.proj`, the projection into the joint space (nil for `timm_proj: none`).
  public var projection: Linear? { head.proj }

  /// The projected image embedding for the trunk's pooled output.
  public func project(_ pooled: Tensor) throws -> Tensor { try projection.map { try $0(pooled) } ?? pooled }
}

/// open_clip's `TimmModel.head` (`visual.head`), an `nn.Sequential` that exists even when empty:
/// `proj` for `timm_proj: linear`, nothing for `none`.
public final class TimmHead: Module {
  @Child("proj") public private(set) var proj: Linear? = nil

  init(proj: Linear?) { self.proj = proj }
}
