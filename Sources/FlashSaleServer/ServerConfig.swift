import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging

/// Everything `flashsale serve` was told, resolved and validated. One value builds the app.
public struct ServerConfig: Sendable {
    public var host: String
    public var port: Int
    public var database: DatabaseURL
    public var adminToken: String
    public var secret: String
    public var trustedProxies: [CIDR]
    public var paymentsURL: URL?
    /// Nodes sharing each sale's admission rate, fixed (`--node-count`); nil: learnt from
    /// heartbeats in the store (PostgreSQL; on SQLite, one node).
    public var nodeCount: Int?
    public var nodeIndex: Int
    /// This process in the store's list of live nodes: new at every start.
    public var nodeID = UUID()
    /// How often the node heartbeats through the store (`ClusterMembership`).
    public var heartbeatInterval: Duration = .milliseconds(500)
    /// Create a demo sale at start-up when the store has none.
    public var demoSale: Bool
    /// Seconds between sweeps for expired reservations.
    public var expirySweepInterval: Duration
    /// Seconds between refreshes of the storefront cache (the lag of `available`).
    public var catalogRefreshInterval: Duration
    public var logLevel: Logger.Level
    /// The most admitted shoppers holding nothing yet per available unit that the learnt
    /// no-show factor may reach (`NoShowCompensation`; it starts at 1).
    public var admissionStockFactor: Double = NoShowCompensation.defaultMaxFactor
    /// Where confirmation emails are written, one RFC 5322 file per order.
    public var mailDrop = URL(fileURLWithPath: "mail-drop")
    /// The longest a call to an external provider (`--payments`) may take.
    public var paymentTimeout: Duration = .seconds(3)
    /// Concurrent connections to the provider (`--payments`). A provider that holds calls
    /// holds a connection each for up to `paymentTimeout`: at 50 payments/s and 3 s that is
    /// 150, so the default leaves room; calls beyond it queue, and one that waits longer
    /// than a second is answered "not charged" at once (`PaymentProviderError.notSent`).
    public var paymentConnections = 256
    /// How often the reconciler looks for payments left open, and how long past the
    /// provider's timeout it leaves them alone (a charge may still be on its way).
    public var reconcileInterval: Duration = .seconds(1)
    public var reconcileMargin: Duration = .seconds(2)
    /// How often the outbox worker looks for due messages.
    public var outboxInterval: Duration = .milliseconds(250)
    /// The edge shield: per-client limits, connection caps and timeouts.
    public var shield = ShieldSettings()
    /// The highest proof-of-work level a join can be asked for (`ChallengeLevels.standard`,
    /// 0...6); 0 turns proof of work off (`--proof-of-work-max-level`).
    public var maxChallengeLevel = ChallengeLevels.standard.bits.count - 1
    /// An OTLP/HTTP collector's base URL (`--otel-endpoint`): traces are exported there.
    /// Nil: tracing off, at no cost.
    public var otelEndpoint: URL?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, database: DatabaseURL = .default,
        adminToken: String = ServerConfig.randomToken(), secret: String = ServerConfig.randomToken(),
        trustedProxies: [CIDR] = [], paymentsURL: URL? = nil, nodeCount: Int? = 1, nodeIndex: Int = 0,
        demoSale: Bool = false, expirySweepInterval: Duration = .milliseconds(200),
        catalogRefreshInterval: Duration = .milliseconds(250), logLevel: Logger.Level = .info
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.adminToken = adminToken
        self.secret = secret
        self.trustedProxies = trustedProxies
        self.paymentsURL = paymentsURL
        self.nodeCount = nodeCount
        self.nodeIndex = nodeIndex
        self.demoSale = demoSale
        self.expirySweepInterval = expirySweepInterval
        self.catalogRefreshInterval = catalogRefreshInterval
        self.logLevel = logLevel
    }

    /// In-memory SQLite on an ephemeral port with fixed credentials: what tests build.
    public static var testing: ServerConfig {
        var config = ServerConfig(port: 0, database: .sqliteMemory, adminToken: "test-admin-token", secret: "test-secret")
        config.mailDrop = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-mail-\(UUID().uuidString)")
        return config
    }

    /// 32 random bytes, base64url: for generated admin tokens and secrets.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public func validate() throws {
        guard (0...65_535).contains(port) else { throw ConfigError("--port must be between 0 and 65535") }
        if let nodeCount {
            guard nodeCount >= 1 else { throw ConfigError("--node-count must be at least 1") }
            guard (0..<nodeCount).contains(nodeIndex) else {
                throw ConfigError("--node-index must be between 0 and node-count - 1")
            }
        }
        guard !adminToken.isEmpty else { throw ConfigError("--admin-token must not be empty") }
        guard !secret.isEmpty else { throw ConfigError("--secret must not be empty") }
        guard admissionStockFactor >= 1 else { throw ConfigError("--admission-stock-factor must be at least 1") }
        try shield.validate()
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
