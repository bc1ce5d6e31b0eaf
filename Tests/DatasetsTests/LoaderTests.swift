import Fairness
import Foundation
import TestSupport
import Testing
@testable import Datasets

@Suite struct LoaderTests {
  /// A header naming a column twice is refused with both positions (issue 24: a manifest with
  /// two `label` columns silently used the first), for every reader built on CSVTable.
  @Test func aColumnNamedTwiceInTheHeaderIsRefused() throws {
    let dir = freshDirectory("dup")
    let path = dir + "/manifest.csv"
    try "path,label,sex,label\na.png,0,female,1\n".write(toFile: path, atomically: true, encoding: .utf8)
    let expected = DataError.badRow(
      file: path, row: 1, reason: "column 'label' appears twice in the header (columns 2 and 4): rename or remove one")
    #expect(throws: expected) { try CSVTable(contentsOf: path) }
    #expect(throws: expected) { try DatasetKind.load("manifest:" + path) }
    // Empty header names (a trailing comma) are not a repeated column.
    try "path,label,,\na.png,0,,\n".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try CSVTable(contentsOf: path).header == ["path", "label", "", ""])
  }

  @Test func ham10000BothFoldersAndLabelMaps() throws {
    let d = try HAM10000.load(directory: fixturePath("ham10000"))
    #expect(d.count == 8 && d.classNames == ["benign", "malignant"])
    #expect(d.samples.filter { $0.label == 1 }.map(\.id).sorted() == ["ISIC_0025837", "ISIC_0026769", "ISIC_0029176"])
    let mel = d.samples.first { $0.id == "ISIC_0026769" }!
    #expect(
      mel.attributes["sex"] == "female" && mel.attributes["age"] == "35" && mel.attributes["dataset"] == "rosendahl")
    #expect(mel.groupID == "HAM_0002730" && d.defaultGroups.key(mel) == "female|<40")
    // Images found in part_2 too, and decodable.
    let part2 = d.samples.first { $0.id == "ISIC_0029396" }!
    #expect(part2.source.description.contains("part_2"))
    #expect(try part2.source.load().width == 8)
    // Missing age and unknown sex are kept as "unknown" and counted.
    #expect(d.summary.unknownValues["age"] == 1 && d.summary.unknownValues["sex"] == 1)
    #expect(d.defaultGroups.key(d.samples.first { $0.id == "ISIC_0031633" }!) == "female|unknown")
    let medfair = try HAM10000.load(directory: fixturePath("ham10000"), labels: .malignantMedfair)
    #expect(medfair.samples.filter { $0.label == 1 }.count == 2)  // bcc is benign there
    let seven = try HAM10000.load(directory: fixturePath("ham10000"), labels: .dx)
    #expect(seven.classNames.count == 7 && seven.samples.first { $0.id == "ISIC_0029396" }!.label == 6)
    // Dropping rows with unknown sex, by explicit policy.
    let dropped = try HAM10000.load(directory: fixturePath("ham10000"), options: LoadOptions(dropUnknownIn: ["sex"]))
    #expect(dropped.count == 7 && dropped.summary.skipped["unknown sex"] == 1)
  }

  @Test func ham10000BadRowsFailOrAreCounted() throws {
    let dir = copyOfFixture("ham10000")
    defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
    let meta = dir + "/HAM10000_metadata.csv"
    rewrite(meta) {
      $0.replacingOccurrences(of: ",df,", with: ",xyz,").replacingOccurrences(of: ",70.0,", with: ",seventy,")
    }
    try FileManager.default.removeItem(atPath: dir + "/HAM10000_images_part_1/ISIC_0027419.jpg")
    do {
      _ = try HAM10000.load(directory: dir)
      Issue.record("bad rows were accepted")
    } catch let error as DataError {
      // The first bad row (file row 2: missing image) is named with its file.
      #expect(error == .badRow(file: meta, row: 2, reason: "image ISIC_0027419.jpg not found in \(dir)"))
    }
    let skip = LoadOptions(onBadRow: .skip, onMissingImage: .skip)
    let d = try HAM10000.load(directory: dir, options: skip)
    #expect(d.count == 5)
    #expect(d.summary.skipped == ["missing image": 1, "unknown dx": 1, "unparsable age": 1])
    #expect(d.summary.skippedExamples.contains { $0.contains("row 8") && $0.contains("unknown dx 'xyz'") })
    #expect(d.summary.skippedExamples.contains { $0.contains("row 7") && $0.contains("unparsable age 'seventy'") })
    #expect(throws: DataError.badRow(file: meta, row: 7, reason: "unparsable age 'seventy'")) {
      try HAM10000.load(directory: dir, options: LoadOptions(onMissingImage: .skip))
    }
    rewrite(meta) {  // a copy of the row of ISIC_0025030, right under the header
      $0.replacingOccurrences(
        of: "dataset\n", with: "dataset\nHAM_0000118,ISIC_0025030,bkl,histo,80.0,male,scalp,vidir_modern\n")
    }
    #expect(throws: DataError.badRow(file: meta, row: 4, reason: "duplicate image_id ISIC_0025030")) {
      try HAM10000.load(directory: dir, options: LoadOptions(onMissingImage: .skip))
    }
    #expect(try HAM10000.load(directory: dir, options: skip).summary.skipped["duplicate id"] == 1)
    rewrite(meta) { $0.replacingOccurrences(of: "localization", with: "site") }
    #expect(throws: DataError.missingColumn(file: meta, column: "localization")) {
      try HAM10000.load(directory: dir, options: skip)
    }
  }

  @Test func bcn20000JoinsGroundTruth() throws {
    let d = try BCN20000.load(directory: fixturePath("bcn20000"))
    #expect(d.count == 5)
    let byID = Dictionary(uniqueKeysWithValues: d.samples.map { ($0.id, $0) })
    #expect(byID["ISIC_0000001"]!.label == 1 && byID["ISIC_0000002"]!.label == 1 && byID["ISIC_0000000"]!.label == 0)
    #expect(byID["ISIC_0000002"]!.attributes["dx"] == "akiec")  // SCC
    #expect(byID["ISIC_0000000"]!.attributes["localization"] == "anterior torso")
    #expect(byID["ISIC_0000003"]!.attributes["age"] == "unknown" && byID["ISIC_0000003"]!.groupID == nil)
    #expect(d.defaultGroups.key(byID["ISIC_0000001"]!) == "female|<40")
    let dx = try BCN20000.load(directory: fixturePath("bcn20000"), labels: .dx)
    #expect(dx.samples.first { $0.id == "ISIC_0000004" }!.label == DermLabelMap.dxCodes.firstIndex(of: "bcc"))
  }

  @Test func bcn20000UnknownDiagnosisNamesTheRow() throws {
    let dir = copyOfFixture("bcn20000")
    defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
    let gt = dir + "/ISIC_2019_Training_GroundTruth.csv"
    rewrite(gt) { text in
      var lines = text.split(separator: "\n").map(String.init)
      lines[3] = "ISIC_0000002,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,1.0"  // UNK
      return lines.joined(separator: "\n") + "\n"
    }
    #expect(throws: DataError.badRow(file: gt, row: 4, reason: "diagnosis UNK has no HAM10000 equivalent")) {
      try BCN20000.load(directory: dir)
    }
    #expect(try BCN20000.load(directory: dir, options: LoadOptions(onBadRow: .skip)).count == 4)
  }

  @Test func bcn20000UnreadableGroundTruthCellNamesTheColumn() throws {
    let dir = copyOfFixture("bcn20000")
    defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
    let gt = dir + "/ISIC_2019_Training_GroundTruth.csv"
    var header = ""
    rewrite(gt) { text in
      var lines = text.split(separator: "\n").map(String.init)
      header = lines[0]
      var cells = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      cells[1] = "abc"  // read as 0 before
      lines[3] = cells.joined(separator: ",")
      return lines.joined(separator: "\n") + "\n"
    }
    let column = header.split(separator: ",")[1]
    #expect(throws: DataError.badRow(file: gt, row: 4, reason: "column \(column): 'abc' is not a number in 0…1")) {
      try BCN20000.load(directory: dir)
    }
  }

  /// Demographic codes that are no integer index (inf, 1e20, 2.5) are unknown, never a trap or a neighbour's name.
  @Test func fairVLMedCodesThatAreNoIndexAreUnknown() throws {
    let dir = copyOfFixture("fairvlmed")
    defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
    let path = dir + "/Training/data_00001.npz"
    var arrays = try Npz.read(path: path)
    for (key, value) in [("race", Double.infinity), ("gender", 1e20), ("language", 2.5), ("age", .infinity)] {
      arrays[key] = .scalar(value)
    }
    try Npz.write(arrays.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: path)
    let s = try #require(try FairVLMed.load(directory: dir).samples.first { $0.id == "data_00001" })
    #expect(s.attributes["race"] == "unknown" && s.attributes["gender"] == "unknown")
    #expect(s.attributes["language"] == "unknown" && s.attributes["age"] == "unknown")
  }

  @Test func fairVLMedSplitsKeysAndNotes() throws {
    let d = try FairVLMed.load(directory: fixturePath("fairvlmed"))
    #expect(d.count == 4 && d.splitNames == ["train", "val", "test"])
    let s1 = d.samples.first { $0.id == "data_00001" }!
    #expect(s1.label == 1 && s1.split == "train")
    #expect(s1.attributes["gender"] == "female" && s1.attributes["race"] == "white" && s1.attributes["age"] == "67")
    #expect(s1.attributes["maritalstatus"] == "single")
    #expect(s1.text == "summary one, with comma")  // the summarised-notes CSV wins
    let s2 = d.samples.first { $0.id == "data_00002" }!
    #expect(s2.text == "patient 2: c/d 0.5, ☺ ok")  // not in the CSV: the npz note
    #expect(s2.attributes["language"] == "unknown")  // −1
    #expect(d.samples.first { $0.id == "data_00004" }!.attributes["maritalstatus"] == "unknown")
    let img = try s2.source.load()
    #expect(img.width == 16 && img.height == 20 && img.channels == 1 && img[1, 0, 0] == UInt8((16 * 3) % 256))
    #expect(d.defaultGroups.key(s1) == ">=60|female|white")
  }

  @Test func fairVLMedTruncatedArchiveIsABadRow() throws {
    let dir = copyOfFixture("fairvlmed")
    defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
    try FileManager.default.copyItem(atPath: fixturePath("bad/truncated.npz"), toPath: dir + "/Test/data_00009.npz")
    do {
      _ = try FairVLMed.load(directory: dir)
      Issue.record("truncated npz accepted")
    } catch let error as DataError {
      #expect(error.description.contains("data_00009.npz"))
    }
    let d = try FairVLMed.load(directory: dir, options: LoadOptions(onBadRow: .skip))
    #expect(d.count == 4 && d.summary.skipped["unreadable npz"] == 1)
  }

  @Test func aManifestLabelBeyondTheClassLimitNamesItsRow() throws {
    let dir = freshDirectory("manifest-label")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let csv = dir + "/m.csv"
    try "path,label,sex\na.png,0,female\nb.png,9223372036854775807,male\n".write(
      toFile: csv, atomically: true, encoding: .utf8)
    #expect(
      throws: DataError.badRow(
        file: csv, row: 3,
        reason:
          "column label: 9223372036854775807 is above 9999; integer labels name classes 0, 1, …, one prompt each")
    ) { try DatasetKind.load("manifest:" + csv) }
  }

  @Test func manifestRelativePathsAndText() throws {
    let d = try DatasetKind.load("manifest:" + fixturePath("manifest/manifest.csv"))
    #expect(d.classNames == ["normal", "pneumonia"] && d.count == 3)
    let a = d.samples[0]
    #expect(a.label == 1 && a.text == "left lung opacity" && a.groupID == "P1" && a.attributes["sex"] == "female")
    #expect(d.samples[1].text == "clear, no findings" && d.samples[2].text == nil)
    #expect(d.samples[2].attributes["sex"] == "unknown")
    #expect(try d.samples[1].source.load().channels == 1)
    #expect(d.defaultGroups.key(a) == "female|<40")
    #expect(throws: DataError.self) { try DatasetKind.load("nonsense:/tmp") }
  }

  @Test func csvQuotesAndFieldCounts() throws {
    let rows = CSVTable.parse("a,b\n\"x, \"\"y\"\"\",2\r\n\"multi\nline\",3\n")
    #expect(rows == [["a", "b"], ["x, \"y\"", "2"], ["multi\nline", "3"]])
    let dir = freshDirectory("data")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "path,label\nx.jpg,1,extra\n".write(toFile: dir + "/m.csv", atomically: true, encoding: .utf8)
    #expect(throws: DataError.badRow(file: dir + "/m.csv", row: 2, reason: "3 fields, header has 2")) {
      try CSVTable(contentsOf: dir + "/m.csv")
    }
  }

  @Test func groupsNamingAMissingAttributeAreRefused() throws {
    let d = Dataset(
      name: "toy.csv", classNames: ["0", "1"],
      samples: [Sample(id: "a", source: .file("a.png"), label: 0, attributes: ["sex": "female", "age": "30"])],
      defaultGroups: .sexAge)
    #expect(throws: AuditError.self) { try GroupingSpec(parsing: "sex,ethnicity").validate(d) }
    do { try GroupingSpec(parsing: "sex,ethnicity").validate(d) } catch {
      #expect("\(error)".contains("'ethnicity' is not an attribute of toy.csv (it has: age, sex)"))
    }
    let bad = Dataset(
      name: "toy.csv", classNames: ["0", "1"],
      samples: [Sample(id: "a", source: .file("a.png"), label: 0, attributes: ["sex": "female", "age": "thirty"])],
      defaultGroups: .sexAge)
    #expect(throws: AuditError.self) { try GroupingSpec.sexAge.validate(bad) }
  }
}

@Suite struct DatasetCardTests {
  @Test func cardCountsSplitsAndWarns() throws {
    let d = try HAM10000.load(directory: fixturePath("ham10000"))
    let card = DatasetCard.render(d, batchSize: 4, imageProbe: 8)
    #expect(card.contains("samples: 8"))
    #expect(card.contains("showing a seeded split"))
    #expect(card.contains("missing/unknown values: age 1, sex 1"))
    #expect(card.contains("image sizes (WxHxC, 8 probed): 8x6x3 ×8"))
    // Eight images over seven subgroups: every subgroup is too small for a batch of 4.
    #expect(card.contains("subgroup female|<40 averages 0.5 samples per batch of 4 (< 2)"))
    let f = try FairVLMed.load(directory: fixturePath("fairvlmed"))
    let fc = DatasetCard.render(f, groups: try GroupingSpec(parsing: "gender"), batchSize: 2)
    #expect(fc.contains("split: from the layout (train, val, test)"))
    #expect(fc.contains("female                    0 / 1           0 / 1           0 / 0           2"))
    #expect(fc.contains("subgroup male has no positives in 'test'"))
  }
}
