import Foundation
import TestSupport

/// The committed audit fixtures (Scripts/fixtures/make_audit_fixtures.py; ReportTests reads them too).
enum Fixture {
  static func url(_ name: String) -> URL { URL(fileURLWithPath: fixturePath(name)) }

  static func json(_ name: String) throws -> [String: Any] { try jsonObject(atPath: fixturePath(name)) }
}
