import FlashSaleCore
import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing

@testable import FlashSaleStore

/// A database that an earlier release migrated keeps working after the upgrade.
@Suite struct SchemaUpgradeTests {
    /// v4 adds `payments.flags`: an order paid before it reads back with no flags and is
    /// listed, and new attempts store theirs.
    @Test func paymentsFromBeforeTheFlagsColumnReadBackUnflagged() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore(path: folder.appendingPathComponent("store.sqlite").path)
        try SQLiteSchema.migrator.migrate(store.writer, upTo: "v3-access-lists")
        let sale = try await makeSale(store, quantity: 5, limit: 2)
        let result = try await store.commitReservations([attempt(sale, email: "old@example.com")], saleID: sale.id, now: Date())
        guard case .reserved(let receipt) = result.outcomes[0] else { throw StoreError.corruptRow("not reserved") }
        // The row as v3's beginPayment wrote it (no flags column yet), then paid.
        let orderID = UUID.timeOrdered()
        let now = Date().ms
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO payments (id, reservation_id, sale_id, status, email, quantity, amount_cents, currency,
                        card_fingerprint, address_key, charge_id, idempotency_scope, idempotency_key, request_fingerprint,
                        created_at, updated_at)
                    VALUES (?, ?, ?, 'paid', 'old@example.com', 1, 12900, 'USD', 'card', 'address', 'ch_old', 'scope', 'key',
                        'fingerprint', ?, ?)
                    """,
                arguments: [orderID.lowercased, receipt.reservationID.lowercased, sale.id.lowercased, now, now])
        }

        try await store.migrate()
        #expect(try await store.payment(id: orderID)?.flags == [])
        #expect(try await store.orders(flagged: false, saleID: sale.id, limit: 10).map(\.id) == [orderID])
        #expect(try await store.orders(flagged: true, saleID: sale.id, limit: 10).isEmpty)
    }
}

/// The PostgreSQL schema's upgrades, each on a database of its own on the test server.
@Suite struct PostgresSchemaUpgradeTests {
    /// v8 replaces the inventory row's reserved and sold columns with taken: a sale with
    /// units held and sold before the upgrade reads the same counts after it, and sells on.
    @Test(.enabled(if: StoreKind.postgresURL != nil)) func inventoryCountsSurviveTheMoveToTaken() async throws {
        try await withScratchPostgres { store in
            try await PostgresSchema.migrate(client: store.client, logger: store.logger, through: 7)
            let sale = UUID()
            let now = Date()
            // The rows as v7 wrote them: 5 units, 1 held, 2 paid.
            try await store.client.query(
                """
                INSERT INTO sales (id, sku, name, price_cents, currency, quantity, starts_at, ends_at, per_customer_limit,
                    reservation_ttl_seconds, admission_rate_per_second, paused, created_at, updated_at)
                VALUES (\(sale), 'SKU-UPGRADE', 'Old sneaker', 12900, 'USD', 5, \(now.addingTimeInterval(-60)),
                    \(now.addingTimeInterval(3600)), 3, 600, 10, false, \(now), \(now))
                """, logger: store.logger
            ).drain()
            try await store.client.query(
                "INSERT INTO inventory (sale_id, quantity, available, reserved, sold) VALUES (\(sale), 5, 2, 1, 2)",
                logger: store.logger
            ).drain()
            for (status, quantity) in [("held", 1), ("paid", 2)] {
                try await store.client.query(
                    """
                    INSERT INTO reservations (id, sale_id, pass_id, email, customer_key, quantity, amount_cents, status,
                        created_at, expires_at)
                    VALUES (\(UUID()), \(sale), \(UUID()), 'old@example.com', \(status), \(quantity), 12900, \(status),
                        \(now), \(now.addingTimeInterval(600)))
                    """, logger: store.logger
                ).drain()
            }

            try await store.migrate()
            let upgraded = try #require(try await store.sale(id: sale))
            #expect(upgraded.inventory == Inventory(available: 2, reserved: 1, sold: 2))
            let batch = [attempt(upgraded, email: "new@example.com", quantity: 2)]
            let result = try await store.commitReservations(batch, saleID: sale, now: now)
            #expect(result.available == 0)
            #expect(try await store.sale(id: sale)?.inventory == Inventory(available: 0, reserved: 3, sold: 2))
        }
    }
}

/// A migrated-nothing PostgresStore on a database created for the test and dropped after it.
private func withScratchPostgres(_ body: @Sendable (PostgresStore) async throws -> Void) async throws {
    let shared = try #require(StoreKind.postgresURL)
    guard case .postgres(let settings) = try DatabaseURL(parsing: shared), let slash = shared.lastIndex(of: "/") else {
        Issue.record("FLASHSALE_TEST_POSTGRES_URL is not a postgres:// URL")
        return
    }
    let logger = {
        var logger = Logger(label: "schema-upgrade-tests")
        logger.logLevel = .error
        return logger
    }()
    let name = "flashsale_upgrade_\(UUID().uuidString.prefix(8).lowercased())"
    let admin = PostgresStore(settings, maximumConnections: 1, logger: logger)
    guard case .postgres(let scratch) = try DatabaseURL(parsing: shared[..<slash] + "/" + name) else { return }
    try await withStoreServices(admin) {
        try await admin.client.query("CREATE DATABASE \(unescaped: name)", logger: logger).drain()
        let store = PostgresStore(scratch, maximumConnections: 2, logger: logger)
        var failure: (any Error)?
        do {
            try await withStoreServices(store) { try await body(store) }
        } catch {
            failure = error
        }
        try await admin.client.query("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: logger).drain()
        if let failure { throw failure }
    }
}
