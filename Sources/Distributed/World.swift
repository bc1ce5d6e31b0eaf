import Foundation

/// The world this process runs in: MPI's when launched by `mpirun`/`srun` (and built with the
/// `MPI` trait), otherwise a one-process world.
public enum World {
  /// Started on first use; MPI is finalised when the process exits.
  public static let current: Result<any Communicator, DistributedError> = start()

  /// Whether this build links MPI (`swift build --traits MPI`).
  public static var builtWithMPI: Bool {
    #if MPI
      return true
    #else
      return false
    #endif
  }

  /// The number of processes the launcher started, from the environment Open MPI, MPICH (Hydra)
  /// and Slurm's PMI/PMIx set; nil when not launched by one of them.
  public static func launchedProcesses(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
    for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"] {
      if let n = env[key].flatMap(Int.init), n >= 1 { return n }
    }
    return env["PMIX_RANK"] != nil ? 1 : nil
  }

  static func start() -> Result<any Communicator, DistributedError> {
    guard let launched = launchedProcesses() else { return .success(SingleProcess()) }
    #if MPI
      return Result { try MPICommunicator.initialize() }.mapError {
        $0 as? DistributedError ?? .mpi(call: "MPI_Init_thread", message: "\($0)")
      }
    #else
      return launched > 1 ? .failure(.notBuiltWithMPI(processes: launched)) : .success(SingleProcess())
    #endif
  }
}
