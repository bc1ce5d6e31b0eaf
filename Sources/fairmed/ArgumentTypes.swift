import ArgumentParser
import Data
import Training

// The typed options of the library, spelled on the command line as in `run.json`.
extension MethodName: ExpressibleByArgument {}
extension FineTuningMode: ExpressibleByArgument {}
extension SamplerKind: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension SelectionRule: ExpressibleByArgument {}
extension ThresholdPolicy: ExpressibleByArgument {}
extension ScratchPreset: ExpressibleByArgument {}
extension BandwidthKind: ExpressibleByArgument {}
extension CMACMMD.Estimator: ExpressibleByArgument {}
extension CMACMMD.Comparison: ExpressibleByArgument {}
extension CMACMMD.Conditioning: ExpressibleByArgument {}
extension DermLabelMap: ExpressibleByArgument {}
extension RowPolicy: ExpressibleByArgument {}
