import Foundation
import Support

/// A results table for the study page: header cells and rows of plain strings (escaped on render).
public struct StudyTable: Sendable, Equatable {
  public var caption: String
  public var header: [String]
  public var rows: [[String]]
  /// A column whose non-empty cells are relative paths, shown as links to them.
  public var linkColumn: Int?
  public init(caption: String, header: [String], rows: [[String]], linkColumn: Int? = nil) {
    self.caption = caption; self.header = header; self.rows = rows; self.linkColumn = linkColumn
  }
}

/// A figure for the study page: a standalone SVG (as from ``StudyFigures``) and its caption.
/// `name` is the file stem used by ``StudyFigures/writeFigures(_:to:)`` and the anchor on the page.
public struct StudyFigure: Sendable, Equatable {
  public var name: String
  public var caption: String
  public var svg: String
  public init(name: String, caption: String, svg: String) {
    self.name = name; self.caption = caption; self.svg = svg
  }
}

extension StudyFigures {
  /// A self-contained, well-formed (XHTML-style) HTML page: inline CSS (with print rules), the
  /// summary table, the paired comparison (its own table under its own heading), the results tables, inline SVG figures with captions, and notes. No scripts
  /// and no network references. All text is escaped; `svg` strings are embedded as given.
  public static func studyPage(
    title: String, summaryMarkdownTable: String?, pairedMarkdownTable: String? = nil,
    pairedTitle: String = "Paired differences to ERM", tables: [StudyTable], figures: [StudyFigure], notes: [String]
  ) -> String {
    let e = SVGChart.escape
    var h = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"/><title>\(e(title))</title>
      <style>
      body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}
      h1{font-size:22px}h2{font-size:17px;margin-top:28px}
      table{border-collapse:collapse;font-size:12px;margin:8px 0 16px}
      caption{text-align:left;font-weight:bold;padding:4px 0}
      td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
      td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}
      figure{margin:16px 0;overflow-x:auto}figcaption{font-size:12px;color:#444;max-width:900px}
      svg{max-width:100%;height:auto}
      @page{size:A4;margin:14mm 12mm}
      @media print{body{margin:0;max-width:none;color:#000;font-size:10pt}
      figure,table,tr,svg{page-break-inside:avoid;break-inside:avoid}h2,caption{page-break-after:avoid;break-after:avoid}
      thead{display:table-header-group}table{font-size:7.5pt;max-width:100%}td,th{padding:1px 3px}
      figure{overflow:visible}figcaption{max-width:none}th{background:none}a{color:#000;text-decoration:none}
      svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
      </style></head><body>
      <h1>\(e(title))</h1>

      """
    if let md = summaryMarkdownTable, !md.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      h += "<h2 id=\"summary\">Summary</h2>\n" + markdownBlocks(md)
    }
    if let md = pairedMarkdownTable, !md.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      h += "<h2 id=\"paired\">\(e(pairedTitle))</h2>\n" + markdownBlocks(md)
    }
    if !tables.isEmpty {
      h += "<h2>Results</h2>\n" + tables.map(htmlTable).joined()
    }
    if !figures.isEmpty {
      h += "<h2>Figures</h2>\n"
      for (i, fig) in figures.enumerated() {
        h +=
          "<figure id=\"fig-\(e(anchor(fig.name)))\">\(fig.svg)<figcaption>Figure \(i + 1). \(e(fig.caption))</figcaption></figure>\n"
      }
    }
    if !notes.isEmpty {
      h += "<h2>Notes</h2>\n<ul>" + notes.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n"
    }
    return h + "</body></html>\n"
  }

  /// Writes each figure as `NAME.svg` in `directory` (created if needed), atomically: a temporary
  /// file in the same directory, then a rename over the target. Characters outside
  /// `[A-Za-z0-9._-]` in names are replaced by `_`. Returns the written file URLs in input order.
  @discardableResult
  public static func writeFigures(_ figures: [(name: String, svg: String)], to directory: URL) throws -> [URL] {
    let fm = FileManager.default
    try fm.createDirectory(at: directory, withIntermediateDirectories: true)
    return try figures.map { fig in
      let url = directory.appendingPathComponent(anchor(fig.name) + ".svg")
      try AtomicWrite.file(fig.svg, to: url.path)
      return url
    }
  }

  /// A GitHub-flavoured Markdown table. Pipes in cells are escaped, newlines become spaces, and
  /// short rows are padded to the header's width.
  public static func markdownTable(header: [String], rows: [[String]]) -> String {
    let width = max(header.count, rows.map(\.count).max() ?? 0)
    func cell(_ s: String) -> String {
      s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(
        of: "\n", with: " ")
    }
    func line(_ r: [String]) -> String {
      "| " + (r + Array(repeating: "", count: width - r.count)).map(cell).joined(separator: " | ") + " |"
    }
    return ([line(header), "|" + Array(repeating: "---|", count: width).joined()] + rows.map(line)).joined(
      separator: "\n") + "\n"
  }

  // MARK: Helpers

  /// Markdown of tables and paragraphs as HTML: each run of `|` lines is its own table, other
  /// lines paragraphs; `<pre>` when a run of `|` lines is not a table.
  static func markdownBlocks(_ md: String) -> String {
    let e = SVGChart.escape
    var out = "", tableLines: [String] = []
    func flush() {
      guard !tableLines.isEmpty else { return }
      let block = tableLines.joined(separator: "\n")
      if let t = parseMarkdownTable(block) {
        out += htmlTable(StudyTable(caption: "", header: t.header, rows: t.rows))
      } else {
        out += "<pre>\(e(block))</pre>\n"
      }
      tableLines = []
    }
    let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    if !lines.contains(where: { $0.hasPrefix("|") }) { return "<pre>\(e(md))</pre>\n" }
    for line in lines {
      if line.hasPrefix("|") {
        tableLines.append(line)
      } else {
        flush()
        if !line.isEmpty { out += "<p>\(e(line))</p>\n" }
      }
    }
    flush()
    return out
  }

  static func htmlTable(_ t: StudyTable) -> String {
    let e = SVGChart.escape
    var s = "<table>"
    if !t.caption.isEmpty { s += "<caption>\(e(t.caption))</caption>" }
    s += "<thead><tr>" + t.header.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>"
    for r in t.rows {
      s += "<tr>"
      for (i, cell) in r.enumerated() {
        s +=
          i == t.linkColumn && !cell.isEmpty ? "<td><a href=\"\(e(cell))\">\(e(cell))</a></td>" : "<td>\(e(cell))</td>"
      }
      s += "</tr>"
    }
    return s + "</tbody></table>\n"
  }

  /// Parses a GitHub-style Markdown table (header, `---` separator, rows; `\|` is a literal pipe).
  /// Returns nil when `md` is not such a table.
  static func parseMarkdownTable(_ md: String) -> (header: [String], rows: [[String]])? {
    let lines = md.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
      !$0.isEmpty
    }
    guard lines.count >= 2, lines.allSatisfy({ $0.hasPrefix("|") }) else { return nil }
    func cells(_ l: String) -> [String] {
      var out: [String] = [], cur = "", it = Array(l)
      if it.first == "|" { it.removeFirst() }
      var i = 0
      while i < it.count {
        if it[i] == "\\", i + 1 < it.count, it[i + 1] == "|" { cur.append("|"); i += 2; continue }
        if it[i] == "|" { out.append(cur.trimmingCharacters(in: .whitespaces)); cur = "" } else { cur.append(it[i]) }
        i += 1
      }
      if !cur.trimmingCharacters(in: .whitespaces).isEmpty { out.append(cur.trimmingCharacters(in: .whitespaces)) }
      return out
    }
    let sep = cells(lines[1])
    guard !sep.isEmpty, sep.allSatisfy({ !$0.isEmpty && $0.allSatisfy { "-:".contains($0) } }) else { return nil }
    return (cells(lines[0]), lines.dropFirst(2).map(cells))
  }

  /// A file- and id-safe form of a name: characters outside `[A-Za-z0-9._-]` become `_`.
  static func anchor(_ name: String) -> String {
    let s = String(
      name.unicodeScalars.map { c -> Character in
        (c.isASCII && (CharacterSet.alphanumerics.contains(c) || "._-".unicodeScalars.contains(c))) ? Character(c) : "_"
      })
    return s.isEmpty || s.allSatisfy({ $0 == "." }) ? "figure" : s
  }
}
