import ArgumentParser
import FlashSaleBench
import FlashSaleServer
import FlashSaleStore
import Foundation
import Hummingbird
import Logging

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures and ratios against a baseline run side by side.",
        subcommands: [
            EngineBench.self, HTTPBench.self, QueueBench.self, ConsoleBench.self, ShieldBench.self, PaymentsBench.self, ProofOfWorkBench.self,
        ]
    )
}

struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Single-SKU reservations/s: the inventory engine against one transaction per reservation.")

    @Option(help: "sqlite:PATH or postgres://… (default: a fresh SQLite file in a temporary folder)")
    var database: String?
    @Option(help: "Reservation attempts per mode (each succeeds: the sale has that many units).") var attempts = 20_000
    @Option(help: "Attempts for the naive baseline (it is slow; its rate does not depend on the count).")
    var naiveAttempts = 3_000
    @Option(help: "Concurrent shoppers.") var concurrency = 64

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let url: DatabaseURL
        if let database {
            url = try DatabaseURL(parsing: database)
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            url = .sqliteFile(path: folder.appendingPathComponent("bench.sqlite").path)
        }
        let store = try makeStore(url, logger: logger)
        try await withStoreServices(store) {
            try await store.migrate()
            print("store: \(url), concurrency \(concurrency)")
            let naive = try await EngineBenchmark(store: store, attempts: naiveAttempts, concurrency: concurrency).run(.naive)
            let engine = try await EngineBenchmark(store: store, attempts: attempts, concurrency: concurrency).run(.engine)
            for result in [naive, engine] {
                print(
                    "\(result.mode.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) "
                        + "\(result.reserved) reserved in \(String(format: "%.2f", result.seconds)) s = "
                        + "\(Int(result.perSecond)) reservations/s"
                        + (result.batching.map { String(format: " (%d batches, mean %.1f, largest %d)", $0.batches, $0.averageBatch, $0.largestBatch) } ?? ""))
            }
            print("ratio engine/naive: \(String(format: "%.1f", engine.perSecond / naive.perSecond))x")
        }
    }
}

struct HTTPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http", abstract: "Reservations/s through HTTP on loopback.")

    @Option(help: "Base URL of a running server; when absent one is started in this process on --port.")
    var url: String?
    @Option(help: "Admin token of the server at --url.") var adminToken = "bench-admin-token"
    @Option(help: "Port of the in-process server.") var port = 18_080
    @Option(help: "Database of the in-process server (default: a fresh SQLite file in a temporary folder).")
    var database: String?
    @Option(help: "Shoppers, each joining and reserving once.") var shoppers = 20_000
    @Option(help: "Concurrent connections.") var concurrency = 64

    func run() async throws {
        let benchmark = { (base: String) in
            try await HTTPBenchmark(baseURL: base, adminToken: adminToken, shoppers: shoppers, concurrency: concurrency).run()
        }
        let result: HTTPBenchmark.Result
        if let url {
            result = try await benchmark(url)
        } else {
            var logger = Logger(label: "bench-server")
            // Quiet: cancelling the in-process server at the end logs an expected error.
            logger.logLevel = .critical
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let db = try database.map(DatabaseURL.init(parsing:)) ?? .sqliteFile(path: folder.appendingPathComponent("http.sqlite").path)
            let config = ServerConfig(port: port, database: db, adminToken: adminToken)
            let app = try await buildApplication(config, logger: logger)
            result = try await withThrowingTaskGroup(of: HTTPBenchmark.Result?.self) { group in
                group.addTask {
                    try await app.run()
                    return nil
                }
                try await HTTPBenchmark.waitUntilReady(baseURL: "http://127.0.0.1:\(port)")
                let result = try await benchmark("http://127.0.0.1:\(port)")
                group.cancelAll()
                return result
            }
        }
        print("shoppers \(result.shoppers), connections \(concurrency)")
        print("joins:        \(Int(result.joinsPerSecond)) /s")
        print("reservations: \(Int(result.reservationsPerSecond)) /s (\(result.reserved) reserved; statuses \(result.statusCounts))")
    }
}

struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Server memory while distinct passes wait and poll, and poll requests/s (spawns flashsale serve).")

    @Option(help: "Distinct shoppers, each joining once and polling once.") var passes = 100_000
    @Option(help: "Concurrent connections.") var concurrency = 64
    @Option(help: "Port of the spawned server.") var port = 18_081

    func run() async throws {
        try await withCrowdServer(port: port) { base, server in try await measure(base: base, server: server) }
    }

    private func measure(base: String, server: Process) async throws {
        let result = try await QueueBenchmark(
            baseURL: base, adminToken: "bench-admin-token", serverPID: server.processIdentifier, passes: passes,
            concurrency: concurrency
        ).run()
        print("passes \(result.passes), connections \(concurrency)")
        print(String(format: "server RSS: %.1f MiB at start, %.1f after %d joins, %.1f after %d polls (growth %.1f MiB)",
                     result.rssStartMiB, result.rssAfterJoinsMiB, result.passes, result.rssAfterPollsMiB, result.passes,
                     result.rssAfterPollsMiB - result.rssStartMiB))
        print("joins: \(Int(result.joinsPerSecond)) /s; polls: \(Int(result.pollsPerSecond)) /s; answers \(result.statuses)")
    }
}

struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Queue polls/s with and without dashboard viewers and a metrics scrape, in alternating rounds (spawns flashsale serve).")

    @Option(help: "Distinct waiting shoppers, each polling once a round.") var passes = 20_000
    @Option(help: "Concurrent connections of the shoppers.") var concurrency = 64
    @Option(help: "Dashboards following /api/v1/admin/events in the watched rounds.") var viewers = 10
    @Option(help: "Rounds of each arm (without, with viewers), alternating.") var rounds = 5
    @Option(help: "Port of the spawned server.") var port = 18_082

    func run() async throws {
        try await withCrowdServer(port: port) { base, _ in try await measure(base: base) }
    }

    private func measure(base: String) async throws {
        let result = try await ConsoleBenchmark(
            baseURL: base, adminToken: "bench-admin-token", passes: passes, concurrency: concurrency, viewers: viewers, rounds: rounds
        ).run { print($0) }
        let median = ConsoleBenchmark.Result.median
        print("passes \(passes), connections \(concurrency), viewers \(viewers), rounds \(rounds) of each")
        print(String(format: "polls/s without viewers: median %.0f  (%@)", median(result.withoutViewers),
                     result.withoutViewers.map { String(format: "%.0f", $0) }.joined(separator: " ")))
        print(String(format: "polls/s with %d viewers + 1 scrape/s: median %.0f  (%@)", viewers, median(result.withViewers),
                     result.withViewers.map { String(format: "%.0f", $0) }.joined(separator: " ")))
        print(String(format: "ratio with/without: %.3f; stats events received %d, scrapes %d", result.ratio, result.eventsReceived, result.scrapes))
    }
}

struct ShieldBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shield",
        abstract: "The shield's per-request costs: access-list lookup (trie vs scan) and per-client buckets with many clients.")

    @Option(help: "Networks on the access list.") var networks = 100_000
    @Option(help: "Distinct clients fed to the rate limiter.") var clients = 1_000_000
    @Option(help: "Clients the limiter remembers at most.") var capacity = 100_000

    func run() async throws {
        let r = ShieldBenchmark(networks: networks, clients: clients, capacity: capacity).run()
        print(String(format: "access list, %d networks: trie %.0f ns/lookup, scan %.0f ns/lookup (%.0fx); tables built in %.0f ms",
            r.networks, r.trieLookupNanoseconds, r.scanLookupNanoseconds, r.scanLookupNanoseconds / r.trieLookupNanoseconds,
            r.tableBuildMilliseconds))
        print(String(format: "rate limiter, %d distinct clients: %.0f ns/take for a new client (evicting), %.0f ns/take for a known one; %d held (capacity %d), +%.1f MiB resident",
            r.distinctClients, r.takeNanoseconds, r.knownTakeNanoseconds, r.limiterHeld, r.limiterCapacity, r.limiterMiB))
    }
}

/// Spawns `flashsale serve` on a fresh SQLite file and `port`, waits until it is ready, runs
/// `body` with its base URL, and stops it. Every pass comes from this one address: the
/// shield's per-address limits step aside.
func withCrowdServer(port: Int, _ body: (String, Process) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let server = try spawnThisBinary([
        "serve", "--port", "\(port)", "--database", "sqlite:\(folder.appendingPathComponent("bench.sqlite").path)",
        "--admin-token", "bench-admin-token", "--log-level", "warning",
        "--join-limit", "1000000/1000000", "--request-limit", "1000000/1000000", "--max-connections-per-client", "4096",
    ])
    defer {
        server.terminate()
        server.waitUntilExit()
    }
    let base = "http://127.0.0.1:\(port)"
    try await HTTPBenchmark.waitUntilReady(baseURL: base)
    try await body(base, server)
}
