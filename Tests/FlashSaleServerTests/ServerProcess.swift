import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// A real `flashsale serve` process on an ephemeral port, for tests that need sockets,
/// signals and restarts.
final class ServerProcess: Sendable {
    let process: Process
    let baseURL: String
    private let output: OutputLog

    static let adminToken = "process-admin-token"

    /// The binary built beside the test bundle (`swift build --build-tests` builds both).
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["FLASHSALE_BINARY"] { return URL(fileURLWithPath: path) }
        let beside = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("flashsale")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/flashsale")
    }

    private init(process: Process, baseURL: String, output: OutputLog) {
        self.process = process
        self.baseURL = baseURL
        self.output = output
    }

    /// The shield's per-address limits, raised: these tests play a whole crowd from one
    /// loopback address to check other promises (the shield has tests of its own, and
    /// `scripts/attack-suite.sh` plays distinct addresses). A test may pass its own.
    static let crowdFromOneAddress = [
        "--join-limit": "1000000/1000000", "--request-limit": "1000000/1000000", "--checkout-limit": "1000000/1000000",
        "--max-connections-per-client": "4096",
    ]

    /// Starts the server and waits for its `listening on http://HOST:PORT` line.
    static func start(database: String, extraArguments: [String] = [], environment: [String: String] = [:]) async throws -> ServerProcess {
        let mailDrop = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-mail-\(UUID().uuidString)").path
        let limits = crowdFromOneAddress.sorted { $0.key < $1.key }.filter { !extraArguments.contains($0.key) }.flatMap { [$0.key, $0.value] }
        return try await launch(
            [
                "serve", "--port", "0", "--database", database, "--admin-token", adminToken, "--secret", "s3cret",
                "--mail-drop", mailDrop,
            ] + limits + extraArguments, environment: environment)
    }

    /// Starts `flashsale psp` on a free port with its ledger in `ledger`.
    static func startPSP(ledger: String, extraArguments: [String] = []) async throws -> ServerProcess {
        try await launch(["psp", "--port", "0", "--ledger", ledger] + extraArguments)
    }

    /// Runs the binary with `arguments` and waits for its `listening on` line.
    static func launch(_ arguments: [String], environment: [String: String] = [:]) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = OutputLog()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.append(data) }
        }
        try process.run()
        // Waits for the event (the ready line, or the process's exit); the bound only keeps a
        // hung binary from hanging the suite, far beyond a start on a starved machine.
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            if let url = output.listeningURL { return ServerProcess(process: process, baseURL: url, output: output) }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw ProcessError("\(arguments.first ?? "") did not report listening; output:\n\(output.text)")
    }

    var log: String { output.text }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    // MARK: HTTP

    struct Reply: Sendable {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))  // a guard, not a claim
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: Data(body.readableBytesView))
    }

    var admin: [(String, String)] { [("Authorization", "Bearer \(Self.adminToken)")] }
}

/// Everything the process printed, gathered off its pipe so it never blocks on a full pipe.
final class OutputLog: Sendable {
    private let buffer = Mutex(Data())

    func append(_ data: Data) { buffer.withLock { $0.append(data) } }
    var text: String { buffer.withLock { String(decoding: $0, as: UTF8.self) } }

    var listeningURL: String? {
        guard let range = text.range(of: #"listening on http://[0-9.]+:[0-9]+"#, options: .regularExpression) else { return nil }
        return String(text[range].dropFirst("listening on ".count))
    }
}

struct ProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh SQLite file in a temporary folder.
func temporaryDatabase() throws -> (url: String, folder: URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-process-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return ("sqlite:\(folder.appendingPathComponent("shop.sqlite").path)", folder)
}

/// A database of its own on the test cluster (`FLASHSALE_TEST_POSTGRES_URL`), for a spawned
/// shop whose background workers (outbox, reconciler, expiry) must not act on rows other
/// tests are looking at. Made and dropped with `psql`.
enum ScratchPostgres {
    static func create() throws -> String {
        guard let shared = ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"],
            let slash = shared.lastIndex(of: "/")
        else { throw ProcessError("FLASHSALE_TEST_POSTGRES_URL is not set") }
        let name = "flashsale_scratch_\(UUID().uuidString.prefix(8).lowercased())"
        try psql(shared, "CREATE DATABASE \(name)")
        return String(shared[..<slash]) + "/" + name
    }

    static func drop(_ url: String) {
        guard let slash = url.lastIndex(of: "/"), let shared = ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"]
        else { return }
        try? psql(shared, "DROP DATABASE IF EXISTS \(url[url.index(after: slash)...]) WITH (FORCE)")
    }

    private static func psql(_ url: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ProcessError("psql failed: \(sql)") }
    }
}
