import Foundation
import TestSupport
import Testing
@testable import Fairness
@testable import Report

/// audit.html in a real browser: headless Chromium (Debian's `chromium`, which
/// Scripts/install-deps installs) prints it to PDF, screenshots it and dumps its DOM; the text
/// layout (headings and table headers in order) must match the committed snapshot
/// Fixtures/audit_layout.txt. `FAIRMED_UPDATE_SNAPSHOTS=1` rewrites the snapshot after a
/// deliberate change to the report.
@Suite struct AuditBrowserTests {
  /// `chromium` on PATH, or nil.
  static let chromium: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/chromium" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }()

  static let snapshot = fixturePath("audit_layout.txt")

  /// The synthetic audit's report, as the browser test renders it.
  static func html() throws -> String { HTMLReport.text(try AuditHTMLTests.audit()) }

  /// The text layout of a page: each h1–h3 heading as `hN: text`, each table header row as
  /// `th: a | b | …` and each figure caption as `figcaption: text`, in document order.
  static func layout(_ html: String) -> String {
    func clean(_ s: Substring) -> String {
      var t = s.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
      for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&amp;", "&"), ("&nbsp;", " ")] {
        t = t.replacingOccurrences(of: entity, with: char)
      }
      return t.replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
        .trimmingCharacters(in: .whitespaces)
    }
    let block = /<(h1|h2|h3|thead|figcaption)\b[^>]*>([\s\S]*?)<\/\1>/
    let cell = /<th\b[^>]*>([\s\S]*?)<\/th>/
    var lines: [String] = []
    for m in html.matches(of: block) {
      if m.output.1 == "thead" {
        lines.append("th: " + m.output.2.matches(of: cell).map { clean($0.output.1) }.joined(separator: " | "))
      } else {
        lines.append("\(m.output.1): \(clean(m.output.2))")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Compares `layout` with the committed snapshot (or rewrites it on request).
  static func checkSnapshot(_ layout: String, _ what: String) throws {
    if ProcessInfo.processInfo.environment["FAIRMED_UPDATE_SNAPSHOTS"] == "1" {
      try layout.write(toFile: snapshot, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOfFile: snapshot, encoding: .utf8)
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let b = layout.split(separator: "\n", omittingEmptySubsequences: false)
    let firstDifference = (0..<min(a.count, b.count)).first { a[$0] != b[$0] }
    if let i = firstDifference ?? (a.count == b.count ? nil : min(a.count, b.count)) {
      Issue.record(
        """
        \(what) differs from Fixtures/audit_layout.txt at line \(i + 1):
          expected: \(i < a.count ? String(a[i]) : "(end)")
          rendered: \(i < b.count ? String(b[i]) : "(end)")
        (FAIRMED_UPDATE_SNAPSHOTS=1 rewrites the snapshot after a deliberate change)
        """)
    }
  }

  /// Runs `arguments` with stdout to `stdout`; kills it after `timeout` seconds.
  static func run(_ executable: String, _ arguments: [String], stdout: String, timeout: Double) throws -> Int32 {
    FileManager.default.createFile(atPath: stdout, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
    defer { try? out.close() }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if p.isRunning {
      p.terminate()
      p.waitUntilExit()
      Issue.record("\(executable) \(arguments.joined(separator: " ")) ran past \(Int(timeout)) s")
    }
    p.waitUntilExit()
    return p.terminationStatus
  }

  /// The report's own HTML has the committed layout (checked with or without a browser).
  @Test func reportHasTheCommittedTextLayout() throws {
    try Self.checkSnapshot(Self.layout(try Self.html()), "audit.html's text layout")
  }

  @Test(
    .enabled(
      if: chromium != nil,
      "chromium is not on PATH (Debian: apt-get install -y chromium, or Scripts/install-deps): the headless-browser check of audit.html is skipped"
    ))
  func chromiumPrintsScreenshotsAndLaysOutTheReport() throws {
    let chromium = try #require(Self.chromium)
    let dir = freshDirectory("audit-browser")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let page = dir + "/audit.html"
    try Self.html().write(toFile: page, atomically: true, encoding: .utf8)
    let url = URL(fileURLWithPath: page).absoluteString
    func browser(_ mode: [String], profile: String, stdout: String = "/dev/null") throws {
      let common = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--hide-scrollbars", "--user-data-dir=\(dir)/profile-\(profile)",
      ]
      let status = try Self.run(chromium, common + mode + [url], stdout: stdout, timeout: 120)
      #expect(status == 0, "chromium \(mode.joined(separator: " ")) exited with \(status)")
    }
    try browser(["--no-pdf-header-footer", "--print-to-pdf=\(dir)/audit.pdf"], profile: "pdf")
    try browser(["--window-size=1200,900", "--screenshot=\(dir)/audit.png"], profile: "png")
    try browser(["--dump-dom"], profile: "dom", stdout: dir + "/dom.html")

    let pdf = try Data(contentsOf: URL(fileURLWithPath: dir + "/audit.pdf"))
    #expect(pdf.count > 10_000, "PDF of \(pdf.count) bytes")
    #expect(pdf.starts(with: Array("%PDF-".utf8)), "not a PDF")
    #expect(String(decoding: pdf.suffix(32), as: UTF8.self).contains("%%EOF"), "PDF not terminated")
    // Each section starts a page in print: at least as many pages as sections but the first.
    let pages = String(decoding: pdf, as: UTF8.self).matches(of: /\/Type\s*\/Page[^s]/).count
    #expect(pages >= 5, "\(pages) PDF pages")

    let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/audit.png"))
    #expect(png.count > 10_000, "PNG of \(png.count) bytes")
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
    if png.count > 24 {
      let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
      #expect(width == 1200, "screenshot \(width) px wide")
    }

    let dom = try String(contentsOfFile: dir + "/dom.html", encoding: .utf8)
    #expect(dom.contains("<svg"), "the DOM has no figures")
    try Self.checkSnapshot(Self.layout(dom), "Chromium's rendered text layout")
  }
}
