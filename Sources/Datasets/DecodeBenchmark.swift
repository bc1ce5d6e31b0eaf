import Dispatch
import Foundation
import Support

/// Decode + resize + center crop + normalise throughput over a folder of JPEG/PNG files (the
/// evaluation pipeline of CLIP preprocessing), for comparison with `Scripts/bench/data_peer.py`.
public enum DecodeBenchmark {
  public struct Result: Sendable {
    public var images: Int
    public var threads: Int
    public var seconds: Double
    public var imagesPerSecond: Double { Double(images) / seconds }
    /// Sum of all output values (a checksum so work cannot be skipped).
    public var checksum: Double
    /// Process CPU time (all threads): less sensitive than wall time to other jobs on the machine.
    public var cpuSeconds: Double
  }

  /// Image files of a folder (recursively), sorted.
  public static func files(in dir: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: dir)
    var out: [String] = []
    while let p = e?.nextObject() as? String {
      let ext = (p as NSString).pathExtension.lowercased()
      if ["jpg", "jpeg", "png"].contains(ext) { out.append((dir as NSString).appendingPathComponent(p)) }
    }
    return out.sorted()
  }

  /// Processes every file `repeats` times on `threads` threads (reading each file from disk);
  /// with `decodeOnly` the transform is skipped (to split the time between stages).
  public static func run(
    files: [String], transform: ImageTransform, threads: Int, repeats: Int = 1,
    decodeOnly: Bool = false
  ) throws -> Result {
    let total = files.count * repeats
    let plane = 3 * transform.size * transform.size
    let storage = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, threads))
    storage.initialize(repeating: 0)
    defer { storage.deallocate() }
    let sums = DisjointWrites(storage.baseAddress ?? UnsafeMutablePointer<Double>.allocate(capacity: 1))
    let failure = ErrorSlot()
    let start = DispatchTime.now(), cpuStart = processCPUTime()
    DispatchQueue.concurrentPerform(iterations: threads) { t in
      var out = [Float](repeating: 0, count: plane)
      var acc = 0.0
      var i = t
      while i < total {
        do {
          let img = try ImageCodec.decode(file: files[i % files.count])
          if decodeOnly {
            acc += Double(img.pixels[img.pixels.count / 2])
            i += threads
            continue
          }
          var rng = SeededRNG(seed: 0)
          out.withUnsafeMutableBufferPointer { transform.apply(img, rng: &rng, into: $0) }
          acc += Double(out[plane / 2])
        } catch {
          failure.set(error)
        }
        i += threads
      }
      sums[t] = acc
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    if let e = failure.error { throw e }
    return Result(
      images: total, threads: threads, seconds: seconds, checksum: storage.reduce(0, +),
      cpuSeconds: processCPUTime() - cpuStart)
  }

  static func processCPUTime() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
  }
}
