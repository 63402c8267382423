import Foundation
import PostgresNIO
import Testing

import FlashSaleCore

@testable import FlashSaleStore

/// PostgreSQL's per-customer check of a payment probes the card index for the card and the
/// address index for the address, even for a sale the statistics have never seen (every
/// sale, while it is on). When both indexes led with sale_id, the card probe was planned on
/// the address index's sale_id prefix and read every payment of the sale (issue 15).
@Suite struct PaymentLimitPlanTests {
    @Test(.enabled(if: StoreKind.postgresURL != nil)) func theCardAndAddressProbesUseTheirOwnIndexes() async throws {
        let lines = try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            let now = Date()
            let payment = PaymentRecord(
                id: .timeOrdered(), reservationID: UUID(), saleID: UUID(), status: .pending, email: "a@example.com", quantity: 1,
                amountCents: 100, currency: "EUR", cardFingerprint: "card-\(UUID())", addressKey: "1 street|12345|us", chargeID: nil,
                idempotency: IdempotencyClaim(scope: "payment:x", key: "k", body: Data("{}".utf8)), response: nil, createdAt: now,
                updatedAt: now, flags: [])
            let query = PostgresStore.beginStatement(payment, perCustomerLimit: 2, now: now)
            var lines: [String] = []
            for try await (line) in try await postgres.client.query(
                PostgresQuery(unsafeSQL: "EXPLAIN " + query.sql, binds: query.binds), logger: postgres.logger
            ).decode(String.self) {
                lines.append(line)
            }
            return lines
        }
        let conditions = lines.filter { $0.contains("Index Cond") }
        #expect(lines.contains { $0.contains("using payments_card") }, "\(lines)")
        #expect(lines.contains { $0.contains("using payments_address") }, "\(lines)")
        // and the idempotency key's, the in-flight check's reservation_id, the reservation's
        // id, and the id of the attempt stored under the key
        #expect(conditions.count == 6, "\(lines)")
        #expect(conditions.contains { $0.contains("card_fingerprint =") }, "\(lines)")
        #expect(conditions.contains { $0.contains("address_key =") }, "\(lines)")
    }
}
