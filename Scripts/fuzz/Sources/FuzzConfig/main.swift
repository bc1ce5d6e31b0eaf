import CLIP
import Experiments
import Foundation
import FuzzShared
import Training

/// Any bytes as a CLIP `config.json` (then its parameter count), a `run.json` (then validated)
/// and a study config.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
  if let json = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any], let c = try? CLIPConfig(json: json) {
    _ = c.parameterCount
  }
  if let run = try? JSONDecoder().decode(RunConfig.self, from: bytes) { try? run.validate() }
  if let study = try? JSONDecoder().decode(StudyConfig.self, from: bytes) { try? study.validate() }
  return 0
}

runFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
