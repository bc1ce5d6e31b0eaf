import Foundation
import NN
import TestSupport
import Testing

#if MPI
  /// The MPI launcher, where one is installed.
  let mpirunPath: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun", "/usr/bin/mpiexec"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  /// The mpirun suite's folder, removed after the suite.
  let mpiTestsRoot = FileManager.default.temporaryDirectory.appendingPathComponent("mpi-\(UUID().uuidString)").path

  /// `mpirun -np 2` and `-np 3` of the real binary on this machine: the same model as one
  /// process, one writer, and a killed rank that ends the job and resumes with another rank count.
  @Suite(
    .serialized, .enabled(if: mpirunPath != nil, "mpirun is not installed"), .tags(.slow),
    .removingFolder(mpiTestsRoot))
  struct MPITests {
    static let mpirun = mpirunPath
    static let root = mpiTestsRoot
    /// No rank may wait forever for a dead one: a run past this is reported as a hang.
    static let hangGuard: Double = 600

    static let data: String = {
      _ = try? run(1, ["synth", "derm", "--n", "240", "--size", "32", "--seed", "4", "--out", root + "/derm"])
      return "ham10000:" + root + "/derm"
    }()

    struct Outcome { let status: Int32; let output: String; let hung: Bool }

    /// `fairmed ARGS` in one process (`ranks` 1) or under `mpirun -np ranks`, one thread each.
    static func run(_ ranks: Int, _ args: [String], env: [String: String] = [:]) throws -> Outcome {
      let p = Process()
      if ranks == 1 {
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = args
      } else {
        p.executableURL = URL(fileURLWithPath: mpirun ?? "mpirun")
        p.arguments = ["-np", String(ranks), CLITests.binary] + args
      }
      p.environment = ProcessInfo.processInfo.environment.merging(
        [
          "FAIRMED_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
          "OMPI_MCA_rmaps_base_oversubscribe": "1",
        ].merging(env) { $1 }
      ) { $1 }
      let log = root + "/out-\(UUID().uuidString).txt"
      try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
      FileManager.default.createFile(atPath: log, contents: nil)
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
      p.standardOutput = handle
      p.standardError = handle
      try p.run()
      let start = Date()
      while p.isRunning && Date().timeIntervalSince(start) < hangGuard { usleep(50_000) }
      let hung = p.isRunning
      if hung { kill(p.processIdentifier, SIGKILL) }
      p.waitUntilExit()
      try handle.close()
      return Outcome(
        status: p.terminationStatus, output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", hung: hung)
    }

    static func train(_ out: String, method: String, epochs: Int = 2, lr: String = "1e-3") -> [String] {
      [
        "train", "--data", data, "--from-scratch", "tiny", "--image-size", "32", "--epochs", String(epochs),
        "--batch-size", "32",
        "--lr", lr, "--method", method, "--sampler", "balanced-cells", "--no-augment", "--seed", "2", "--log-every",
        "1", "--out", out,
      ] + (method == "cmac-mmd" ? ["--lambda", "1"] : [])  // one run (the λ path is LambdaPathTests')
    }

    static func weights(_ run: String) throws -> [String: [Float]] {
      let file = try SafetensorsFile(path: run + "/checkpoint/model.safetensors")
      return try file.allTensors().mapValues(\.scalars)
    }

    /// ‖a − b‖ / ‖a − initial‖: how far apart two trainings end, relative to how far they moved.
    static func relativeDifference(_ a: [String: [Float]], _ b: [String: [Float]], initial: [String: [Float]]) -> Double
    {
      var diff = 0.0, moved = 0.0
      for (k, x) in a {
        guard let y = b[k], let w = initial[k] else { return .infinity }
        for i in x.indices {
          diff += Double(x[i] - y[i]) * Double(x[i] - y[i]); moved += Double(x[i] - w[i]) * Double(x[i] - w[i])
        }
      }
      return (diff / max(moved, 1e-30)).squareRoot()
    }

    static func records(_ run: String, kind: String) -> [[String: Any]] {
      let text = (try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)) ?? ""
      return text.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }
      .filter { $0["kind"] as? String == kind }
    }

    /// The initial weights: one epoch at a learning rate that moves nothing measurable.
    static let initial: [String: [Float]] = {
      let out = root + "/initial"
      _ = try? run(1, train(out, method: "erm", epochs: 1, lr: "1e-12"))
      return (try? weights(out)) ?? [:]
    }()

    @Test(arguments: ["erm", "cmac-mmd"])
    func twoAndThreeRanksTrainTheModelOneProcessTrains(method: String) throws {
      let one = Self.root + "/\(method)-1"
      let r1 = try Self.run(1, Self.train(one, method: method))
      #expect(r1.status == 0, "\(r1.output)")
      for ranks in [2, 3] {
        let many = Self.root + "/\(method)-\(ranks)"
        let r = try Self.run(ranks, Self.train(many, method: method))
        #expect(r.status == 0 && !r.hung, "\(r.output)")
        // Reduction order (the gathered global batch, the gradient sum) differs from one process's,
        // and Adam amplifies float-rounding differences in near-zero gradients: measured 6e-4.
        let d = Self.relativeDifference(try Self.weights(one), try Self.weights(many), initial: Self.initial)
        #expect(d < 1e-2, "\(method) with \(ranks) ranks ends \(d) of the update away from one process")
        let s1 = Self.records(one, kind: "step"), sN = Self.records(many, kind: "step")
        #expect(sN.map { $0["step"] as? Int ?? 0 } == Array(1...max(1, s1.count)), "rank 0 alone logs each step once")
        for (a, b) in zip(s1, sN) {
          let la = a["loss"] as? Double ?? .nan, lb = b["loss"] as? Double ?? .nan
          #expect(abs(la - lb) <= 1e-3 * abs(la), "step \(a["step"] ?? 0): loss \(la) vs \(lb)")
        }
        #expect(r.output.contains("data-parallel over \(ranks) processes"))
        #expect(r.output.components(separatedBy: "selected epoch").count == 2, "only rank 0 reports")
      }
    }

    /// The λ path (no --lambda) under `mpirun -np 2`: every member trains data-parallel, rank 0
    /// alone selects and writes selection.json, the chosen member's best/ and its model card, and
    /// the members' validation results are those of one process (within the data-parallel
    /// rounding of the test above).
    /// `fairmed pretrain` under mpirun: 2 ranks end where one process ends, and rank 0 alone
    /// writes the run (the InfoNCE's gathered batch is the data parallelism `train` uses).
    @Test func twoRanksPretrainTheModelOneProcessPretrains() throws {
      let corpus = Self.root + "/corpus"
      #expect(
        try Self.run(1, ["synth", "derm", "--corpus", "--n", "240", "--size", "32", "--seed", "1000", "--out", corpus])
          .status == 0)
      func pretrain(_ out: String, epochs: Int = 2, lr: String = "1e-3") -> [String] {
        [
          "pretrain", "--data", "manifest:\(corpus)/corpus.csv", "--from-scratch", "tiny", "--image-size", "32",
          "--epochs", String(epochs), "--batch-size", "32", "--lr", lr, "--no-augment", "--seed", "2", "--out", out,
        ]
      }
      let initialRun = Self.root + "/pretrain-initial"
      #expect(try Self.run(1, pretrain(initialRun, epochs: 1, lr: "1e-12")).status == 0)
      let initial = try Self.weights(initialRun)
      let one = Self.root + "/pretrain-1", two = Self.root + "/pretrain-2"
      let r1 = try Self.run(1, pretrain(one))
      #expect(r1.status == 0, "\(r1.output)")
      let r2 = try Self.run(2, pretrain(two))
      #expect(r2.status == 0 && !r2.hung, "\(r2.output)")
      #expect(r2.output.components(separatedBy: "selected epoch").count == 2, "only rank 0 reports: \(r2.output)")
      let d = Self.relativeDifference(try Self.weights(one), try Self.weights(two), initial: initial)
      #expect(d < 1e-2, "2 ranks end \(d) of the update away from one process")
      let a = Self.records(one, kind: "epoch").compactMap { $0["val_infonce"] as? Double }
      let b = Self.records(two, kind: "epoch").compactMap { $0["val_infonce"] as? Double }
      #expect(a.count == 2 && b.count == 2 && zip(a, b).allSatisfy { abs($0 - $1) < 1e-3 }, "\(a) vs \(b)")
    }

    @Test func theLambdaPathRunsDataParallelAndRankZeroSelects() throws {
      var results: [[String: Any]] = []
      for ranks in [1, 2] {
        let out = Self.root + "/path-\(ranks)"
        // The tests' training command without its --lambda 1: the λ path.
        let args = Array(Self.train(out, method: "cmac-mmd", epochs: 1).dropLast(2)) + ["--lambda-path", "0,1"]
        let r = try Self.run(ranks, args)
        #expect(r.status == 0 && !r.hung, "\(r.output)")
        for lambda in ["0", "1"] {
          #expect(FileManager.default.fileExists(atPath: "\(out)/lambda/\(lambda)/best/model.safetensors"))
        }
        #expect(FileManager.default.fileExists(atPath: out + "/best/README.md"))
        #expect(Self.records(out, kind: "lambda_selection").count == 1, "rank 0 alone records the selection")
        let selection = try #require(
          try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/selection.json")))
            as? [String: Any])
        results.append(selection)
      }
      let members = results.map { ($0["members"] as? [[String: Any]] ?? []) }
      #expect(
        members[0].map { $0["lambda"] as? Double } == [0, 1] && members[1].map { $0["lambda"] as? Double } == [0, 1])
      for (a, b) in zip(members[0], members[1]) {
        let x = a["auc"] as? Double ?? .nan, y = b["auc"] as? Double ?? .nan
        #expect(abs(x - y) < 0.02, "λ \(a["lambda"] ?? "?"): validation AUC \(x) in one process, \(y) in two")
      }
    }

    @Test func aKilledRankEndsTheJobAndAnotherRankCountResumesIt() throws {
      let whole = Self.root + "/whole"
      #expect(try Self.run(1, Self.train(whole, method: "cmac-mmd", epochs: 3)).status == 0)
      let steps = Self.records(whole, kind: "step").count
      let out = Self.root + "/killed"
      let killed = try Self.run(
        2, Self.train(out, method: "cmac-mmd", epochs: 3),
        env: ["FAIRMED_KILL_AT": "train.step:\(steps / 3 + 2)", "FAIRMED_KILL_RANK": "1"])
      #expect(!killed.hung, "the surviving rank waited for the killed one")
      #expect(killed.status != 0, "\(killed.output)")
      #expect(
        killed.output.contains("signal 9") || killed.output.contains("Killed"),
        "the launcher names the killed rank: \(killed.output)")
      let resumed = try Self.run(3, Self.train(out, method: "cmac-mmd", epochs: 3) + ["--resume"])
      #expect(resumed.status == 0 && !resumed.hung, "\(resumed.output)")
      #expect(resumed.output.contains("resumed from"))
      #expect(
        Self.records(out, kind: "step").map { $0["step"] as? Int ?? 0 } == Array(1...steps), "each step logged once")
      let d = Self.relativeDifference(try Self.weights(whole), try Self.weights(out), initial: Self.initial)
      #expect(d < 1e-2, "the resumed 2→3-rank run ends \(d) of the update away from one process")
      let a = Self.records(whole, kind: "epoch").last?["val_auc"] as? Double ?? .nan
      let b = Self.records(out, kind: "epoch").last?["val_auc"] as? Double ?? .nan
      #expect(abs(a - b) <= 5e-3, "final val AUC \(a) (one process) vs \(b) (2 ranks, killed, resumed on 3)")
    }

    /// CSV rows of a predictions file as (id, label, prob, margin, the remaining columns); the
    /// first five columns never hold commas.
    static func predictionRows(_ path: String) -> [[String]] {
      ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").dropFirst().map { line in
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return f.count < 6 ? [] : [f[0], f[1], f[2], f[4], f[5...].joined(separator: ",")]
      }
    }

    @Test func predictionsSplitOverRanksEqualOneProcessRowForRow() throws {
      let run = Self.root + "/predict-run"
      #expect(try Self.run(1, Self.train(run, method: "erm", epochs: 1)).status == 0)
      let one = Self.root + "/preds-1.csv", three = Self.root + "/preds-3.csv"
      let args = ["predict", "--model", run, "--data", Self.data, "--batch-size", "16", "--out"]
      #expect(try Self.run(1, args + [one]).status == 0)
      let r = try Self.run(3, args + [three])
      #expect(r.status == 0 && !r.hung, "\(r.output)")
      #expect(r.output.components(separatedBy: "wrote ").count == 2, "only rank 0 writes")
      let a = Self.predictionRows(one), b = Self.predictionRows(three)
      #expect(a.count == 240 && b.count == a.count && a.allSatisfy { $0.count == 5 })
      for (x, y) in zip(a, b) where x.count == 5 && y.count == 5 {
        #expect(x[0] == y[0] && x[1] == y[1] && x[4] == y[4], "row order or pass-through columns differ: \(x) vs \(y)")
        #expect(abs((Double(x[2]) ?? .nan) - (Double(y[2]) ?? .nan)) <= 2e-6, "prob of \(x[0]): \(x[2]) vs \(y[2])")
        #expect(abs((Double(x[3]) ?? .nan) - (Double(y[3]) ?? .nan)) <= 2e-6, "margin of \(x[0]): \(x[3]) vs \(y[3])")
      }
    }

    @Test func commandsThatDoNotSplitTheirWorkRefuseSeveralProcesses() throws {
      let out = Self.root + "/never-synth"
      let r = try Self.run(2, ["synth", "derm", "--n", "10", "--out", out])
      #expect(r.status != 0 && !r.hung)
      #expect(
        r.output.contains("only `fairmed train`, `fairmed pretrain` and `fairmed predict` split their work"),
        "\(r.output)")
      #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aBatchSmallerThanTheWorldIsRefusedByEveryRank() throws {
      let r = try Self.run(
        3,
        [
          "train", "--data", Self.data, "--from-scratch", "tiny", "--image-size", "32", "--batch-size", "2", "--out",
          Self.root + "/tiny-batch",
        ])
      #expect(r.status != 0 && !r.hung)
      #expect(r.output.contains("--batch-size 2 is the global batch and must be ≥ the 3 processes"), "\(r.output)")
    }
  }
#else
  /// Without the MPI trait, a binary started by an MPI launcher refuses to run as several
  /// independent one-process trainings writing the same folder.
  @Suite struct NoMPITests {
    @Test func aLaunchWithSeveralProcessesIsRefused() throws {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: CLITests.binary)
      p.arguments = [
        "train", "--data", "manifest:/nonexistent.csv", "--from-scratch", "tiny", "--out", "/tmp/never-mpi",
      ]
      p.environment = ProcessInfo.processInfo.environment.merging([
        "OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0",
      ]) { $1 }
      let pipe = Pipe()
      p.standardOutput = pipe
      p.standardError = pipe
      try p.run()
      let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      p.waitUntilExit()
      #expect(p.terminationStatus != 0)
      #expect(text.contains("built without MPI") && text.contains("--traits MPI"), "\(text)")
    }
  }
#endif
