import ArgumentParser
import Datasets
import Foundation

/// `fairmed data bench --dir DIR`: decode + resize + crop + normalise throughput.
struct DataBenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time CLIP preprocessing (decode, bicubic resize, center crop, normalise) over a folder of images.",
    shouldDisplay: false)

  @Option(help: "Folder of JPEG/PNG files.") var dir: String
  @Option(help: "Output side.") var size: Int = 224
  @Option(help: "Threads (default: all cores).") var threads: Int?
  @Option(help: "Passes over the folder.") var repeats: Int = 1

  func validate() throws {
    guard (8...4096).contains(size) else { throw ValidationError("--size must be in 8…4096, got \(size)") }
    if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be in 1…256, got \(threads)") }
    guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be in 1…1000, got \(repeats)") }
  }

  func run() throws {
    let files = DecodeBenchmark.files(in: dir)
    guard !files.isEmpty else { throw ValidationError("no images in \(dir)") }
    let transform = ImageTransform(size: size)
    _ = try DecodeBenchmark.run(files: Array(files.prefix(16)), transform: transform, threads: 1)  // warm-up
    let decode = try DecodeBenchmark.run(
      files: files, transform: transform, threads: 1, repeats: repeats, decodeOnly: true)
    print(String(format: "fairmed: decode only, 1 thread: %.1f images/s", decode.imagesPerSecond))
    for t in Set([1, threads ?? ProcessInfo.processInfo.activeProcessorCount]).sorted() {
      let r = try DecodeBenchmark.run(files: files, transform: transform, threads: t, repeats: repeats)
      print(
        String(
          format: "fairmed: %d images, %d thread(s): %.2f s, %.1f images/s, %.2f ms CPU per image",
          r.images, r.threads, r.seconds, r.imagesPerSecond, 1000 * r.cpuSeconds / Double(r.images)))
    }
  }
}
