import FlashSaleCore
import FlashSaleStore
import Foundation
import Testing

/// The operator's order review, alike on every store: flags stored with the attempt, the
/// flagged list, and cancelling an order. Part of `PaymentStoreConformanceTests` (serialized),
/// because the cancel tests claim the shared database's outbox.
extension PaymentStoreConformanceTests {
    @Test(arguments: StoreKind.enabled) func flagsRoundTripAndOrdersAreListedNewestFirst(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 10, limit: 5)
            let other = try await makeSale(store, quantity: 10, limit: 5)
            let start = Date()
            // One instant per attempt, a second apart: the list's order is theirs.
            func begin(_ payment: PaymentRecord, at seconds: TimeInterval) async throws -> PaymentRecord {
                guard case .started(let started) = try await store.beginPayment(
                    payment, perCustomerLimit: 5, now: start.addingTimeInterval(seconds))
                else { throw StoreError.corruptRow("payment \(payment.idempotency.key) did not start") }
                return started
            }
            let flagged = try await begin(
                newPayment(sale, try await reserve(store, sale, email: "a@example.com"), key: "a",
                           flags: ["shared_card", "address_cluster", "shared_card"]), at: 0)
            #expect(flagged.flags == ["address_cluster", "shared_card"], "sorted, each once")
            let plain = try await begin(newPayment(sale, try await reserve(store, sale, email: "b@example.com"), key: "b"), at: 1)
            let unresolved = try await begin(
                newPayment(sale, try await reserve(store, sale, email: "c@example.com"), key: "c", flags: ["fast_checkout"]), at: 2)
            let declined = try await begin(
                newPayment(sale, try await reserve(store, sale, email: "d@example.com"), key: "d", flags: ["email_cluster"]), at: 3)
            let elsewhere = try await begin(
                newPayment(other, try await reserve(store, other, email: "e@example.com"), key: "e", flags: ["address_farm"]), at: 4)
            for payment in [flagged, plain, elsewhere] {
                _ = try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_\(payment.id)"), now: Date())
            }
            _ = try await store.settlePayment(id: declined.id, result: .declined(reason: "card_declined"), now: Date())

            // Every read of an attempt carries its flags.
            #expect(try await store.payment(id: flagged.id)?.flags == ["address_cluster", "shared_card"])
            #expect(try await store.payment(scope: flagged.idempotency.scope, key: "a")?.flags == ["address_cluster", "shared_card"])
            #expect(try await store.payment(id: plain.id)?.flags == [])
            let settledAgain = try await store.settlePayment(id: flagged.id, result: .charged(chargeID: "ch_again"), now: Date())
            #expect(settledAgain?.flags == ["address_cluster", "shared_card"])
            #expect(try await store.unresolvedPayments(updatedBefore: Date().addingTimeInterval(60), limit: 10_000)
                .first { $0.id == unresolved.id }?.flags == ["fast_checkout"])

            // Declined attempts are no orders; unresolved ones may be; newest first.
            #expect(try await store.orders(flagged: true, saleID: sale.id, limit: 100).map(\.id) == [unresolved.id, flagged.id])
            #expect(try await store.orders(flagged: false, saleID: sale.id, limit: 100).map(\.id) == [unresolved.id, plain.id, flagged.id])
            #expect(try await store.orders(flagged: false, saleID: sale.id, limit: 2).map(\.id) == [unresolved.id, plain.id])
            let listed = try await store.orders(flagged: true, saleID: sale.id, limit: 100)
            #expect(listed.map(\.status) == [.pending, .paid])
            #expect(listed.last?.flags == ["address_cluster", "shared_card"])
            // Without a sale, every sale's (the shared database may hold other tests' orders).
            let everywhere = try await store.orders(flagged: true, saleID: nil, limit: 1_000).map(\.id)
            #expect(everywhere.contains(elsewhere.id) && everywhere.contains(flagged.id) && !everywhere.contains(plain.id))
            #expect(try await store.orders(flagged: true, saleID: UUID(), limit: 100).isEmpty)
        }
    }

    @Test(arguments: StoreKind.enabled) func cancellingAPaidOrderRefundsItOnceAndReturnsItsUnits(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 5, limit: 1)
            let reservation = try await reserve(store, sale, email: "buyer@example.com")
            let payment = newPayment(sale, reservation, key: "buy", card: "card-X", address: "9 oak st|1|us", flags: ["shared_card"])
            _ = try await store.beginPayment(payment, perCustomerLimit: 1, now: Date())
            _ = try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_x"), now: Date())
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 4, reserved: 0, sold: 1))

            guard case .cancelled(let saleID, let units, let cancelled) = try await store.cancelOrder(id: payment.id, now: Date()) else {
                Issue.record("a paid order was not cancelled")
                return
            }
            #expect(saleID == sale.id && units == 1)
            #expect(cancelled.id == payment.id && cancelled.status == .refunding && cancelled.flags == ["shared_card"])
            #expect(try await store.payment(id: payment.id)?.status == .refunding)
            #expect(try await store.reservation(id: reservation.id)?.status == .cancelled)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 5, reserved: 0, sold: 0))
            try await checkInvariant(store, sale.id)

            // A second cancel changes nothing and queues nothing.
            guard case .alreadyCancelled(let again) = try await store.cancelOrder(id: payment.id, now: Date()) else {
                Issue.record("a second cancel did not answer alreadyCancelled")
                return
            }
            #expect(again.status == .refunding)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 5, reserved: 0, sold: 0))
            let messages = try await store.claimOutbox(now: Date(), lease: 30, limit: 10_000).filter { $0.paymentID == payment.id }
            #expect(messages.filter { $0.kind == .refund }.count == 1, "\(messages)")
            for message in messages { try await store.completeOutbox(id: message.id, now: Date()) }

            // The outbox worker's path: refunded once the provider confirms; still no second refund.
            try await store.markRefunded(paymentID: payment.id, now: Date())
            guard case .alreadyCancelled(let refunded) = try await store.cancelOrder(id: payment.id, now: Date()) else {
                Issue.record("cancelling a refunded order did not answer alreadyCancelled")
                return
            }
            #expect(refunded.status == .refunded)
            let later = try await store.claimOutbox(now: Date().addingTimeInterval(3_600), lease: 30, limit: 10_000)
            #expect(!later.contains { $0.paymentID == payment.id && $0.kind == .refund })
            var counts = PaymentCounts()
            counts.add(.refunded, count: 1)
            #expect(try await store.paymentCounts(saleID: sale.id) == counts)
            #expect(try await store.orders(flagged: true, saleID: sale.id, limit: 10).map(\.status) == [.refunded])

            // The cancelled order no longer counts against the limit of 1: the same email,
            // card and address buy again.
            let second = try await reserve(store, sale, email: "buyer@example.com")
            let rebuy = newPayment(sale, second, key: "rebuy", card: "card-X", address: "9 oak st|1|us")
            guard case .started = try await store.beginPayment(rebuy, perCustomerLimit: 1, now: Date()) else {
                Issue.record("the customer of a cancelled order could not buy again")
                return
            }
            #expect(try await store.settlePayment(id: rebuy.id, result: .charged(chargeID: "ch_y"), now: Date())?.status == .paid)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 4, reserved: 0, sold: 1))
            try await checkInvariant(store, sale.id)
        }
    }

    @Test(arguments: StoreKind.enabled) func onlyPaidOrdersCanBeCancelled(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 5, limit: 2)
            let pending = newPayment(sale, try await reserve(store, sale, email: "p@example.com"), key: "p", card: "card-p", address: "p")
            _ = try await store.beginPayment(pending, perCustomerLimit: 2, now: Date())
            let declined = newPayment(sale, try await reserve(store, sale, email: "d@example.com"), key: "d", card: "card-d", address: "d")
            _ = try await store.beginPayment(declined, perCustomerLimit: 2, now: Date())
            _ = try await store.settlePayment(id: declined.id, result: .declined(reason: "card_declined"), now: Date())
            let failed = newPayment(sale, try await reserve(store, sale, email: "f@example.com"), key: "f", card: "card-f", address: "f")
            _ = try await store.beginPayment(failed, perCustomerLimit: 2, now: Date())
            _ = try await store.settlePayment(id: failed.id, result: .notCharged, now: Date())
            let before = try await store.sale(id: sale.id)?.inventory

            for (payment, status) in [(pending, PaymentRecord.Status.pending), (declined, .declined), (failed, .failed)] {
                let result = try await store.cancelOrder(id: payment.id, now: Date())
                guard case .notCancellable(let read) = result else {
                    Issue.record("\(status): \(result)")
                    continue
                }
                #expect(read.status == status)
                #expect(try await store.payment(id: payment.id)?.status == status, "unchanged")
            }
            #expect(try await store.cancelOrder(id: UUID(), now: Date()) == .notFound)
            #expect(try await store.sale(id: sale.id)?.inventory == before)
            try await checkInvariant(store, sale.id)
        }
    }
}
