import NN

/// CLIP architectures for training from scratch (the synthetic benchmark and tests).
public enum ModelPresets {
  /// Token context of the preset text towers (prompts and short notes fit).
  public static let contextLength = 32

  /// `tiny`: ViT 3×96 (patch 8) / text 2×64, projection 64. `small`: ViT 6×192 / text 4×128,
  /// projection 128. Both use quick-GELU as OpenAI's CLIP.
  public static func config(named name: String, imageSize: Int) -> CLIPConfig? {
    let (vw, vl, vh, tw, tl, th, proj): (Int, Int, Int, Int, Int, Int, Int)
    switch name {
    case "tiny": (vw, vl, vh, tw, tl, th, proj) = (96, 3, 3, 64, 2, 2, 64)
    case "small": (vw, vl, vh, tw, tl, th, proj) = (192, 6, 3, 128, 4, 4, 128)
    default: return nil
    }
    var vision = CLIPTowerConfig(
      hiddenSize: vw, intermediateSize: 4 * vw, numAttentionHeads: vh, numHiddenLayers: vl,
      hiddenAct: .quickGELU, layerNormEps: 1e-5)
    vision.imageSize = imageSize
    vision.patchSize = 8
    var text = CLIPTowerConfig(
      hiddenSize: tw, intermediateSize: 4 * tw, numAttentionHeads: th, numHiddenLayers: tl,
      hiddenAct: .quickGELU, layerNormEps: 1e-5)
    text.maxPositionEmbeddings = contextLength
    return CLIPConfig(vision: vision, text: text, projectionDim: proj)
  }
}
