import Foundation
import Testing

/// The edge shield against real attack tools, at the small size of `--quick`: slowhttptest
/// in slow-header, slow-body and slow-read modes, thousands of idle sockets from one
/// address, and a wrk flood from one address while honest shoppers wait on others
/// (`scripts/attack-suite.sh`, docs/ATTACKS.md). It asserts what the shield promises:
/// a probe from another address keeps being served, the server's descriptors come back,
/// honest shoppers are never refused and the flooder gets no more than its limits. The
/// latencies are figures for BENCHMARKS.md (full size), not asserted here.
@Suite(.serialized, .enabled(if: AttackTools.available, "slowhttptest or wrk is not installed"))
struct AttackSuiteTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/attack-suite.sh").path

    @Test(.timeLimit(.minutes(15))) func slowClientsIdleSocketsAndAFloodDoNotTakeTheShopDown() throws {
        let runs = try Self.run(["all", "--quick"])
        #expect(runs.count == 6, "one report per run: \(runs.map { $0["run"] ?? "?" })")
        for run in runs {
            let name = run["run"] as? String ?? "?"
            switch run["kind"] as? String {
            case "connections":
                let probe = run["probe"] as? [String: Any] ?? [:]
                let fds = run["fds"] as? [String: Any] ?? [:]
                #expect((probe["success_pct"] as? Double ?? 0) >= 99, "\(name): the probe was served: \(probe)")
                #expect(fds["returned"] as? Bool == true, "\(name): descriptors came back to idle: \(fds)")
            case "flood":
                let honest = run["honest"] as? [String: Any] ?? [:]
                #expect(honest["rate_limited_429"] as? Int == 0, "\(name): \(honest)")
                #expect(honest["server_errors_5xx"] as? Int == 0, "\(name): \(honest)")
                #expect((honest["requests"] as? Int ?? 0) > 0, "\(name): the honest shoppers ran")
                if let flooder = run["flooder"] as? [String: Any] {
                    let through = flooder["through"] as? [String: Int] ?? [:]
                    let allowed = flooder["allowed"] as? [String: Int] ?? [:]
                    for kind in ["join", "read"] {
                        #expect(
                            (through[kind] ?? .max) <= (allowed[kind] ?? -1), "\(name): the flooder's \(kind)s within its limit: \(flooder)")
                    }
                    #expect((flooder["requests"] as? Int ?? 0) > (through["join"] ?? 0) + (through["read"] ?? 0), "the flood was refused")
                }
            default:
                Issue.record("unknown run: \(run)")
            }
        }
    }

    /// Runs the script against the binary built beside the tests; one JSON object a line.
    static func run(_ arguments: [String]) throws -> [[String: Any]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["FLASHSALE_BINARY": ServerProcess.binary.path]) { $1 }
        let data = try runCapturingOutput(process)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("{") }
        let runs = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(!runs.isEmpty, "the attack suite reported nothing (exit \(process.terminationStatus))")
        return runs
    }
}

/// Whether the attack tools are on the PATH; under CI the tests run (and fail) without them.
enum AttackTools {
    static var available: Bool {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        let found = ["slowhttptest", "wrk"].allSatisfy { tool in path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") } }
        return found || ProcessInfo.processInfo.environment["CI"] != nil
    }
}

/// Runs `process` to its exit and returns what it wrote on standard output (or standard
/// error, or, with `alsoStandardError`, both). The output goes to a file, not a pipe: processes that other tests spawn
/// meanwhile inherit a pipe's write end, and reading a pipe to its end would wait for them.
func runCapturingOutput(_ process: Process, standardError: Bool = false, alsoStandardError: Bool = false) throws -> Data {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-output-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: file.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: file) }
    let handle = try FileHandle(forWritingTo: file)
    if standardError { process.standardError = handle } else { process.standardOutput = handle }
    if alsoStandardError { process.standardError = handle }
    try process.run()
    process.waitUntilExit()
    try handle.close()
    return try Data(contentsOf: file)
}
