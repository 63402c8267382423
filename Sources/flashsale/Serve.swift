import ArgumentParser
import FlashSaleCore
import FlashSaleServer
import FlashSaleStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// Options shared by every subcommand that opens the store.
struct StoreOptions: ParsableArguments {
    @Option(help: "sqlite:PATH (default sqlite:./flashsale.sqlite), sqlite::memory: or postgres://user:pass@host:port/db [FLASHSALE_DATABASE]")
    var database: String?

    func resolved() throws -> DatabaseURL {
        guard let text = database ?? Environment.value("FLASHSALE_DATABASE") else { return .default }
        do {
            return try DatabaseURL(parsing: text)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the shop.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one). [FLASHSALE_PORT, default 8080]") var port: Int?
    @OptionGroup var store: StoreOptions
    @Option(help: "Bearer token for /api/v1/admin; random and printed once when absent. [FLASHSALE_ADMIN_TOKEN]")
    var adminToken: String?
    @Option(help: "Key that signs queue passes; every node of a deployment shares it. [FLASHSALE_SECRET]")
    var secret: String?
    @Option(help: "CIDR of a proxy whose X-Forwarded-For is honoured (repeatable).")
    var trustedProxy: [String] = []
    @Option(help: "Base URL of an external payment provider; in-process provider when absent.")
    var payments: String?
    @Option(help: "Nodes behind the load balancer, fixed: each admits rate / N. Absent: 1 on SQLite; on PostgreSQL, the live nodes counted by heartbeats.")
    var nodeCount: Int?
    @Option(help: "This node's index, 0 ..< node-count.") var nodeIndex = 0
    @Option(help: "Most admitted shoppers not yet holding units per available unit; the factor is learnt from 1 up to this.")
    var admissionStockFactor = 3.0
    @Option(help: "Folder that receives one confirmation email per paid order (RFC 5322 files). [FLASHSALE_MAIL_DROP]")
    var mailDrop: String?
    @Option(help: "Longest wait for the payment provider per call, in milliseconds.") var paymentTimeoutMs = 3_000
    @Option(help: "Concurrent connections to the payment provider (--payments); calls beyond them queue.")
    var paymentConnections = 256
    @Option(help: "Joins per client address: PER_MINUTE/BURST.") var joinLimit = ShieldSettings().joins.description
    @Option(help: "Reservations and payments per queue pass or reservation: PER_MINUTE/BURST.")
    var checkoutLimit = ShieldSettings().checkout.description
    @Option(help: "Other requests per client address: PER_MINUTE/BURST.") var requestLimit = ShieldSettings().requests.description
    @Option(help: "Open connections in total.") var maxConnections = ShieldSettings().maxConnections
    @Option(help: "Open connections per client address (trusted proxies count only in the total).")
    var maxConnectionsPerClient = ShieldSettings().maxConnectionsPerClient
    @Option(help: "Connections the kernel may queue before they are accepted (capped by net.core.somaxconn).")
    var listenBacklog = ShieldSettings().listenBacklog
    @Option(help: "Seconds a request head may take from its first byte.") var headerTimeout = 10.0
    @Option(help: "Seconds a request body may take after its head.") var bodyTimeout = 10.0
    @Option(help: "Seconds a response may wait for a client that stopped reading.") var writeTimeout = 10.0
    @Option(help: "Seconds an idle keep-alive connection stays open.") var idleTimeout = 30.0
    @Option(help: "Highest proof-of-work level a risky join is asked for, 0 (off) to 6; level n is README's table.")
    var proofOfWorkMaxLevel = ChallengeLevels.standard.bits.count - 1
    @Flag(help: "Create a demo sale (100 units, opening 30 s after start) when none is running.") var demo = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: "Log format: text or json (one JSON object per line).") var logFormat = "text"
    @Option(help: "Base URL of an OTLP/HTTP collector, such as http://127.0.0.1:4318; traces off when absent. [FLASHSALE_OTEL_ENDPOINT]")
    var otelEndpoint: String?

    func run() async throws {
        let otel = try otelEndpointURL()
        let logger = try LogSetup.bootstrap(level: logLevel, format: logFormat, traceIDs: otel != nil)
        var config = ServerConfig(host: host, database: try store.resolved(), demoSale: demo)
        config.otelEndpoint = otel
        if let port = try port ?? Environment.value("FLASHSALE_PORT").map(Self.parsePort) { config.port = port }
        if let token = adminToken ?? Environment.value("FLASHSALE_ADMIN_TOKEN") {
            config.adminToken = token
        } else {
            // Printed once, on standard output, so the operator can copy it.
            print("admin token (generated; pass --admin-token to choose one): \(config.adminToken)")
        }
        if let secret = secret ?? Environment.value("FLASHSALE_SECRET") {
            config.secret = secret
        } else if (nodeCount ?? 1) > 1 {
            throw ValidationError("--secret is required with --node-count > 1: every node must sign passes alike")
        }
        config.trustedProxies = try trustedProxy.map { text in
            guard let cidr = CIDR(text) else { throw ValidationError("--trusted-proxy \(text) is not a CIDR such as 10.0.0.0/8") }
            return cidr
        }
        if let payments {
            guard let url = URL(string: payments), url.scheme == "http" || url.scheme == "https" else {
                throw ValidationError("--payments must be an http(s) URL")
            }
            config.paymentsURL = url
        }
        config.admissionStockFactor = admissionStockFactor
        if let folder = mailDrop ?? Environment.value("FLASHSALE_MAIL_DROP") {
            config.mailDrop = URL(fileURLWithPath: folder)
        }
        guard paymentTimeoutMs >= 100 else { throw ValidationError("--payment-timeout-ms must be at least 100") }
        config.paymentTimeout = .milliseconds(paymentTimeoutMs)
        guard (1...10_000).contains(paymentConnections) else {
            throw ValidationError("--payment-connections must be between 1 and 10000")
        }
        config.paymentConnections = paymentConnections
        // Left to the heartbeats on PostgreSQL; a SQLite file is one node.
        config.nodeCount = nodeCount ?? (config.database.isPostgres ? nil : 1)
        if config.nodeCount == nil, secret == nil, Environment.value("FLASHSALE_SECRET") == nil {
            logger.warning("no --secret: passes this node signs are refused by any other node sharing the database")
        }
        config.nodeIndex = nodeIndex
        config.shield = try shieldSettings()
        guard ChallengeLevels.standard.bits.indices.contains(proofOfWorkMaxLevel) else {
            throw ValidationError("--proof-of-work-max-level must be 0 (off) to \(ChallengeLevels.standard.bits.count - 1)")
        }
        config.maxChallengeLevel = proofOfWorkMaxLevel
        let descriptors = FileDescriptorLimit.raise(toFit: config.shield.maxConnections)
        if descriptors.soft < config.shield.maxConnections + FileDescriptorLimit.reserve {
            logger.warning(
                "the process may open only \(descriptors.soft) files: fewer connections than --max-connections will be accepted",
                metadata: ["hard_limit": "\(descriptors.hard)"])
        }
        do {
            try config.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        logger.info("starting", metadata: ["database": "\(config.database)", "node": "\(config.nodeCount.map { "\(nodeIndex + 1)/\($0)" } ?? "one of the live nodes (heartbeats) \(config.nodeID.lowercased)")"])
        let app = try await buildApplication(config, logger: logger)
        // As `app.runService()`, with bounds on the stop: requests in flight get 10 s, then
        // what is left is cancelled, and a process still running 12 s after the signal
        // exits. After PostgreSQL restarted under load a node's graceful stop could wait
        // forever on a pooled connection (issue 12's fault tests); a node must always stop.
        // (swift-service-lifecycle's own last resort is a fatal error, whose backtrace
        // takes longer than the stop it ends.)
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        let watchdog = Task {
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                try await Task.sleep(for: .seconds(12))
                logger.critical("still stopping 12 s after \(signal); exiting")
                Foundation.exit(1)
            }
        }
        defer { watchdog.cancel() }
        try await ServiceGroup(configuration: group).run()
    }

    func otelEndpointURL() throws -> URL? {
        guard let text = otelEndpoint ?? Environment.value("FLASHSALE_OTEL_ENDPOINT") else { return nil }
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("--otel-endpoint must be an http(s) URL, such as http://127.0.0.1:4318")
        }
        return url
    }

    func shieldSettings() throws -> ShieldSettings {
        var shield = ShieldSettings()
        func policy(_ text: String, _ flag: String) throws -> RatePolicy {
            guard let policy = RatePolicy(text) else { throw ValidationError("--\(flag) must be PER_MINUTE/BURST, both ≥ 1, such as 60/30") }
            return policy
        }
        shield.joins = try policy(joinLimit, "join-limit")
        shield.checkout = try policy(checkoutLimit, "checkout-limit")
        shield.requests = try policy(requestLimit, "request-limit")
        shield.maxConnections = maxConnections
        shield.maxConnectionsPerClient = maxConnectionsPerClient
        shield.listenBacklog = listenBacklog
        for (value, flag) in [(headerTimeout, "header"), (bodyTimeout, "body"), (writeTimeout, "write"), (idleTimeout, "idle")]
        where !(0.1...3_600).contains(value) {
            throw ValidationError("--\(flag)-timeout must be between 0.1 and 3600 seconds")
        }
        shield.headerTimeout = .milliseconds(Int(headerTimeout * 1000))
        shield.bodyTimeout = .milliseconds(Int(bodyTimeout * 1000))
        shield.writeTimeout = .milliseconds(Int(writeTimeout * 1000))
        shield.idleTimeout = .milliseconds(Int(idleTimeout * 1000))
        return shield
    }

    static func parsePort(_ text: String) throws -> Int {
        guard let port = Int(text) else { throw ValidationError("FLASHSALE_PORT must be a number") }
        return port
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations and exit.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let logger = try LogSetup.bootstrap(level: "info", format: "text")
        let database = try store.resolved()
        let opened = try makeStore(database, logger: logger)
        try await withStoreServices(opened) {
            try await opened.migrate()
        }
        logger.info("migrations applied", metadata: ["database": "\(database)"])
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
