import Foundation
import PostgresNIO
import Testing

import FlashSaleCore

@testable import FlashSaleStore

/// PostgreSQL's begin of a payment (`flashsale_begin_payment`, migration 9) probes the card
/// index for the card and the address index for the address, however many payments the
/// sale has, and even for a sale the statistics have never seen (every sale, while it is
/// on). When both indexes led with sale_id, the card probe was planned on the address
/// index's sale_id prefix and read every payment of the sale: 5,400 buffers a probe at
/// 5,000 payments (issue 15).
@Suite struct PaymentLimitPlanTests {
    /// Payments of the sale besides the probed card's and address's.
    static let crowd = 3_000

    @Test(.enabled(if: StoreKind.postgresURL != nil)) func theBeginReadsAFewPagesHoweverManyPaymentsTheSaleHas() async throws {
        let buffers = try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            let sale = try await makeSale(store, quantity: Self.crowd + 10, limit: 2)
            let result = try await store.commitReservations([attempt(sale)], saleID: sale.id, now: Date())
            guard case .reserved(let receipt) = result.outcomes[0] else {
                Issue.record("the reservation was refused: \(result.outcomes)")
                return 0
            }
            let reservation = try #require(try await store.reservation(id: receipt.reservationID))
            // The crowd's payments, each on a card and a door of its own, in one statement.
            try await postgres.client.query(
                """
                WITH r AS (
                    INSERT INTO reservations (id, sale_id, pass_id, email, customer_key, quantity, amount_cents, status,
                        created_at, expires_at)
                    SELECT gen_random_uuid(), \(sale.id), gen_random_uuid(), 'c' || i || '@example.com', 'c' || i || '@example.com',
                        1, 12900, 'paid', now(), now() + interval '10 minutes'
                    FROM generate_series(1, \(Self.crowd)) AS i
                    RETURNING id, email)
                INSERT INTO payments (id, reservation_id, sale_id, status, email, quantity, amount_cents, currency,
                    card_fingerprint, address_key, idempotency_scope, idempotency_key, request_fingerprint, created_at, updated_at)
                SELECT gen_random_uuid(), r.id, \(sale.id), 'paid', r.email, 1, 12900, 'USD', 'card-' || r.email,
                    'door-' || r.email, 'payment:' || r.id, 'k', 'f', now(), now()
                FROM r
                """, logger: postgres.logger
            ).drain()
            // The second begin in a session: the first also plans the function's statements.
            return try await postgres.client.withConnection { connection in
                var read = 0
                for key in ["first", "second"] {
                    let now = Date()
                    let payment = PaymentRecord(
                        id: .timeOrdered(), reservationID: reservation.id, saleID: sale.id, status: .pending,
                        email: reservation.email, quantity: 1, amountCents: 12_900, currency: "USD",
                        cardFingerprint: "card-probed", addressKey: "1 street|12345|us", chargeID: nil,
                        idempotency: IdempotencyClaim(scope: "payment:probe", key: key, body: Data("{}".utf8)), response: nil,
                        createdAt: now, updatedAt: now, flags: [])
                    let call = PostgresStore.beginFunctionCall(payment, perCustomerLimit: 2, now: now)
                    let lines = try await explain(call, options: "ANALYZE, BUFFERS", on: connection, logger: postgres.logger)
                    // "Function Scan …" then "Buffers: shared hit=N read=M": all the function read.
                    let scan = try #require(lines.firstIndex { $0.contains("Function Scan") }, "\(lines)")
                    let counts = lines[scan + 1].matches(of: /=(\d+)/).compactMap { Int($0.output.1) }
                    read = counts.reduce(0, +)
                }
                return read
            }
        }
        // Reading the sale's payments would be thousands of buffers; the probes, the key's
        // look-up, the in-flight check, the reservation and the insert are a few dozen.
        #expect(buffers > 0 && buffers < 200, "the begin read \(buffers) buffers")
    }
}
