import Foundation
import PostgresNIO
import Testing

@testable import FlashSaleStore

/// `PipelinedTransaction` sends a transaction's statements in groups: whatever its body
/// does (commits, returns without committing, throws) and whether the statements succeed,
/// the transaction is over when `run` returns, and its locks with it.
@Suite(.enabled(if: StoreKind.postgresURL != nil)) struct PipelinedTransactionTests {
    struct Refused: Error {}

    /// Runs `body` with the store's pool and a table of its own, `probe (n int)`.
    func withProbe(_ body: @escaping @Sendable (PostgresClient, Logger, String) async throws -> Void) async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            let table = "probe_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await postgres.client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (n int)"), logger: postgres.logger)
            try await body(postgres.client, postgres.logger, table)
            try await postgres.client.query(PostgresQuery(unsafeSQL: "DROP TABLE \(table)"), logger: postgres.logger)
        }
    }

    func count(_ table: String, on client: PostgresClient, logger: Logger) async throws -> Int {
        for try await (n) in try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(table)"), logger: logger)
            .decode(Int.self)
        {
            return n
        }
        return -1
    }

    /// True when another session can take the advisory lock `key` (and lets it go again).
    func lockIsFree(_ key: Int, on client: PostgresClient, logger: Logger) async throws -> Bool {
        for try await (free) in try await client.query("SELECT pg_try_advisory_xact_lock(\(key))", logger: logger).decode(Bool.self) {
            return free
        }
        return false
    }

    @Test func theWritesDecidedFromTheFirstAnswersCommit() async throws {
        try await withProbe { client, logger, table in
            let returned = try await PipelinedTransaction.run(on: client, logger: logger) { transaction in
                let answers = try await transaction.begin(["SELECT 20 + 1", "SELECT pg_try_advisory_xact_lock(7001)"])
                let n = try answers[0].first!.decode(Int.self)
                let written = try await transaction.commit([PostgresQuery(unsafeSQL: "INSERT INTO \(table) SELECT \(n) RETURNING n")])
                return try written[0].first?.decode(Int.self)
            }
            #expect(returned == 21)
            #expect(try await count(table, on: client, logger: logger) == 1)
            #expect(try await lockIsFree(7001, on: client, logger: logger))
        }
    }

    @Test func returningWithoutCommittingRollsBackAndLetsTheLockGo() async throws {
        try await withProbe { client, logger, table in
            let value = try await PipelinedTransaction.run(on: client, logger: logger) { transaction in
                _ = try await transaction.begin([
                    PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)"), "SELECT pg_try_advisory_xact_lock(7002)",
                ])
                return "declined"
            }
            #expect(value == "declined")
            #expect(try await count(table, on: client, logger: logger) == 0)
            #expect(try await lockIsFree(7002, on: client, logger: logger))
        }
    }

    @Test func aBodyThatThrowsRollsBack() async throws {
        try await withProbe { client, logger, table in
            await #expect(throws: Refused.self) {
                try await PipelinedTransaction.run(on: client, logger: logger) { transaction in
                    _ = try await transaction.begin([
                        PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)"), "SELECT pg_try_advisory_xact_lock(7003)",
                    ])
                    throw Refused()
                }
            }
            let rows = try await count(table, on: client, logger: logger)
            let free = try await lockIsFree(7003, on: client, logger: logger)
            #expect(rows == 0 && free)
        }
    }

    @Test func aFailedStatementAbortsTheWholeTransaction() async throws {
        try await withProbe { client, logger, table in
            // In the first group: the body goes no further.
            await #expect(throws: PSQLError.self) {
                try await PipelinedTransaction.run(on: client, logger: logger) { transaction in
                    _ = try await transaction.begin([
                        PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)"), PostgresQuery(unsafeSQL: "SELECT n / 0 FROM \(table)"),
                    ])
                    Issue.record("went on after a failed statement")
                }
            }
            // In the last: the COMMIT after it rolls everything back.
            await #expect(throws: PSQLError.self) {
                try await PipelinedTransaction.run(on: client, logger: logger) { transaction in
                    _ = try await transaction.begin([PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (1)")])
                    _ = try await transaction.commit([
                        PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES (2)"), PostgresQuery(unsafeSQL: "SELECT n / 0 FROM \(table)"),
                    ])
                }
            }
            #expect(try await count(table, on: client, logger: logger) == 0)
            // No session is left inside a transaction after the probe's statements (other
            // suites' sessions share the database, so only those that touched the probe count).
            for try await (open) in try await client.query(
                """
                SELECT count(*)::bigint FROM pg_stat_activity
                WHERE state LIKE 'idle in transaction%' AND strpos(query, \(table)) > 0
                """,
                logger: logger
            ).decode(Int.self) {
                #expect(open == 0)
            }
        }
    }
}
