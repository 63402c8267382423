import FlashSaleCore
import FlashSalePayments
import FlashSaleStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// The operator's order review through the real router, store and simulator. Checkout does
/// not flag orders yet, so flagged attempts are stored through the store, as checkout will.
@Suite struct AdminOrdersApiTests {
    @Test func flaggedOrdersAreListedWithTheirReasons() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale()
            let flagged = try await storedOrder(client, store, sale: sale, email: "reseller@example.com", flags: ["shared_card", "address_cluster"])
            let plain = try await client.pay(try await client.reservation(in: sale, email: "ann@example.com"), card: PaymentApiTests.good)
            #expect(plain.status == .created, "\(plain.text)")

            let reply = try await client.send(.get, "/api/v1/admin/orders?flagged=true&sale_id=\(sale)", headers: adminAuth)
            #expect(reply.status == .ok, "\(reply.text)")
            let orders = try #require(reply.json["orders"] as? [[String: Any]])
            #expect(orders.count == 1)
            let order = try #require(orders.first)
            #expect(order["order_id"] as? String == flagged.id.lowercased && order["sale_id"] as? String == sale)
            #expect(order["email"] as? String == "reseller@example.com" && order["status"] as? String == "paid")
            #expect(order["amount_cents"] as? Int == 12_900 && order["payment_status"] as? String == "paid")
            #expect(order["flags"] as? [String] == ["address_cluster", "shared_card"])

            // Every order of the sale, newest first; `flagged=false` is the same as none.
            for query in ["sale_id=\(sale)", "flagged=false&sale_id=\(sale)"] {
                let all = try await client.send(.get, "/api/v1/admin/orders?\(query)", headers: adminAuth)
                let ids = (all.json["orders"] as? [[String: Any]])?.compactMap { $0["order_id"] as? String }
                #expect(ids == [plain["order_id"], flagged.id.lowercased].compactMap { $0 }, "\(query): \(all.text)")
            }
            let one = try await client.send(.get, "/api/v1/admin/orders?limit=1", headers: adminAuth)
            #expect((one.json["orders"] as? [Any])?.count == 1)
        }
    }

    /// The orders' filters, and the audit's, which parse `limit` and `sale_id` alike.
    @Test(arguments: [
        "orders?flagged=yes", "orders?flagged=", "orders?limit=0", "orders?limit=1001", "orders?limit=ten", "orders?sale_id=42",
        "audit?limit=0", "audit?limit=501", "audit?limit=ten", "audit?sale_id=42", "audit?before=0", "audit?before=x",
    ])
    func badFiltersAreRefused(_ query: String) async throws {
        try await withApp { client, _ in
            let reply = try await client.send(.get, "/api/v1/admin/\(query)", headers: adminAuth)
            #expect(reply.status == .unprocessableContent && reply.error == "validation_failed", "\(query): \(reply.text)")
        }
    }

    @Test func orderRoutesNeedTheToken() async throws {
        try await withApp { client, _ in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"]] {
                let list = try await client.send(.get, "/api/v1/admin/orders?flagged=true", headers: headers)
                #expect(list.status == .unauthorized && list.error == "unauthorized")
                let cancel = try await client.send(.post, "/api/v1/admin/orders/\(UUID())/cancel", headers: headers)
                #expect(cancel.status == .unauthorized && cancel.error == "unauthorized")
            }
        }
    }

    @Test func cancellingAnOrderRefundsItOnceAndPutsItsUnitsBack() async throws {
        let simulator = try SimulatedProvider()
        try await withApp(provider: simulator) { client, _ in
            let (sale, reservation) = try await client.reservation(quantity: 5)
            let paid = try await client.pay(reservation, card: PaymentApiTests.good)
            let orderID = try #require(paid["order_id"])
            #expect(try await client.stats(sale).int("available") == 4)

            let cancelled = try await client.send(.post, "/api/v1/admin/orders/\(orderID)/cancel", headers: adminAuth)
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            #expect(cancelled["order_id"] == orderID && cancelled["sale_id"] == sale)
            // Refunding (the shopper sees pending) until the outbox worker's refund, unless it was quick.
            #expect(["refunding", "refunded"].contains(cancelled["payment_status"] ?? ""), "\(cancelled.text)")
            let stats = try await client.stats(sale)
            #expect(stats.int("available") == 5 && stats.int("sold") == 0 && stats.int("reserved") == 0, "\(stats.text)")

            let again = try await client.send(.post, "/api/v1/admin/orders/\(orderID)/cancel", headers: adminAuth)
            #expect(again.status == .ok && again["order_id"] == orderID, "\(again.text)")
            _ = try await eventually { () async throws -> Bool? in
                try await client.send(.get, "/api/v1/orders/\(orderID)")["status"] == "refunded" ? true : nil
            }
            let ledger = await simulator.ledger()
            #expect(ledger.refunds.count == 1 && ledger.refunds.first?.chargeID == ledger.charges.first?.id)
            #expect(try await client.stats(sale).int("available") == 5)
            // The units are on sale again: another shopper reserves one.
            _ = try await client.reservation(in: sale, email: "bob@example.com")
        }
    }

    @Test func onlyKnownPaidOrdersCanBeCancelled() async throws {
        try await withApp { client, store in
            let unknown = try await client.send(.post, "/api/v1/admin/orders/\(UUID())/cancel", headers: adminAuth)
            #expect(unknown.status == .notFound && unknown.error == "order_not_found")
            let notAnID = try await client.send(.post, "/api/v1/admin/orders/nope/cancel", headers: adminAuth)
            #expect(notAnID.status == .notFound && notAnID.error == "order_not_found")
            // An attempt still with the provider took no money yet: nothing to refund.
            let sale = try await client.createSale()
            let pending = try await storedOrder(client, store, sale: sale, email: "slow@example.com", flags: [], settle: false)
            let reply = try await client.send(.post, "/api/v1/admin/orders/\(pending.id.lowercased)/cancel", headers: adminAuth)
            #expect(reply.status == .conflict && reply.error == "order_not_cancellable", "\(reply.text)")
            #expect(try await store.payment(id: pending.id)?.status == .pending)
        }
    }

    /// An order of one unit on a reservation made through the API, paid (unless `settle` is
    /// false) through the store, as checkout does, with `flags`.
    private func storedOrder(
        _ client: any TestClientProtocol, _ store: any Store, sale: String, email: String, flags: [String], settle: Bool = true
    ) async throws -> PaymentRecord {
        let reservationID = try #require(UUID(uuidString: try await client.reservation(in: sale, email: email)))
        let reservation = try #require(try await store.reservation(id: reservationID))
        let now = Date()
        let payment = PaymentRecord(
            id: .timeOrdered(), reservationID: reservation.id, saleID: reservation.saleID, status: .pending, email: reservation.email,
            quantity: reservation.quantity, amountCents: reservation.amountCents, currency: "USD", cardFingerprint: "card-\(email)",
            addressKey: "address-\(email)", chargeID: nil,
            idempotency: IdempotencyClaim(scope: "payment:\(reservation.id.lowercased)", key: "k", body: Data("{}".utf8)),
            response: nil, createdAt: now, updatedAt: now, flags: flags)
        guard case .started(let started) = try await store.beginPayment(payment, perCustomerLimit: 1, now: now) else {
            throw StoreError.corruptRow("the payment did not start")
        }
        guard settle else { return started }
        return try #require(try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_\(email)"), now: Date()))
    }
}
