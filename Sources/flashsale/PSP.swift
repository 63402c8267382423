import ArgumentParser
import FlashSalePayments
import FlashSaleServer
import Hummingbird

struct PSP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psp", abstract: "Run the simulated payment provider, with injectable faults.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 9090
    @Option(help: "Milliseconds slept before each charge is processed.") var latencyMs = 0
    @Option(help: "Share of charges answered 503 before charging, 0…1.") var failRate = 0.0
    @Option(help: "Share of charges made but never answered, 0…1.") var timeoutRate = 0.0
    @Option(help: "Seed of the fault dice, for a repeatable run; random when absent.") var seed: UInt64?
    @Option(help: "Durable ledger file (JSON lines), or `memory` to keep nothing.") var ledger = "./psp-ledger.jsonl"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    var faults: Faults { Faults(latencyMs: latencyMs, failRate: failRate, timeoutRate: timeoutRate, seed: seed) }

    func validate() throws {
        if let problem = faults.problems().first { throw ValidationError("--\(problem)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard !ledger.isEmpty else { throw ValidationError("--ledger needs a file path, or `memory`") }
    }

    func run() async throws {
        let logger = try LogSetup.bootstrap(level: logLevel, format: "text")
        let config = PSPConfig(
            host: host, port: port, faults: faults, ledgerPath: ledger == "memory" ? nil : ledger)
        logger.info(
            "payment provider starting",
            metadata: [
                "ledger": "\(config.ledgerPath ?? "memory")", "latency_ms": "\(latencyMs)", "fail_rate": "\(failRate)",
                "timeout_rate": "\(timeoutRate)", "seed": "\(seed.map(String.init) ?? "random")",
            ])
        let app = try buildPSPApplication(config, logger: logger)
        try await app.runService()
    }
}
