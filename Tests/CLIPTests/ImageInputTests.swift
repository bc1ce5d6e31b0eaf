import Foundation
import Testing

@testable import CLIP

@Suite struct ImageInputTests {
  func writePPM(_ header: String, _ body: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("img-\(UUID().uuidString).ppm").path
    try Data(Array(header.utf8) + body).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func readsPPMAndNormalises() throws {
    // 4×2 image: left half red (255,0,0), right half gray 128.
    var body: [UInt8] = []
    for _ in 0..<2 { for x in 0..<4 { body += x < 2 ? [255, 0, 0] : [128, 128, 128] } }
    let path = try writePPM("P6\n# test\n4 2\n255\n", body)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let img = try CLIPImageInput.readPPM(path)
    #expect(img.width == 4 && img.height == 2 && img.pixels.count == 24)
    // Shortest side 2 → size 2: scale 1, centre crop columns 1...2.
    let px = CLIPImageInput.preprocess(img, size: 2)
    let red = (1 - CLIPImageInput.mean[0]) / CLIPImageInput.std[0]
    let gray = (128 / 255 - CLIPImageInput.mean[0]) / CLIPImageInput.std[0]
    #expect(abs(px[0] - red) < 1e-5 && abs(px[1] - gray) < 1e-5)
    let green0 = (0 - CLIPImageInput.mean[1]) / CLIPImageInput.std[1]
    #expect(abs(px[4] - green0) < 1e-5)
    #expect(try CLIPImageInput.batch([path, path], size: 8).shape == [2, 3, 8, 8])
  }

  @Test func rejectsOtherFormats() throws {
    let png = try writePPM("\u{89}PNG\r\n", [0, 0, 0])
    let short = try writePPM("P6 4 4 255\n", [1, 2, 3])
    defer { for p in [png, short] { try? FileManager.default.removeItem(atPath: p) } }
    #expect(throws: CLIPFileError.self) { try CLIPImageInput.readPPM(png) }
    #expect(throws: CLIPFileError.self) { try CLIPImageInput.readPPM(short) }
  }
}
