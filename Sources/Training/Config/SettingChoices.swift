import Support
import Tensor

// The fixed-set options of a run, spelled on the command line and in run.json by their raw values.
extension MethodName: SettingChoice {}
extension ScratchPreset: SettingChoice {}
extension SamplerKind: SettingChoice {}
extension FineTuningMode: SettingChoice {}
extension LossKind: SettingChoice {}
extension Objective: SettingChoice {}
extension SelectionRule: SettingChoice {}
extension ThresholdPolicy: SettingChoice {}
extension Precision: SettingChoice {}
extension BandwidthKind: SettingChoice {}
extension CMACMMD.Estimator: SettingChoice {}
extension CMACMMD.Comparison: SettingChoice {}
extension CMACMMD.Conditioning: SettingChoice {}
