import Foundation
import SyntheticData

extension Study {
  /// The chest benchmark of a study (``StudyConfig/SynthKind/chest``): manifests `dir/train`
  /// (`s.train` images, seed `s.seed`), `dir/test` (`s.test`, seed + 1) and, when `s.external` > 0,
  /// `dir/external` (the external variant, seed + 2), each written unless its `synth_config.json`
  /// (written last) is there. Returns the training spec and the test sets (name, spec, split).
  func prepareChestData(_ s: StudyConfig.SynthSpec, directory dir: String) throws -> (
    String, [(String, String, String?)]
  ) {
    var base = ChestSynthConfig()
    (base.width, base.height) = (s.size, s.size)
    for (name, count, seed, external) in [
      ("train", s.train, s.seed, false), ("test", s.test, s.seed &+ 1, false),
      ("external", s.external, s.seed &+ 2, true),
    ] where count > 0 {
      var c = external ? base.external() : base
      c.count = count
      c.seed = seed
      if !FileManager.default.fileExists(atPath: "\(dir)/\(name)/" + SyntheticModality.configFile) {
        try SynthChest.write(c, to: "\(dir)/\(name)")
      }
    }
    var tests = [("internal", "manifest:\(dir)/test/manifest.csv", nil as String?)]
    if s.external > 0 { tests.append(("external", "manifest:\(dir)/external/manifest.csv", nil)) }
    return ("manifest:\(dir)/train/manifest.csv", tests)
  }
}
