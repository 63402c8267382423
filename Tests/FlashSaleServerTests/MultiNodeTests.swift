import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

@testable import FlashSaleServer

/// Two nodes of one deployment: one store, one secret, `--node-count 2`.
@Suite struct MultiNodeTests {
    @Test func aPassIssuedByOneNodeIsHonouredByTheOther() async throws {
        let store = try SQLiteStore(path: nil)
        var config = ServerConfig.testing
        config.nodeCount = 2
        let first = try await buildApplication(config, store: store)
        config.nodeIndex = 1
        let second = try await buildApplication(config, store: store)
        try await first.test(.router) { one in
            try await second.test(.router) { two in
                let sale = try await one.createSale(["starts_at": Timestamp.format(Date().addingTimeInterval(60))])
                let joined = try await one.join(sale)
                let pass = try #require(joined["pass"])
                #expect(joined["status"] == "not_started")
                // The other node keeps the same place (the same visitor, the same first arrival).
                let polled = try await two.send(.get, "/api/v1/sales/\(sale)/queue", headers: [WaitingRoom.passHeader: pass])
                let signer = PassSigner(secret: ServerConfig.testing.secret)
                let before = try #require(signer.verify(pass))
                let token = try #require(polled["pass"])
                let after = try #require(signer.verify(token))
                #expect(after.visitorID == before.visitorID && after.firstArrival == before.firstArrival)
                // And an admitted pass from one node reserves on the other.
                let live = try await one.createSale()
                let admitted = try await one.admittedPass(live)
                let reserved = try await two.reserve(live, pass: admitted, json: #"{"email": "n@example.com", "quantity": 1}"#)
                #expect(reserved.status == .created, "\(reserved.text)")
            }
        }
    }
}

/// Nodes on one PostgreSQL with no `--node-count`: they count each other by heartbeats.
/// Run with the timed suites, apart from the store's conformance suites: these are whole
/// apps on the shared test database, and their reconcilers and outbox workers would take
/// up the payments those suites leave pending on purpose.
@Suite struct SharedAdmissionTests {
    static var postgres: DatabaseURL.Postgres? {
        guard let url = ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"], !url.isEmpty,
            case .postgres(let settings) = try? DatabaseURL(parsing: url)
        else { return nil }
        return settings
    }

    /// Polls `read` every 100 ms until it answers true, for at most `seconds`.
    static func eventually(within seconds: Double, _ read: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await read() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await read()
    }

    @Test(.enabled(if: postgres != nil)) func eachLiveNodeAdmitsItsShareAndTheSurvivorTakesUpALeaversShare() async throws {
        let settings = try #require(Self.postgres)
        var logger = Logger(label: "shared-admission")
        logger.logLevel = .error
        var config = ServerConfig.testing
        config.nodeCount = nil
        config.database = .postgres(settings)
        let first = try await buildApplication(config, logger: logger, store: PostgresStore(settings, maximumConnections: 5, logger: logger))
        config.nodeID = UUID()
        let second = try await buildApplication(config, logger: logger, store: PostgresStore(settings, maximumConnections: 5, logger: logger))
        try await first.test(.router) { one in
            @Sendable func nodeRate(_ sale: String) async throws -> Double {
                let queue = try await one.stats(sale).json["queue"] as? [String: Any]
                return queue?["node_admission_rate_per_second"] as? Double ?? -1
            }
            let sale = try await one.createSale(["admission_rate_per_second": 100, "quantity": 50])
            try await second.test(.router) { two in
                let halved = try await Self.eventually(within: 10) { try await nodeRate(sale) == 50 }
                let seen = try await nodeRate(sale)
                #expect(halved, "two live nodes admit 50/s each of 100/s (saw \(seen))")
                // A shopper who joined on the other node counts in this node's figures: after
                // the other's next heartbeat and then this one's, 1 s when idle, but the timed
                // suites beside this one saturate both cores (a 5 s wait failed in CI once).
                _ = try await two.join(sale)
                let counted = try await Self.eventually(within: 15) {
                    (try await one.stats(sale).json["queue"] as? [String: Any])?["joined"] as? Int ?? 0 >= 1
                }
                #expect(counted, "the other node's joins reach this node's stats by its heartbeat")
            }
            // The second node stopped gracefully: the first admits the whole rate again.
            let whole = try await Self.eventually(within: 10) { try await nodeRate(sale) == 100 }
            let seen = try await nodeRate(sale)
            #expect(whole, "the survivor takes up the whole rate (saw \(seen))")
        }
    }
}
