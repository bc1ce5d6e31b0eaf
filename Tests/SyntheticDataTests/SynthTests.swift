import Foundation
import TestSupport
import Testing
import Datasets
import Fairness
@testable import SyntheticData

@Suite struct SynthTests {
  func small(_ n: Int = 1200) -> DermSynthConfig {
    var c = DermSynthConfig()
    c.count = n
    c.width = 24
    c.height = 24
    c.seed = 3
    return c
  }

  @Test func planKnobsMoveTheirStatistics() {
    var c = small(6000)
    let base = SynthDerm.plan(c)
    func share(_ r: [DermSynthRecord], _ g: String) -> Double {
      Double(r.filter { $0.group == g }.count) / Double(r.count)
    }
    func prevalence(_ r: [DermSynthRecord], _ g: String) -> Double {
      let x = r.filter { $0.group == g }
      return Double(x.filter { $0.trueLabel == 1 }.count) / Double(x.count)
    }
    #expect(abs(share(base, "female|<40") - 0.08) < 0.02)
    #expect(abs(prevalence(base, "male|>=60") - 0.30) < 0.05)
    let noise = Double(base.filter { $0.trueLabel != $0.recordedLabel }.count) / Double(base.count)
    #expect(abs(noise - 0.02) < 0.01)
    // Subtler lesions in the minority group: malignant cues scale with its signal strength.
    let cue = { (r: [DermSynthRecord], g: String) -> Double in
      let x = r.filter { $0.group == g && $0.trueLabel == 1 }.map(\.cue)
      return x.reduce(0, +) / Double(x.count)
    }
    #expect(abs(cue(base, "female|<40") / cue(base, "male|40-59") - 0.35) < 0.08)
    c.share["female|<40"] = 0.3
    c.prevalence["female|<40"] = 0.7
    c.labelNoise = 0.1
    let moved = SynthDerm.plan(c)
    #expect(share(moved, "female|<40") > 0.2 && prevalence(moved, "female|<40") > 0.5)
    #expect(Double(moved.filter { $0.trueLabel != $0.recordedLabel }.count) / Double(moved.count) > 0.07)
    // Several images per lesion, on average ≈ imagesPerLesion.
    let perLesion = Double(base.count) / Double(Set(base.map(\.lesionID)).count)
    #expect(abs(perLesion - 1.35) < 0.1)
  }

  @Test func imagesCarryTheCuesAndTheCovariateShift() {
    // Colour variegation (spread of the lesion's pixels) grows with the cue; brightness shift shows.
    var c = small()
    c.signal["female|<40"] = 1
    let records = SynthDerm.plan(c)
    func spread(_ img: PixelImage) -> Double {
      var lum: [Double] = []
      for i in stride(from: 0, to: img.pixels.count, by: 3) {
        let r = Double(img.pixels[i]), g = Double(img.pixels[i + 1]), b = Double(img.pixels[i + 2])
        lum.append(r + g + b)
      }
      let dark = lum.sorted().prefix(lum.count / 5)  // the lesion's darkest fifth
      return dark.reduce(0, +) / Double(dark.count)
    }
    func meanDarkness(label: Int, cue: ClosedRange<Double>) -> Double {
      let idx = records.indices.filter { records[$0].trueLabel == label && cue.contains(records[$0].cue) }.prefix(40)
      return idx.map { spread(SynthDerm.image(records, $0, config: c)) }.reduce(0, +) / Double(idx.count)
    }
    // Malignant lesions with strong cues have darker cores than benign ones.
    #expect(meanDarkness(label: 1, cue: 0.7...1) < meanDarkness(label: 0, cue: 0...0.2) - 20)
    func meanBrightness(_ g: String) -> Double {
      let idx = records.indices.filter { records[$0].group == g && records[$0].trueLabel == 0 }.prefix(40)
      var total = 0.0
      for i in idx {
        let p = SynthDerm.image(records, i, config: c).pixels
        total += Double(p.reduce(0) { $0 + Int($1) }) / Double(p.count)
      }
      return total / Double(idx.count)
    }
    #expect(meanBrightness("female|<40") > meanBrightness("male|40-59") + 3)
  }

  @Test func dermWritesBothLayoutsThatTheLoadersRead() throws {
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var c = small(120)
    c.missingRate = 0.1
    let records = try SynthDerm.write(c, to: dir + "/ham")
    let ham = try HAM10000.load(directory: dir + "/ham")
    #expect(ham.count == 120 && ham.summary.unknownValues.values.reduce(0, +) > 0)
    let byID = Dictionary(uniqueKeysWithValues: ham.samples.map { ($0.id, $0) })
    for r in records { #expect(byID[r.imageID]!.label == r.recordedLabel && byID[r.imageID]!.groupID == r.lesionID) }
    #expect(try ham.samples[0].source.load().width == 24)
    // Deterministic for a seed.
    try SynthDerm.write(c, to: dir + "/again")
    #expect(
      FileManager.default.contents(atPath: dir + "/ham/HAM10000_metadata.csv")
        == FileManager.default.contents(atPath: dir + "/again/HAM10000_metadata.csv"))
    #expect(
      FileManager.default.contents(atPath: dir + "/ham/HAM10000_images_part_1/ISIC_1000005.jpg")
        == FileManager.default.contents(atPath: dir + "/again/HAM10000_images_part_1/ISIC_1000005.jpg"))
    // External: BCN20000 layout, shifted prevalence.
    var e = small(600).external()
    e.count = 300
    try SynthDerm.write(e, to: dir + "/bcn", external: true)
    let bcn = try BCN20000.load(directory: dir + "/bcn")
    #expect(bcn.count == 300)
    let internalRate = Double(ham.samples.filter { $0.label == 1 }.count) / Double(ham.count)
    let externalRate = Double(bcn.samples.filter { $0.label == 1 }.count) / Double(bcn.count)
    #expect(externalRate > internalRate)
    var bad = small(10)
    bad.signal["female|under40"] = 1
    #expect(throws: DataError.self) { try SynthDerm.write(bad, to: dir + "/bad") }
  }

  @Test func fundusWritesFairVLMedLayout() throws {
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var c = FundusSynthConfig()
    c.count = 200
    c.width = 32
    c.height = 32
    c.seed = 2
    try SynthFundus.write(c, to: dir)
    let d = try FairVLMed.load(directory: dir)
    #expect(
      d.count == 200 && d.split("train").count == 140 && d.split("val").count == 20 && d.split("test").count == 40)
    #expect(d.samples.allSatisfy { $0.text != nil })
    let white = d.samples.filter { $0.attributes["race"] == "white" }.count
    #expect(white > 120)
    // The cup-to-disc ratio carries the label: the bright cup is larger in glaucoma.
    func brightArea(_ s: Sample) throws -> Int { try s.source.load().pixels.filter { $0 > 200 }.count }
    let pos = try d.samples.filter { $0.label == 1 && $0.attributes["race"] == "white" }.prefix(20).map(brightArea)
    let neg = try d.samples.filter { $0.label == 0 && $0.attributes["race"] == "white" }.prefix(20).map(brightArea)
    let posMean: Double = Double(pos.reduce(0, +)) / Double(pos.count)
    let negMean: Double = Double(neg.reduce(0, +)) / Double(neg.count)
    #expect(posMean > 1.5 * negMean)
  }

  @Test func underdiagnosisRecordsPositivesOfOneGroupAsNegativeAndRefusesBadRates() throws {
    var c = DermSynthConfig()
    c.count = 3000
    let clean = SynthDerm.plan(c)
    c.underdiagnosis = ["female|<40": 0]
    // A zero rate draws nothing: the benchmark keeps its data.
    #expect(SynthDerm.plan(c).map(\.recordedLabel) == clean.map(\.recordedLabel))
    c.underdiagnosis = ["female|<40": 1]
    let minority = SynthDerm.plan(c).filter { $0.group == "female|<40" }
    // Every malignant lesion of the group is recorded benign; the images keep their true label.
    #expect(
      minority.contains { $0.trueLabel == 1 } && minority.allSatisfy { $0.recordedLabel == 0 || $0.trueLabel == 0 })
    #expect(minority.filter { $0.trueLabel == 1 }.allSatisfy { $0.recordedLabel == 0 })
    for bad in [["female|<40": 1.5], ["female|<40": .nan], ["nobody": 0.5]] {
      var d = DermSynthConfig()
      d.underdiagnosis = bad
      #expect(throws: DataError.self) { try d.validate() }
    }
  }
}

@Suite struct ChestSynthTests {
  func small(_ n: Int = 200) -> ChestSynthConfig {
    var c = ChestSynthConfig()
    c.count = n
    c.width = 32
    c.height = 32
    c.seed = 5
    return c
  }

  static func share(_ r: [ChestSynthRecord], _ g: String) -> Double {
    Double(r.filter { $0.group == g }.count) / Double(r.count)
  }
  static func portableShare(_ r: [ChestSynthRecord], _ include: (String) -> Bool) -> Double {
    let x = r.filter { include($0.group) }
    return Double(x.filter(\.portable).count) / Double(x.count)
  }

  @Test func planKnobsMoveTheirStatistics() {
    var c = small(8000)
    let base = SynthChest.plan(c)
    let biased = "female|>=60"
    #expect(base.count == 8000)
    #expect(abs(Self.share(base, biased) - 0.10) < 0.02)
    #expect(abs(Double(base.filter { $0.trueLabel == 1 }.count) / 8000 - 0.30) < 0.03)
    // The acquisition bias: most of the subgroup's images are portable, few of everyone else's.
    #expect(abs(Self.portableShare(base) { $0 == biased } - 0.80) < 0.06)
    #expect(abs(Self.portableShare(base) { $0 != biased } - 0.10) < 0.02)
    let noise = Double(base.filter { $0.trueLabel != $0.recordedLabel }.count) / 8000
    #expect(abs(noise - 0.02) < 0.01)
    let perPatient = 8000 / Double(Set(base.map(\.patientID)).count)
    #expect(abs(perPatient - 1.2) < 0.05)
    // Ages fall in the group's bin; a patient's images share group, age and true label.
    #expect(
      base.allSatisfy {
        $0.group.hasSuffix(">=60") ? $0.age >= 60 : $0.group.hasSuffix("<40") ? $0.age < 40 : (40..<60).contains($0.age)
      })
    let byPatient = Dictionary(grouping: base, by: \.patientID)
    #expect(byPatient.values.allSatisfy { Set($0.map { "\($0.group) \($0.age) \($0.trueLabel)" }).count == 1 })
    c.share[biased] = 0.3
    c.prevalence[biased] = 0.6
    c.portable[biased] = 0.3
    c.labelNoise = 0.1
    let moved = SynthChest.plan(c)
    #expect(Self.share(moved, biased) > 0.2)
    #expect(abs(Self.portableShare(moved) { $0 == biased } - 0.3) < 0.05)
    let minority = moved.filter { $0.group == biased }
    #expect(Double(minority.filter { $0.trueLabel == 1 }.count) / Double(minority.count) > 0.5)
    #expect(Double(moved.filter { $0.trueLabel != $0.recordedLabel }.count) / 8000 > 0.07)
    // The external hospital: the portable device for 40 % of every group, an older population.
    let external = SynthChest.plan(small(8000).external())
    #expect(abs(Self.portableShare(external) { $0 == biased } - 0.4) < 0.06)
    #expect(abs(Self.portableShare(external) { $0 != biased } - 0.4) < 0.03)
    #expect(Double(external.filter { $0.age >= 60 }.count) > 1.3 * Double(base.filter { $0.age >= 60 }.count))
    #expect(small().external(strength: 0) == small())
  }

  @Test func writesAManifestTheLoaderReadsAndIsDeterministic() throws {
    let dir = freshDirectory("chest")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let records = try SynthChest.write(small(), to: dir + "/a")
    let d = try DatasetKind.load("manifest:\(dir)/a/manifest.csv")
    #expect(d.count == 200 && d.classNames == ["0", "1"])
    #expect(d.defaultGroups == GroupingSpec.sexAge)
    #expect(d.samples.allSatisfy { Set($0.attributes.keys) == ["sex", "age"] })
    #expect(Set(d.samples.map { d.defaultGroups.key($0) }) == Set(ChestSynthConfig.groups))
    let byID = Dictionary(uniqueKeysWithValues: d.samples.map { ($0.id, $0) })
    for r in records {
      let s = byID[r.imageID]!
      #expect(s.label == r.recordedLabel && s.groupID == r.patientID && d.defaultGroups.key(s) == r.group)
    }
    // Reports follow the recorded label, vary in wording and never name sex or age.
    let texts = d.samples.compactMap(\.text)
    #expect(texts.count == 200 && Set(texts).count > 20)
    #expect(texts.allSatisfy { !$0.lowercased().contains("male") && !$0.contains(where: \.isNumber) })
    #expect(d.samples.allSatisfy { ($0.label == 1) == $0.text!.contains("zone") })
    let image = try d.samples[0].source.load()
    #expect(image.width == 32 && image.height == 32 && image.channels == 1)
    // Same seed, same bytes.
    try SynthChest.write(small(), to: dir + "/b")
    for file in ["manifest.csv", "synth_truth.csv", "images/CXR_0000007.png", "images/CXR_0000200.png"] {
      let a = FileManager.default.contents(atPath: "\(dir)/a/\(file)")
      #expect(a != nil && a == FileManager.default.contents(atPath: "\(dir)/b/\(file)"), "\(file)")
    }
    // `replacing` removes what the benchmark wrote, and nothing else.
    try "mine\n".write(toFile: dir + "/a/notes.txt", atomically: true, encoding: .utf8)
    try SynthChest.write(small(50), to: dir + "/a", replacing: true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a/images").count == 50)
    #expect(FileManager.default.fileExists(atPath: dir + "/a/notes.txt"))
    var bad = small(10)
    bad.portable["female|over60"] = 0.5
    #expect(throws: DataError.self) { try SynthChest.write(bad, to: dir + "/bad") }
  }

  @Test func theAcquisitionShiftChangesTheImagesButNotTheNodule() {
    let c = small(3000)
    let records = SynthChest.plan(c)
    // The image depends on the device, never on the group.
    for var r in records.prefix(5) {
      let image = SynthChest.image(r, config: c).pixels
      (r.group, r.sex, r.age) = ("female|>=60", "female", 75)
      #expect(SynthChest.image(r, config: c).pixels == image)
    }
    func contrast(_ p: [UInt8]) -> Double {
      let mean = Double(p.reduce(0) { $0 + Int($1) }) / Double(p.count)
      return (p.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(p.count)).squareRoot()
    }
    func meanContrast(_ include: (ChestSynthRecord) -> Bool) -> Double {
      let x = records.filter(include).prefix(60)
      return x.map { contrast(SynthChest.image($0, config: c).pixels) }.reduce(0, +) / Double(x.count)
    }
    let biased = meanContrast { $0.group == "female|>=60" }
    let others = meanContrast { $0.group != "female|>=60" }
    #expect(biased < 0.85 * others)
    #expect(meanContrast { $0.portable } < 0.75 * meanContrast { !$0.portable })
    // The nodule (the image with it less the image without it, same patient and view) peaks as
    // high in every group on the same device; the portable device's lower contrast dims it.
    func nodule(_ r: ChestSynthRecord) -> Double {
      var without = r
      without.trueLabel = 0
      let a = SynthChest.image(r, config: c).pixels, b = SynthChest.image(without, config: c).pixels
      return Double(zip(a, b).map { Int($0) - Int($1) }.max()!)
    }
    func meanNodule(_ group: (String) -> Bool, portable: Bool?) -> Double {
      let x = records.filter { $0.trueLabel == 1 && group($0.group) }.prefix(150).map { r -> ChestSynthRecord in
        var r = r
        if let p = portable { r.portable = p }
        return r
      }
      return x.map(nodule).reduce(0, +) / Double(x.count)
    }
    let pa = meanNodule({ $0 == "female|>=60" }, portable: false)
    let paOthers = meanNodule({ $0 != "female|>=60" }, portable: false)
    #expect(pa > 30 && abs(pa / paOthers - 1) < 0.1)
    #expect(meanNodule({ $0 == "female|>=60" }, portable: nil) < 0.85 * pa)
    #expect(meanNodule({ _ in true }, portable: true) < 0.75 * meanNodule({ _ in true }, portable: false))
  }
}
