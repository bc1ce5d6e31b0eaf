import Foundation

/// FairMed's version: `fairmed --version`, model cards and reports print it.
public enum FairMedVersion {
  public static let string = "0.9.0"

  /// The commit of the git checkout the running binary lies in (`.build/…` of a clone), read from
  /// `.git/HEAD` without running git; nil when the binary is not inside a checkout (installed
  /// elsewhere). Local changes are not detected: the value names the commit, not the tree.
  public static let commit: String? = {
    var dir = URL(
      fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments.first ?? ""
    ).deletingLastPathComponent()
    for _ in 0..<12 {
      let git = dir.appendingPathComponent(".git")
      if let head = try? String(contentsOf: git.appendingPathComponent("HEAD"), encoding: .utf8) {
        return resolve(head.trimmingCharacters(in: .whitespacesAndNewlines), git: git)
      }
      let parent = dir.deletingLastPathComponent()
      if parent.path == dir.path { break }
      dir = parent
    }
    return nil
  }()

  /// "0.9.0 (commit 1c11476)", or "0.9.0 (commit unknown: not run from a git checkout)".
  public static var description: String {
    string + " (commit " + (commit.map { String($0.prefix(12)) } ?? "unknown: not run from a git checkout") + ")"
  }

  /// The commit a HEAD line names: a detached hash, or a branch's loose or packed ref.
  static func resolve(_ head: String, git: URL) -> String? {
    guard head.hasPrefix("ref: ") else { return isHash(head) ? head : nil }
    let ref = String(head.dropFirst(5))
    if let loose = try? String(contentsOf: git.appendingPathComponent(ref), encoding: .utf8) {
      let hash = loose.trimmingCharacters(in: .whitespacesAndNewlines)
      return isHash(hash) ? hash : nil
    }
    guard let packed = try? String(contentsOf: git.appendingPathComponent("packed-refs"), encoding: .utf8) else {
      return nil
    }
    for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
      let hash = String(line.prefix { $0 != " " })
      return isHash(hash) ? hash : nil
    }
    return nil
  }

  static func isHash(_ s: String) -> Bool { s.count >= 40 && s.allSatisfy(\.isHexDigit) }
}
