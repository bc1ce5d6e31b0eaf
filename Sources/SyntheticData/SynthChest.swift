import Dispatch
import Datasets
import Foundation
import Support

/// Knobs of the synthetic chest-radiograph benchmark (lung-nodule detection), written as a generic
/// manifest. Groups are sex × age bins, keyed like ``GroupingSpec/sexAge`` ("female|>=60"). The
/// bias is an *acquisition* shift: by default 80 % of the images of the "female|>=60" group (10 %
/// of patients) come from a portable AP device (lower contrast, more noise, a brighter exposure,
/// a rotated, shifted and magnified field of view), against 10 % of everyone else's. The nodule is
/// drawn identically for every group (same size, brightness and placement), and so are the
/// distractors (vessel markings, elongated end-on vessels, ribs); prevalence is 0.30 everywhere
/// and 2 % of labels are flipped. The image depends on the device, never on the group.
public struct ChestSynthConfig: Codable, Sendable, Equatable {
  public static let groups = DermSynthConfig.groups

  /// Images to write (a patient may have several).
  public var count = 10_000
  public var width = 64
  public var height = 64
  public var seed: UInt64 = 0
  /// Share of patients per group (normalised).
  public var share: [String: Double] = [
    "male|<40": 0.16, "male|40-59": 0.20, "male|>=60": 0.18,
    "female|<40": 0.16, "female|40-59": 0.20, "female|>=60": 0.10,
  ]
  /// P(nodule) per group.
  public var prevalence: [String: Double] = [
    "male|<40": 0.30, "male|40-59": 0.30, "male|>=60": 0.30,
    "female|<40": 0.30, "female|40-59": 0.30, "female|>=60": 0.30,
  ]
  /// P(portable AP device) per group, drawn per image (the others are fixed-unit PA films).
  public var portable: [String: Double] = [
    "male|<40": 0.10, "male|40-59": 0.10, "male|>=60": 0.10,
    "female|<40": 0.10, "female|40-59": 0.10, "female|>=60": 0.80,
  ]
  /// How far a portable image departs from a PA one (0 = not at all, 1 = default): contrast
  /// × (1 − 0.35·s), exposure + 0.07·s, noise 0.02 + 0.03·s, rotation up to ±(2 + 6·s)°, shift up
  /// to ±(1.5 + 6·s) % of the frame, magnification 1 + 0.08·s (the heart a further 1 + 0.12·s).
  public var portableStrength = 1.0
  /// Nodule radius, as a fraction of the image width (profile exp(−(d/r)²)).
  public var noduleRadius = [0.06, 0.12]
  /// Mean peak brightening of a nodule (fraction of intensity; each draws ±25 %). End-on vessels
  /// reach 0.6–1.1 × this with radii of 2–4.5 % of the width.
  public var noduleContrast = 0.24
  /// Fraction of recorded labels flipped (the image keeps its true appearance; the report follows
  /// the recorded label).
  public var labelNoise = 0.02
  /// Mean images per patient (1 + geometric, at most 4); the anatomy and the nodule are the
  /// patient's, the device and view each image's.
  public var imagesPerPatient = 1.2
  /// Device shift of the external hospital (0 = none): noise + 0.015·s, contrast × (1 − 0.1·s),
  /// exposure − 0.03·s on both devices.
  public var deviceShift = 0.0

  public init() {}

  /// Another hospital, scaled by `strength` (0 = none, 1 = default): the portable device is used
  /// for 40 % of every group's images (each group's share moves toward 0.4), an older population
  /// (the ≥ 60 groups' shares × (1 + 0.5·s)) and other detectors (``deviceShift`` = s).
  public func external(strength s: Double = 1) -> ChestSynthConfig {
    var c = self
    for g in ChestSynthConfig.groups {
      let p = portable[g] ?? 0.1
      c.portable[g] = min(1, max(0, p + (0.4 - p) * s))
      if g.hasSuffix(">=60") { c.share[g] = (share[g] ?? 0) * (1 + 0.5 * s) }
    }
    c.deviceShift = s
    return c
  }

  func validate() throws {
    let (n, sizes) = (SyntheticModality.maxImages, SyntheticModality.chest.sizes)
    guard (1...n).contains(count) else { throw DataError.invalidArgument("--n must be in 1…\(n), got \(count)") }
    guard sizes.contains(width), sizes.contains(height) else {
      throw DataError.invalidArgument(
        "--size must be \(sizes.lowerBound)…\(sizes.upperBound) on each side, got \(width)x\(height)")
    }
    for (name, table) in [("--share", share), ("--prevalence", prevalence), ("--portable", portable)] {
      for (k, v) in table where !(v.isFinite && (0...1).contains(v)) {
        throw DataError.invalidArgument("\(name) \(k)=\(v) must be a number in 0…1")
      }
      for k in table.keys where !ChestSynthConfig.groups.contains(k) {
        throw DataError.invalidArgument(
          "synth chest: unknown group '\(k)' in \(name); groups are \(ChestSynthConfig.groups.joined(separator: ", "))")
      }
    }
    guard ChestSynthConfig.groups.contains(where: { (share[$0] ?? 0) > 0 }) else {
      throw DataError.invalidArgument("--share: at least one group needs a positive share")
    }
    guard (0...1).contains(labelNoise) else {
      throw DataError.invalidArgument("--label-noise must lie in 0…1, got \(labelNoise)")
    }
    guard portableStrength.isFinite, (0...3).contains(portableStrength), deviceShift.isFinite,
      (0...3).contains(deviceShift)
    else {
      throw DataError.invalidArgument(
        "--portable-strength and --external-shift must lie in 0…3, got \(portableStrength) and \(deviceShift)")
    }
    guard noduleRadius.count == 2, noduleRadius.allSatisfy({ $0.isFinite }), 0.01 <= noduleRadius[0],
      noduleRadius[0] <= noduleRadius[1], noduleRadius[1] <= 0.3
    else {
      throw DataError.invalidArgument("nodule radius must be [lo, hi] with 0.01 ≤ lo ≤ hi ≤ 0.3, got \(noduleRadius)")
    }
    guard noduleContrast.isFinite, (0...1).contains(noduleContrast) else {
      throw DataError.invalidArgument("--nodule-contrast must lie in 0…1, got \(noduleContrast)")
    }
    guard imagesPerPatient.isFinite, (1...4).contains(imagesPerPatient) else {
      throw DataError.invalidArgument("images per patient must lie in 1…4, got \(imagesPerPatient)")
    }
  }
}

/// One generated image's ground truth (also written to `synth_truth.csv`).
public struct ChestSynthRecord: Sendable, Equatable {
  public var imageID: String, patientID: String, group: String
  public var sex: String, age: Int
  public var trueLabel: Int, recordedLabel: Int
  /// Taken on the portable AP device (else on the fixed PA unit).
  public var portable: Bool
  /// The patient's anatomy stream and the image's view stream.
  var patient: Int, index: Int
}

/// A patient's thorax in the patient frame (u across, v down, both fractions of the frame; round
/// shapes use width units): body outline, lungs, heart, ribs, clavicles, vessels, end-on vessels
/// and the nodule site (drawn for every patient, shown only when the nodule is present).
struct ChestAnatomy {
  typealias Ellipse = (cx: Double, cy: Double, rx: Double, ry: Double)
  typealias Segment = (x0: Double, y0: Double, x1: Double, y1: Double, width: Double, amp: Double)
  var habitus: Double
  var lungs: [Ellipse]
  var heart: Ellipse
  var ribs: (frequency: Double, phase: Double, curve: Double)
  var lines: [Segment]  // clavicles, then vessel markings
  var spots: [(x: Double, y: Double, r: Double, elongation: Double, angle: Double, amp: Double)]
  var nodule: (x: Double, y: Double, r: Double, amp: Double, lung: Int)

  init(config c: ChestSynthConfig, rng: inout SeededRNG) {
    let habitus = rng.uniform(0.92, 1.06)
    var lungs: [Ellipse] = []
    for (side, cy) in [(-1.0, 0.46), (1.0, 0.48)] {
      lungs.append(
        (
          cx: 0.5 + side * 0.19 * habitus + rng.uniform(-0.012, 0.012), cy: cy + rng.uniform(-0.015, 0.015),
          rx: 0.15 * habitus * rng.uniform(0.93, 1.07), ry: 0.29 * rng.uniform(0.93, 1.07)
        ))
    }
    self.habitus = habitus
    self.lungs = lungs
    heart = (
      cx: 0.555 + rng.uniform(-0.012, 0.012), cy: 0.655 + rng.uniform(-0.015, 0.015),
      rx: 0.14 * habitus * rng.uniform(0.9, 1.12), ry: 0.115 * rng.uniform(0.9, 1.1)
    )
    ribs = (rng.uniform(8, 10.5), rng.uniform(0, 1), rng.uniform(0.6, 1.4))
    var lines: [Segment] = []
    for side in [-1.0, 1.0] {
      let y = rng.uniform(0.17, 0.21)
      lines.append((0.5 + side * 0.06, y, 0.5 + side * 0.31 * habitus, y - rng.uniform(0.04, 0.08), 0.018, 0.10))
    }
    for (k, lung) in lungs.enumerated() {
      let hx = 0.5 + (k == 0 ? -0.1 : 0.1) * habitus, hy = lung.cy + rng.uniform(-0.02, 0.03)
      for _ in 0..<(3 + rng.below(3)) {
        let a = (k == 0 ? Double.pi : 0) + rng.uniform(-1.2, 1.2), len = rng.uniform(0.07, 0.17)
        lines.append((hx, hy, hx + len * cos(a), hy + len * sin(a), rng.uniform(0.008, 0.014), rng.uniform(0.05, 0.09)))
      }
    }
    self.lines = lines
    spots = []
    for _ in 0..<(1 + rng.below(4)) {
      let s = Self.site(lungs, &rng)
      spots.append(
        (
          s.x, s.y, rng.uniform(0.02, 0.045), rng.uniform(1, 2.5), rng.uniform(0, .pi),
          c.noduleContrast * rng.uniform(0.6, 1.1)
        ))
    }
    let s = Self.site(lungs, &rng)
    nodule = (
      s.x, s.y, rng.uniform(c.noduleRadius[0], c.noduleRadius[1]), c.noduleContrast * rng.uniform(0.75, 1.25), s.lung
    )
  }

  /// A point well inside a lung (within 75 % of its radii), uniform over the ellipse; either lung.
  static func site(_ lungs: [Ellipse], _ rng: inout SeededRNG) -> (x: Double, y: Double, lung: Int) {
    let k = rng.below(2), l = lungs[k]
    let rho = 0.75 * rng.uniform().squareRoot(), phi = rng.uniform(0, 2 * .pi)
    return (l.cx + rho * l.rx * cos(phi), l.cy + rho * l.ry * sin(phi), k)
  }

  /// Where the nodule lies, as a report names it: the patient's side (image left = patient's
  /// right) and the zone (thirds of the lung's height).
  var noduleSite: (side: String, zone: String) {
    let l = lungs[nodule.lung]
    let t = (nodule.y - (l.cy - l.ry)) / (2 * l.ry)
    return (nodule.lung == 0 ? "right" : "left", t < 1.0 / 3 ? "upper" : t < 2.0 / 3 ? "mid" : "lower")
  }

  /// Attenuation-like intensity (0 black … 1 white) at patient-frame point (u, v); `aspect` =
  /// height / width, `heartScale` the device's magnification of the heart.
  @inline(__always)
  func intensity(_ u: Double, _ v: Double, aspect: Double, heartScale: Double, showNodule: Bool) -> Double {
    func soft(_ x: Double, _ w: Double) -> Double { min(1, max(0, x / w)) }
    let bx = (u - 0.5) / (0.47 * habitus), by = (v - 0.62) / 0.62
    var value = 0.06 + 0.50 * soft(1 - (bx * bx + by * by).squareRoot(), 0.04)
    value += 0.16 * soft(1 - abs(u - 0.5) / 0.06, 0.5) * soft(v - 0.06, 0.04)
    var lung = 0.0, lower = 0.0
    for l in lungs {
      let ex = (u - l.cx) / l.rx, ey = (v - l.cy) / l.ry
      let e2 = ex * ex + ey * ey
      if e2 < 1, soft(1 - e2.squareRoot(), 0.12) > lung { (lung, lower) = (soft(1 - e2.squareRoot(), 0.12), ey) }
    }
    if lung > 0 {
      // Darker apices, soft tissue over the bases; bright rib stripes.
      let du = u - 0.5
      let r = sin(2 * .pi * (ribs.frequency * (v + ribs.curve * du * du) + ribs.phase))
      value += lung * (-0.32 + 0.05 * lower + (r > 0 ? 0.07 * r * r : 0))
    }
    let hx = (u - heart.cx) / (heart.rx * heartScale), hy = (v - heart.cy) / (heart.ry * heartScale)
    let h2 = hx * hx + hy * hy
    if h2 < 1 {
      let inHeart = soft(1 - h2.squareRoot(), 0.1)
      value = value * (1 - inHeart) + 0.66 * inHeart
    }
    let y = v * aspect
    for (i, s) in lines.enumerated() {
      let ax = s.x1 - s.x0, ay = (s.y1 - s.y0) * aspect
      let px = u - s.x0, py = y - s.y0 * aspect
      let t = min(1, max(0, (px * ax + py * ay) / (ax * ax + ay * ay)))
      let dx = px - t * ax, dy = py - t * ay
      let q = (dx * dx + dy * dy) / (s.width * s.width)
      // Clavicles (the first two) lie over everything; vessel markings fade outward, in the lungs.
      if q < 9 { value += s.amp * exp(-q) * (i < 2 ? 1 : lung * (1 - 0.7 * t)) }
    }
    for s in spots {
      let dx = u - s.x, dy = y - s.y * aspect
      let a = (dx * cos(s.angle) + dy * sin(s.angle)) / (s.r * s.elongation)
      let b = (-dx * sin(s.angle) + dy * cos(s.angle)) / s.r
      let q = a * a + b * b
      if q < 9 { value += s.amp * exp(-q) }
    }
    if showNodule {
      let dx = u - nodule.x, dy = y - nodule.y * aspect
      let q = (dx * dx + dy * dy) / (nodule.r * nodule.r)
      if q < 9 { value += nodule.amp * exp(-q) }
    }
    return value
  }
}

/// One image's acquisition: field of view (rotation, shift, magnification), exposure, contrast and
/// noise. PA and portable AP differ only here, by ``ChestSynthConfig/portableStrength``.
struct ChestView {
  var rotation: Double, shift: (x: Double, y: Double), zoom: Double, heartScale: Double
  var contrast: Double, exposure: Double, noise: Double

  init(portable: Bool, config c: ChestSynthConfig, rng: inout SeededRNG) {
    let p = portable ? c.portableStrength : 0, s = c.deviceShift
    rotation = rng.uniform(-1, 1) * (2 + 6 * p) * .pi / 180
    let reach = 0.015 + 0.06 * p
    shift = (rng.uniform(-reach, reach), rng.uniform(-reach, reach))
    zoom = (1 + 0.08 * p) * rng.uniform(0.97, 1.03)
    heartScale = 1 + 0.12 * p
    contrast = (1 - 0.35 * p) * (1 - 0.1 * s)
    exposure = 0.07 * p - 0.03 * s + rng.uniform(-0.03, 0.03)
    noise = 0.02 + 0.03 * p + 0.015 * s
  }
}

/// Writes the synthetic chest-radiograph benchmark.
public enum SynthChest {
  /// What ``write(_:to:replacing:)`` writes into its folder; `replacing` removes these entries
  /// first, and nothing else.
  public static let outputNames = ["images", "manifest.csv", "synth_truth.csv", SyntheticModality.configFile]

  /// The manifest's columns: `sex` and `age` are the attributes (the default groups `sex,age`).
  static let manifestHeader = ["path", "label", "sex", "age", "patient_id", "id", "text"]

  /// Plans patients and images (metadata only; deterministic for the seed).
  public static func plan(_ config: ChestSynthConfig) -> [ChestSynthRecord] {
    var rng = SeededRNG(seed: config.seed, stream: 0xC0, 1)
    let groups = ChestSynthConfig.groups
    let shares = groups.map { max(0, config.share[$0] ?? 0) }
    var records: [ChestSynthRecord] = []
    records.reserveCapacity(config.count)
    var patient = 0
    while records.count < config.count {
      patient += 1
      let g = groups[rng.categorical(shares)]
      let (lo, hi) = g.hasSuffix("<40") ? (18, 40) : g.hasSuffix("40-59") ? (40, 60) : (60, 90)
      let age = lo + rng.below(hi - lo)
      let y = rng.bernoulli(config.prevalence[g] ?? 0.3) ? 1 : 0
      var views = 1
      while views < 4 && rng.bernoulli(1 - 1 / config.imagesPerPatient) { views += 1 }
      for _ in 0..<views where records.count < config.count {
        let portable = rng.bernoulli(config.portable[g] ?? 0.1)
        let recorded = rng.bernoulli(config.labelNoise) ? 1 - y : y
        records.append(
          ChestSynthRecord(
            imageID: String(format: "CXR_%07d", records.count + 1), patientID: String(format: "P%07d", patient),
            group: g, sex: g.hasPrefix("female") ? "female" : "male", age: age, trueLabel: y,
            recordedLabel: recorded, portable: portable, patient: patient, index: records.count))
      }
    }
    return records
  }

  static func anatomy(_ r: ChestSynthRecord, config: ChestSynthConfig) -> ChestAnatomy {
    var rng = SeededRNG(seed: config.seed, stream: 0xC1, UInt64(r.patient))
    return ChestAnatomy(config: config, rng: &rng)
  }

  /// Draws the grayscale radiograph of `r`: the patient's anatomy (with the nodule when the true
  /// label is 1) seen through the image's device and view. Group, sex and age are not inputs.
  public static func image(_ r: ChestSynthRecord, config: ChestSynthConfig) -> PixelImage {
    render(anatomy(r, config: config), record: r, config: config)
  }

  static func render(_ a: ChestAnatomy, record r: ChestSynthRecord, config c: ChestSynthConfig) -> PixelImage {
    var rng = SeededRNG(seed: c.seed, stream: 0xC2, UInt64(r.index))
    let view = ChestView(portable: r.portable, config: c, rng: &rng)
    let w = c.width, h = c.height, aspect = Double(h) / Double(w)
    let cr = cos(view.rotation), sr = sin(view.rotation)
    var px = [UInt8](repeating: 0, count: w * h)
    for y in 0..<h {
      // Image point in width units about the centre, less the shift; then undo rotation and zoom.
      let iy = ((Double(y) + 0.5) / Double(h) - 0.5 - view.shift.y) * aspect
      for x in 0..<w {
        let ix = (Double(x) + 0.5) / Double(w) - 0.5 - view.shift.x
        let pu = (ix * cr + iy * sr) / view.zoom, pv = (-ix * sr + iy * cr) / view.zoom
        let value = a.intensity(
          pu + 0.5, pv / aspect + 0.5, aspect: aspect, heartScale: view.heartScale, showNodule: r.trueLabel == 1)
        // Near-Gaussian noise: four 16-bit slices of one draw (Irwin–Hall, scaled to sd 1).
        let bits = rng.next()
        var sum = 0.0
        for k in 0..<4 { sum += Double((bits >> (16 * UInt64(k))) & 0xFFFF) }
        let n = (sum / 65535 - 2) * 3.0.squareRoot()
        let out = 0.45 + (value - 0.45) * view.contrast + view.exposure + view.noise * n
        px[y * w + x] = UInt8(max(0, min(255, (out * 255).rounded())))
      }
    }
    return PixelImage(width: w, height: h, channels: 1, pixels: px)
  }

  /// A short radiology report of `r`'s recorded label: projection, finding (with the nodule's
  /// site), sometimes one incidental normal. It names neither sex nor age.
  static func report(_ r: ChestSynthRecord, anatomy a: ChestAnatomy, rng: inout SeededRNG) -> String {
    func pick(_ options: [String]) -> String { options[rng.below(options.count)] }
    let projection =
      r.portable
      ? pick(["Portable AP chest radiograph.", "AP portable view of the chest.", "Portable AP film."])
      : pick(["PA chest radiograph.", "PA view of the chest.", "Frontal PA radiograph."])
    let (side, zone) = a.noduleSite
    let finding =
      r.recordedLabel == 1
      ? pick([
        "Solitary pulmonary nodule in the \(side) \(zone) zone.",
        "Rounded opacity in the \(side) \(zone) zone, suspicious for a nodule.",
        "Well-circumscribed nodular opacity projecting over the \(side) \(zone) zone.",
        "A \(side) \(zone) zone nodule is noted; CT recommended.",
      ])
      : pick([
        "No focal lesion.", "Lungs are clear; no nodule or mass.", "No suspicious pulmonary opacity.",
        "No focal consolidation or nodule.",
      ])
    let extra = pick([
      "", "", "", "Heart size is normal.", "No pleural effusion.", "Costophrenic angles are clear.",
      "Bony thorax unremarkable.",
    ])
    return [projection, finding, extra].filter { !$0.isEmpty }.joined(separator: " ")
  }

  /// What one worker wrote for one image (report text and nodule truth).
  struct Written: Sendable { var report = "", nodule = ["", "", ""] }

  /// Writes `images/CXR_XXXXXXX.png` (8-bit gray), `manifest.csv` (`path,label,sex,age,patient_id,id,text`;
  /// load it as `manifest:DIR/manifest.csv`), `synth_truth.csv` (group, device, true label, nodule
  /// site in patient-frame fractions) and, last, `synth_config.json`. The CSV and JSON files are
  /// written atomically.
  @discardableResult
  public static func write(_ config: ChestSynthConfig, to dir: String, replacing: Bool = false) throws
    -> [ChestSynthRecord]
  {
    try config.validate()
    if replacing { try OutputPath.remove(outputNames, in: dir) }
    try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
    let records = plan(config)
    var written = [Written](repeating: Written(), count: records.count)
    let failure = ErrorSlot()
    let chunk = 64
    written.withUnsafeMutableBufferPointer { buffer in
      guard let out = DisjointWrites(buffer) else { return }
      DispatchQueue.concurrentPerform(iterations: (records.count + chunk - 1) / chunk) { c in
        for i in (c * chunk)..<min(records.count, (c + 1) * chunk) {
          let r = records[i]
          let a = anatomy(r, config: config)
          var rng = SeededRNG(seed: config.seed, stream: 0xC3, UInt64(r.index))
          out[i] = Written(
            report: report(r, anatomy: a, rng: &rng),
            nodule: r.trueLabel == 1
              ? [a.nodule.x, a.nodule.y, a.nodule.r].map { String(format: "%.4f", $0) }
              : [
                "", "", "",
              ])
          do {
            let png = try ImageCodec.encodePNG(render(a, record: r, config: config))
            try png.write(to: URL(fileURLWithPath: "\(dir)/images/\(r.imageID).png"))
          } catch {
            failure.set(error)
          }
        }
      }
    }
    if let e = failure.error { throw e }
    try AtomicWrite.file(
      CSVTable.render(
        header: [
          "image_id", "patient_id", "group", "device", "true_label", "recorded_label", "nodule_x", "nodule_y",
          "nodule_radius",
        ],
        rows: zip(records, written).map { r, w in
          [r.imageID, r.patientID, r.group, r.portable ? "AP" : "PA", String(r.trueLabel), String(r.recordedLabel)]
            + w.nodule
        }),
      to: "\(dir)/synth_truth.csv")
    try AtomicWrite.file(
      CSVTable.render(
        header: manifestHeader,
        rows: zip(records, written).map { r, w in
          ["images/\(r.imageID).png", String(r.recordedLabel), r.sex, String(r.age), r.patientID, r.imageID, w.report]
        }),
      to: "\(dir)/manifest.csv")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicWrite.file(try encoder.encode(config), to: "\(dir)/" + SyntheticModality.configFile)
    return records
  }
}
