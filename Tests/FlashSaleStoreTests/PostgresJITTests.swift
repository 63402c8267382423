import FlashSaleCore
import Foundation
import PostgresNIO
import Testing

@testable import FlashSaleStore

/// No statement of the shop is compiled by PostgreSQL's JIT. The store's sessions plan with
/// `enable_seqscan` off, which costs any sequential scan that remains at 10^10, far above
/// `jit_above_cost`: the heartbeat's scans of the cluster's tables (a row per node) were
/// then compiled with LLVM on every call, 120 ms of a core at idle and 220 ms under a
/// 100,000-shopper crowd, about 14% of a 2-core machine in that run (issue 15).
@Suite struct PostgresJITTests {
    /// The plan of the heartbeat's statement as `EXPLAIN ANALYZE` prints it on `connection`.
    static func heartbeatPlan(on connection: PostgresConnection, _ store: PostgresStore) async throws -> [String] {
        let node = UUID()
        let line = NodeLine(
            nodeID: node, saleID: UUID(), threshold: Date(), joined: 10, admitted: 4, waiting: 6, achievedRatePerSecond: 2.5)
        let query = try PostgresStore.heartbeatQuery(node: node, lines: [line], liveWithin: 5)
        return try await explain(query, options: "ANALYZE", on: connection, logger: store.logger)
    }

    static func compiled(_ plan: [String]) -> Bool { plan.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("JIT:") } }

    @Test(.enabled(if: StoreKind.postgresURL != nil)) func theHeartbeatRunsUncompiledOnEveryPool() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            // The control: where this server can compile, the heartbeat is compiled when JIT
            // is on in its session, so the checks below can tell.
            let available = try await postgres.client.withConnection { connection in
                try await connection.query("SELECT pg_jit_available()", logger: postgres.logger).collect().first?.decode(Bool.self) ?? false
            }
            if available {
                try await postgres.client.withConnection { connection in
                    // SET LOCAL: the session's own setting is back after the transaction.
                    try await connection.query("BEGIN", logger: postgres.logger).collect()
                    try await connection.query("SET LOCAL jit = on", logger: postgres.logger).collect()
                    let plan = try await Self.heartbeatPlan(on: connection, postgres)
                    try await connection.query("ROLLBACK", logger: postgres.logger).collect()
                    #expect(Self.compiled(plan), "with JIT on, the heartbeat was expected to be compiled:\n\(plan.joined(separator: "\n"))")
                }
            }
            for (name, pool) in [("shoppers", postgres.client), ("engine", postgres.engineClient), ("background", postgres.backgroundClient)] {
                try await pool.withConnection { connection in
                    let setting = try await connection.query("SHOW jit", logger: postgres.logger).collect().first?.decode(String.self)
                    #expect(setting == "off", "the \(name) pool's sessions have jit \(setting ?? "unset")")
                    let plan = try await Self.heartbeatPlan(on: connection, postgres)
                    #expect(!Self.compiled(plan), "the \(name) pool compiled the heartbeat:\n\(plan.joined(separator: "\n"))")
                }
            }
        }
    }
}
