import Foundation
import Support
import ZIPFoundation

/// NumPy `.npz` archives (zip of `.npy` members, stored or deflated) read and written with ZIPFoundation.
public enum Npz {
  /// How many times its compressed size a member may expand (`FAIRMED_MAX_NPZ_EXPANSION`, default
  /// 1000); a malformed or out-of-range value of the variable is an `EnvironmentError` naming it.
  public static var maxExpansion: Int { get throws { try maxExpansionSetting.get() } }
  static let maxExpansionSetting = EnvironmentVariable.maxNpzExpansion.setting(default: 1000)
  /// The largest member read, in bytes (2 GiB).
  public static let maxMemberBytes = 1 << 31

  /// Reads the named members of an `.npz` (all members when `keys` is nil). Keys are member
  /// names without the `.npy` suffix. Members in `excluding` are not decompressed. A member may
  /// expand to at most `maxExpansion` (default ``maxExpansion``) times its compressed size (and
  /// ``maxMemberBytes``): a zip bomb is refused.
  public static func read(
    path: String, keys: Set<String>? = nil, excluding: Set<String> = [],
    maxExpansion: Int? = nil
  ) throws -> [String: NpyArray] {
    let expansion = try maxExpansion ?? Npz.maxExpansion
    let archive: ZipReader
    do { archive = try ZipReader(path: path) } catch let e as ZipError {
      throw e.isMissing ? DataError.missingFile(path) : DataError.decode(file: path, reason: e.reason)
    }
    var result: [String: NpyArray] = [:]
    for member in archive.members where !member.name.hasSuffix("/") {
      var key = member.name
      if key.hasSuffix(".npy") { key.removeLast(4) }
      if let keys, !keys.contains(key) { continue }
      if excluding.contains(key) { continue }
      let limit = min(
        maxMemberBytes, max(1 << 20, member.compressedSize.multipliedReportingOverflow(by: expansion).partialValue))
      let bytes: Data
      do { bytes = try archive.read(member, limit: limit) } catch is ZipReader.TooLarge {
        throw DataError.decode(
          file: path,
          reason: "member '\(member.name)' expands past \(limit) bytes from \(member.compressedSize) "
            + "(limits: \(expansion)× its compressed size and \(maxMemberBytes) bytes; raise them with FAIRMED_MAX_NPZ_EXPANSION)"
        )
      } catch let e as ZipError {
        throw DataError.decode(file: path, reason: e.reason)
      }
      result[key] = try NpyArray(bytes: bytes, name: "\(path)[\(member.name)]")
    }
    if let keys {
      let missing = keys.subtracting(result.keys)
      if !missing.isEmpty {
        throw DataError.decode(file: path, reason: "missing keys \(missing.sorted().joined(separator: ", "))")
      }
    }
    return result
  }

  /// Writes arrays as an `.npz` (members `<key>.npy`), deflated when `compressed` (np.savez_compressed).
  public static func write(_ arrays: [(String, NpyArray)], to path: String, compressed: Bool = true) throws {
    let archive = try Archive(data: Data(), accessMode: .create)
    for (key, array) in arrays {
      let bytes = array.encoded()
      try archive.addEntry(
        with: key + ".npy", type: .file, uncompressedSize: Int64(bytes.count),
        compressionMethod: compressed ? .deflate : .none
      ) { position, size in
        bytes.subdata(in: Int(position)..<(Int(position) + size))
      }
    }
    guard let data = archive.data else { throw DataError.layout("cannot build npz \(path)") }
    try data.write(to: URL(fileURLWithPath: path))
  }
}
