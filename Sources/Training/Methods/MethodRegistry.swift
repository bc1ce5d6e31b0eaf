/// Every `--method` name and how to build it with its defaults.
public enum MethodRegistry {
  /// Names in the order `fairmed train --help` lists them.
  public static let names = ["erm", "cmac-mmd", "resample", "reweight", "groupdro", "meanmatch", "dann", "cdann", "fairclip"]

  /// A fresh method; `lambda` applies to the methods that have one.
  public static func make(_ name: String, lambda: Float = 0.5) -> TrainingMethod? {
    switch name {
    case "erm": return ERM()
    case "cmac-mmd": return CMACMMDMethod(options: CMACMMD(lambda: lambda))
    case "resample": return Resample()
    case "reweight": return Reweight()
    case "groupdro": return GroupDRO()
    case "meanmatch": return MeanMatch(lambda: lambda)
    case "dann": return AdversarialDebiasing(conditional: false, lambda: lambda)
    case "cdann": return AdversarialDebiasing(conditional: true, lambda: lambda)
    case "fairclip": return FairCLIP(lambda: lambda)
    default: return nil
    }
  }
}
