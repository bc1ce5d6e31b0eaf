import Datasets
import Foundation
import Support

/// Procedural dermoscopy-like images: a pigmented lesion on a skin-toned background.
///
/// The malignancy cue `m` (0 = bland, 1 = obvious) scales three ABCD-rule features at once:
/// border irregularity (radial harmonics), asymmetry (an off-centre lobe and elongation) and
/// colour variegation (black / blue-gray / red blotches). Benign lesions draw a small `m` of
/// their own, so a weak malignant cue overlaps them: that is how a subgroup's "subtler lesions" are made.
struct LesionShape {
  var radius: Double  // fraction of the shorter image side
  var harmonics: [(amp: Double, phase: Double)]  // k = 2...
  var elongation: Double
  var axisAngle: Double
  var lobe: (dx: Double, dy: Double, r: Double, weight: Double)
  var blotches: [(x: Double, y: Double, r: Double, color: SIMD3<Double>, weight: Double)]
  var base: SIMD3<Double>
  var darkening: Double

  init(cue m: Double, scale: Double, rng: inout SeededRNG) {
    radius = rng.uniform(0.16, 0.30) * scale
    harmonics = (0..<6).map { k in
      (amp: (0.025 + 0.20 * m * rng.uniform(0.5, 1.0)) / Double(k + 1).squareRoot(), phase: rng.uniform(0, 2 * .pi))
    }
    elongation = 1 + rng.uniform(0, 0.12) + 0.30 * m * rng.uniform(0.5, 1)
    axisAngle = rng.uniform(0, .pi)
    let a = rng.uniform(0, 2 * .pi)
    lobe = (dx: cos(a) * (0.35 + 0.35 * m), dy: sin(a) * (0.35 + 0.35 * m), r: 0.35 + 0.25 * m, weight: 0.15 + 0.85 * m)
    let u = rng.uniform()
    base = SIMD3(0.62, 0.42, 0.30) * (1 - u) + SIMD3(0.42, 0.26, 0.17) * u
    base *= 1 - 0.30 * m
    darkening = 0.15 + 0.25 * m
    let palette: [SIMD3<Double>] = [
      SIMD3(0.10, 0.07, 0.07), SIMD3(0.36, 0.42, 0.55), SIMD3(0.24, 0.13, 0.09), SIMD3(0.78, 0.42, 0.42),
    ]
    let count = 2 + Int(rng.uniform(0, 3 + 4 * m))
    blotches = (0..<count).map { _ in
      let ang = rng.uniform(0, 2 * .pi), d = rng.uniform(0, 0.7)
      let benignColor = SIMD3(0.30, 0.18, 0.11)
      let color = rng.bernoulli(m) ? palette[Int(rng.next() % 4)] : benignColor
      return (
        x: d * cos(ang), y: d * sin(ang), r: rng.uniform(0.15, 0.40), color: color,
        weight: 0.20 + 0.75 * m * rng.uniform(0.6, 1)
      )
    }
  }
}

/// Per-image nuisance: position, rotation, zoom, skin tone, lighting, hair, dermoscope vignette.
struct DermView {
  var center: (x: Double, y: Double)
  var rotation: Double
  var zoom: Double
  var skin: SIMD3<Double>
  var brightness: Double
  var cast: SIMD3<Double>
  var gradient: (x: Double, y: Double)
  var hairs: [(px: Double, py: Double, angle: Double, width: Double)]
  var vignette: Double?  // radius (fraction of half-diagonal) or nil
  var noise: Double
  var texture: [(fx: Double, fy: Double, phase: Double, amp: Double)]

  init(
    tone: Double, brightness: Double, cast: SIMD3<Double> = .zero, vignetteProbability: Double,
    zoom: Double = 1, noise: Double = 0.02, rng: inout SeededRNG
  ) {
    center = (0.5 + rng.uniform(-0.08, 0.08), 0.5 + rng.uniform(-0.08, 0.08))
    rotation = rng.uniform(0, 2 * .pi)
    self.zoom = zoom * rng.uniform(0.9, 1.1)
    let t = min(1, max(0, tone))
    skin = SIMD3(0.94, 0.77, 0.67) * (1 - t) + SIMD3(0.55, 0.38, 0.28) * t
    self.brightness = brightness + rng.uniform(-0.04, 0.04)
    self.cast = cast
    gradient = (rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08))
    let hairCount = rng.bernoulli(0.3) ? 1 + Int(rng.next() % 3) : 0
    hairs = (0..<hairCount).map { _ in
      (rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, .pi), rng.uniform(0.004, 0.010))
    }
    vignette = rng.bernoulli(vignetteProbability) ? rng.uniform(0.85, 1.0) : nil
    self.noise = noise
    texture = (0..<3).map { _ in
      (rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 2 * .pi), rng.uniform(0.005, 0.02))
    }
  }
}

enum DermRenderer {
  /// Draws one RGB image.
  static func render(width: Int, height: Int, lesion: LesionShape, view: DermView, rng: inout SeededRNG) -> PixelImage {
    var px = [UInt8](repeating: 0, count: width * height * 3)
    let side = Double(min(width, height))
    let R = lesion.radius * side * view.zoom
    let cx = view.center.x * Double(width), cy = view.center.y * Double(height)
    let cr = cos(view.rotation + lesion.axisAngle), sr = sin(view.rotation + lesion.axisAngle)
    let edge = 1.2 + 0.05 * R
    let halfDiag = 0.5 * (Double(width * width + height * height)).squareRoot()
    // Harmonic phases rotate with the view so repeated views show the same lesion.
    let harmonics = lesion.harmonics.map { h in (h.amp * cos(h.phase), h.amp * sin(h.phase)) }
    // Skin texture: sin(2π(fx·u + fy·v) + φ) split into per-column and per-row factors.
    let columns = view.texture.map { t in
      (0..<width).map { x -> (Double, Double) in
        let a = 2 * .pi * t.fx * (Double(x) + 0.5) / Double(width)
        return (t.amp * sin(a), t.amp * cos(a))
      }
    }
    let rowsTex = view.texture.map { t in
      (0..<height).map { y -> (Double, Double) in
        let b = 2 * .pi * t.fy * (Double(y) + 0.5) / Double(height) + t.phase
        return (cos(b), sin(b))
      }
    }
    let lobeX = lesion.lobe.dx * R, lobeY = lesion.lobe.dy * R, lobeR = lesion.lobe.r * R
    for y in 0..<height {
      let fy = Double(y) + 0.5
      for x in 0..<width {
        let fx = Double(x) + 0.5
        let u = fx / Double(width), v = fy / Double(height)
        var tex = 0.0
        for t in columns.indices {
          let c = columns[t][x], r = rowsTex[t][y]
          tex += c.0 * r.0 + c.1 * r.1
        }
        var color = view.skin * (1 + tex + view.gradient.x * (u - 0.5) + view.gradient.y * (v - 0.5))
        // Lesion frame: rotate, then undo the elongation.
        let dx = fx - cx, dy = fy - cy
        let lx = (dx * cr + dy * sr) / lesion.elongation, ly = -dx * sr + dy * cr
        let r = (lx * lx + ly * ly).squareRoot()
        var boundary = R
        if r > 1e-9 {
          let c1 = lx / r, s1 = ly / r
          var ck = c1 * c1 - s1 * s1, sk = 2 * s1 * c1  // cos 2θ, sin 2θ
          var wobble = 0.0
          for (ac, as_) in harmonics {
            wobble += ck * ac - sk * as_
            (ck, sk) = (ck * c1 - sk * s1, sk * c1 + ck * s1)
          }
          boundary = R * (1 + wobble)
        }
        let ox = lx - lobeX, oy = ly - lobeY
        let lobeDist = (ox * ox + oy * oy).squareRoot()
        let inMain = min(1, max(0, (boundary - r) / edge))
        let inLobe = lesion.lobe.weight * min(1, max(0, (lobeR - lobeDist) / edge))
        let alpha = max(inMain, inLobe)
        if alpha > 0 {
          var lc = lesion.base * (1 - lesion.darkening * max(0, 1 - r / max(R, 1)))
          for b in lesion.blotches {
            let bx = lx / R - b.x, by = ly / R - b.y
            let w = b.weight * exp(-(bx * bx + by * by) / (b.r * b.r))
            lc = lc * (1 - min(1, w)) + b.color * min(1, w)
          }
          color = color * (1 - 0.92 * alpha) + lc * (0.92 * alpha)
        }
        for h in view.hairs {
          let hx = u - h.px, hy = v - h.py
          let d = abs(hx * sin(h.angle) - hy * cos(h.angle))
          if d < h.width { color *= 0.35 }
        }
        color = color * (1 + view.brightness) + view.cast
        if let vr = view.vignette {
          let d = (dx * dx + dy * dy).squareRoot() / halfDiag
          if d > vr { color *= max(0, 1 - (d - vr) * 12) }
        }
        let o = (y * width + x) * 3
        // Triangular noise from 16-bit slices of two draws (sd = noise).
        let r1 = rng.next(), r2 = rng.next()
        for c in 0..<3 {
          let a = Double((r1 >> (16 * c)) & 0xFFFF), b = Double((r2 >> (16 * c)) & 0xFFFF)
          let n = ((a + b) / 65535 - 1) * view.noise * 2.4
          px[o + c] = UInt8(max(0, min(255, ((color[c] + n) * 255).rounded())))
        }
      }
    }
    return PixelImage(width: width, height: height, channels: 3, pixels: px)
  }
}
