import ArgumentParser
import Fairness
import Datasets
import Tensor
import Training

// The data module's typed options, spelled on the command line by their raw values. (The training
// options are `@Setting`s of `RunConfig`, parsed by `RunConfig.resolve`.)
extension DermLabelMap: ExpressibleByArgument {}
extension RowPolicy: ExpressibleByArgument {}

// The demo's comparison options are the training settings' types.
extension CMACMMD.Comparison: ExpressibleByArgument {}
extension CMACMMD.Conditioning: ExpressibleByArgument {}
extension SamplerKind: ExpressibleByArgument {}
extension BootstrapScope: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
