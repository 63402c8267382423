import FlashSaleCore
import Foundation
import PostgresNIO
import Testing

@testable import FlashSaleStore

/// `flashsale_reserve_batch` (migration 10) writes a batch planned without reading its facts
/// only when, under the sale's lock, those facts are as the plan assumed: no key stored, no
/// units of its customers, no live reservation of its passes, and the stock to cover it.
/// Otherwise it writes nothing, and the store plans the batch on read facts
/// (`StoreConformanceTests.laterBatchesSeeWhatEarlierOnesStored` covers the outcome).
@Suite struct ReserveBatchFunctionTests {
    typealias Answer = PostgresStatements.ReserveBatch.Row

    /// The batch planned as `commitReservations` first plans it, sent on `pool`.
    static func assumingClear(
        _ attempts: [ReservationAttempt], sale: Sale, on pool: PostgresClient, logger: Logger
    ) async throws -> Answer {
        let statement = PostgresStatements.ReserveBatch.assumingClear(attempts, saleID: sale.id, now: Date())
        let row = try #require(try await pool.query(try statement.query, logger: logger).collect().first)
        return try statement.decodeRow(row)
    }

    static func check(_ answer: Answer, locked: Bool, clear: Bool, written: Bool, available: Int?) {
        #expect(answer.locked == locked && answer.clear == clear && answer.written == written, "\(answer)")
        #expect(answer.availableAfter == available, "\(answer)")
    }

    @Test(.enabled(if: StoreKind.postgresURL != nil)) func writesOnlyWhatItsCheckAllows() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            let (pool, logger) = (postgres.engineClient, postgres.logger)
            let sale = try await makeSale(store, quantity: 5, limit: 2)
            let ann = attempt(sale, email: "ann@example.com")
            let bo = attempt(sale, email: "bo@example.com")

            // Nothing stored yet: written in the one statement.
            Self.check(
                try await Self.assumingClear([ann, bo], sale: sale, on: pool, logger: logger),
                locked: true, clear: true, written: true, available: 3)
            #expect(try await store.reservation(id: ann.reservationID)?.status == .held)
            #expect(try await store.storedResponse(scope: bo.idempotency.scope, key: bo.idempotency.key)?.response.status == 201)

            // Each fact that is not empty stops it, and nothing of the batch is written.
            let newcomer = attempt(sale, email: "cy@example.com")
            var replay = attempt(sale, pass: ann.passID)
            replay.idempotency = ann.idempotency
            let returning = attempt(sale, email: "bo@example.com")
            let samePass = attempt(sale, email: "di@example.com", pass: bo.passID)
            for stored in [replay, returning, samePass] {
                Self.check(
                    try await Self.assumingClear([newcomer, stored], sale: sale, on: pool, logger: logger),
                    locked: true, clear: false, written: false, available: nil)
            }
            // Stock short of the batch: checked, not written.
            let many = (0..<4).map { _ in attempt(sale) }
            Self.check(
                try await Self.assumingClear(many, sale: sale, on: pool, logger: logger),
                locked: true, clear: true, written: false, available: nil)
            #expect(try await store.reservation(id: newcomer.reservationID) == nil)
            #expect(try await store.storedResponse(scope: newcomer.idempotency.scope, key: newcomer.idempotency.key) == nil)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 3, reserved: 2, sold: 0))

            // Another session holds the sale's lock (another node's batch): not even checked.
            try await postgres.client.withConnection { other in
                _ = try await other.query("SELECT pg_advisory_lock(hashtextextended(\(sale.id.lowercased), 11))", logger: logger).collect()
                Self.check(
                    try await Self.assumingClear([newcomer], sale: sale, on: pool, logger: logger),
                    locked: false, clear: false, written: false, available: nil)
                _ = try await other.query("SELECT pg_advisory_unlock(hashtextextended(\(sale.id.lowercased), 11))", logger: logger).collect()
            }
            Self.check(
                try await Self.assumingClear([newcomer], sale: sale, on: pool, logger: logger),
                locked: true, clear: true, written: true, available: 2)
            try await checkInvariant(store, sale.id)
        }
    }
}
