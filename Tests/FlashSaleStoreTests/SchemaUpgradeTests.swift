import FlashSaleCore
import Foundation
import GRDB
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
