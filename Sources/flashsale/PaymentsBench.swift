import ArgumentParser
import FlashSaleBench
import Foundation

struct PaymentsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments",
        abstract: "Payments/s through a spawned `flashsale psp`, with every answer given and with a share withheld, side by side.")

    @Option(help: "Shoppers, each reserving one unit and paying once.") var shoppers = 60
    @Option(help: "Concurrent shoppers.") var concurrency = 60
    @Option(help: "Share of the provider's answers withheld (charged, never answered) in the second run, 0…1.")
    var withheld = 0.3
    @Option(help: "Milliseconds the provider sleeps before each charge.") var latencyMs = 5
    @Option(help: "First of the ports used (provider, shop).") var port = 18_090

    func run() async throws {
        guard (0...1).contains(withheld) else { throw ValidationError("--withheld must be between 0 and 1") }
        var results: [(Double, PaymentsBenchmark.Result)] = []
        for rate in [0, withheld] {
            let result = try await round(withheld: rate)
            results.append((rate, result))
            let answers = result.answers.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            print(String(
                format: "withheld %3.0f%%: %d shoppers; answers %@ in %.2f s (%d paid by then); all paid after %@; %d paid within 15 s; %@ payments/s; %d failed",
                rate * 100, result.shoppers, answers, result.secondsToAnswerAll, result.paidWhenAnswered,
                result.secondsToPayAll.map { String(format: "%.2f s", $0) } ?? "never (\(result.paid) paid)",
                result.paidWithin15Seconds, result.paymentsPerSecond.map { String(format: "%.1f", $0) } ?? "-", result.failed))
        }
        if let fast = results.first?.1.paymentsPerSecond, let slow = results.last?.1.paymentsPerSecond {
            print(String(format: "ratio withheld/all answered: %.2f", slow / fast))
        }
    }

    /// A fresh provider and shop (SQLite in a temporary folder), one run, both stopped.
    private func round(withheld rate: Double) async throws -> PaymentsBenchmark.Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let provider = try spawnThisBinary([
            "psp", "--port", "\(port)", "--timeout-rate", "\(rate)", "--latency-ms", "\(latencyMs)", "--seed", "1",
            "--ledger", "memory", "--log-level", "warning",
        ])
        defer { stop(provider) }
        let shop = try spawnThisBinary([
            "serve", "--port", "\(port + 1)", "--database", "sqlite:\(folder.appendingPathComponent("shop.sqlite").path)",
            "--admin-token", "bench-admin-token", "--payments", "http://127.0.0.1:\(port)", "--log-level", "warning",
            "--mail-drop", folder.appendingPathComponent("mail").path,
            // Every shopper comes from this one address: the shield's per-address limits step aside.
            "--join-limit", "1000000/1000000", "--request-limit", "1000000/1000000", "--checkout-limit", "1000000/1000000",
        ])
        defer { stop(shop) }
        let base = "http://127.0.0.1:\(port + 1)"
        try await HTTPBenchmark.waitUntilReady(baseURL: base)
        return try await PaymentsBenchmark(baseURL: base, adminToken: "bench-admin-token", shoppers: shoppers, concurrency: concurrency).run()
    }

    private func stop(_ process: Process) {
        process.terminate()
        process.waitUntilExit()
    }
}

/// Starts this same `flashsale` binary with `arguments` (its standard output discarded):
/// benchmarks measure real server and provider processes.
func spawnThisBinary(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return process
}
