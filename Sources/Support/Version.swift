/// FairMed's version: `fairmed --version`, model cards and reports print it.
public enum FairMedVersion {
  public static let string = "0.9.0"
}
