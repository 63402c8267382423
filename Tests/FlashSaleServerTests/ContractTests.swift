import Dispatch
import Foundation
import Testing

/// Issue 13 §5: every answer conforms to docs/openapi.json. schemathesis (PyPI, installed by
/// the script into a virtual environment on first use) generates requests for every
/// operation, admin ones with the token, against a spawned server, and checks for 5xx,
/// undocumented statuses, content types, headers and bodies that break their schemas.
@Suite(.serialized, .enabled(if: ContractTools.available, "python3 cannot create a virtual environment for schemathesis"))
struct ContractTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/contract-test.sh").path

    @Test(.timeLimit(.minutes(20))) func everyAnswerConformsToTheOpenAPIDocument() async throws {
        let (database, folder) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await ServerProcess.start(database: database)
        defer { server.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script, server.baseURL, ServerProcess.adminToken]
        // Waited for off the cooperative pool: the run takes a minute or more, and two cores
        // give the suite only two cooperative threads.
        let output = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { String(decoding: try runCapturingOutput(process, alsoStandardError: true), as: UTF8.self) })
            }
        }
        let summary = output.split(separator: "\n").last { $0.hasPrefix("contract:") } ?? "no summary"
        print("contract run: \(summary)")
        #expect(process.terminationStatus == 0, "\(output.suffix(6_000))")
        #expect(summary.hasSuffix(" 0 failed"), "\(summary)")
    }
}

enum ContractTools {
    /// Under CI the run must happen (a missing tool fails it); elsewhere it needs a python3
    /// that can make a virtual environment.
    static var available: Bool {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import venv, ensurepip"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }
}
