import FlashSaleCore
import FlashSalePayments
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// Checkout through the real router, the real store and the real simulator (in process,
/// with faults where a test needs them).
@Suite struct PaymentApiTests {
    static let good = "4242424242424242"
    static let declined = "4000000000000002"

    @Test func payingTurnsTheReservationIntoAPaidOrderAndSendsTheEmail() async throws {
        let mailDrop = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-mail-\(UUID().uuidString)")
        try await withApp({ $0.mailDrop = mailDrop }) { client, _ in
            let (sale, reservation) = try await client.reservation(quantity: 5)
            let paid = try await client.pay(reservation, card: Self.good)
            #expect(paid.status == .created, "\(paid.text)")
            #expect(paid["status"] == "paid" && paid["reservation_id"] == reservation && paid.int("amount_cents") == 12_900)
            let orderID = try #require(paid["order_id"])
            let order = try await client.send(.get, "/api/v1/orders/\(orderID)")
            #expect(order["status"] == "paid" && order["sale_id"] == sale && order["email"] == "ann@example.com")
            #expect(order["created_at"].flatMap(Timestamp.parse) != nil)
            let stats = try await client.stats(sale)
            #expect(stats.int("sold") == 1 && stats.int("reserved") == 0 && stats.int("orders") == 1)
            #expect((stats.json["payments"] as? [String: Int])?["succeeded"] == 1)
            // A paid reservation cannot be cancelled.
            #expect(try await client.send(.delete, "/api/v1/reservations/\(reservation)").status == .conflict)
            // The worker writes one RFC 5322 file per order.
            let file = mailDrop.appendingPathComponent("order-\(orderID).eml")
            let message = try await eventually { try? String(contentsOf: file, encoding: .utf8) }
            #expect(message.contains("To: <ann@example.com>\r\n"))
            #expect(message.contains("Message-ID: <order-\(orderID)@flashsale.invalid>\r\n"))
            #expect(message.contains("\r\n\r\nThank you for your order."))
            #expect(message.contains("1 x Red sneaker"), "the email names the sale: \(message)")
        }
    }

    @Test func aDeclinedCardKeepsTheReservationForAnotherCard() async throws {
        try await withApp { client, _ in
            let (sale, reservation) = try await client.reservation()
            let declined = try await client.pay(reservation, card: Self.declined)
            #expect(declined.status.code == 402 && declined.error == "payment_declined")
            #expect(try await client.stats(sale).int("reserved") == 1)
            // The same key replays the decline; another key with another card pays.
            #expect(try await client.pay(reservation, card: Self.declined).text == declined.text)
            let paid = try await client.pay(reservation, card: Self.good, key: "second-try")
            #expect(paid.status == .created, "\(paid.text)")
            #expect(try await client.send(.get, "/api/v1/orders/\(paid["order_id"] ?? "")")["status"] == "paid")
        }
    }

    @Test func theSameKeyReplaysAndAnotherKeyFindsItPaid() async throws {
        try await withApp { client, _ in
            let (sale, reservation) = try await client.reservation()
            let first = try await client.pay(reservation, card: Self.good, key: "once")
            let again = try await client.pay(reservation, card: Self.good, key: "once")
            #expect(first.status == .created && again.status == .created && first.text == again.text)
            let otherCard = try await client.pay(reservation, card: "5555555555554444", key: "once")
            #expect(otherCard.status == .unprocessableContent && otherCard.error == "idempotency_key_reused")
            let second = try await client.pay(reservation, card: Self.good, key: "twice")
            #expect(second.status == .conflict && second.error == "already_paid")
            #expect(try await client.stats(sale).int("sold") == 1)
        }
    }

    @Test func badRequestsAreRefusedBeforeAnyCharge() async throws {
        try await withApp { client, _ in
            let (_, reservation) = try await client.reservation()
            let path = "/api/v1/reservations/\(reservation)/payment"
            #expect(try await client.send(.post, path, json: Self.body(card: Self.good)).error == "idempotency_key_required")
            let key: HTTPFields = [IdempotencyGuard.header: "k"]
            #expect(try await client.send(.post, path, headers: key, json: "{").status == .badRequest)
            #expect(try await client.pay(reservation, card: "4242424242424241").error == "validation_failed")
            #expect(try await client.pay(reservation, card: Self.good, expYear: 2001).error == "validation_failed")
            #expect(try await client.pay(reservation, card: Self.good, country: "USA").error == "validation_failed")
            #expect(try await client.pay(UUID().uuidString.lowercased(), card: Self.good).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/orders/\(UUID())").error == "order_not_found")
        }
    }

    @Test func resellersCannotDodgeTheLimitWithAnotherEmail() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 10, "per_customer_limit": 1])
            let first = try await client.reservation(in: sale, email: "ann@example.com")
            #expect(try await client.pay(first, card: Self.good, line1: "12 Main Street, Apt. 4").status == .created)
            // The same card, another email and address.
            let second = try await client.reservation(in: sale, email: "bob@example.com")
            let sameCard = try await client.pay(second, card: Self.good, line1: "9 Elm Road")
            #expect(sameCard.status == .unprocessableContent && sameCard.error == "limit_exceeded")
            // The same address spelled differently, another card.
            let third = try await client.reservation(in: sale, email: "cy@example.com")
            let sameAddress = try await client.pay(third, card: "5555555555554444", line1: "12 main st apt 4")
            #expect(sameAddress.error == "limit_exceeded")
            // Gmail tricks are the same customer at reservation time already.
            let pass = try await client.admittedPass(sale)
            let trick = try await client.reserve(sale, pass: pass, json: #"{"email": "A.n.n+x@example.com", "quantity": 1}"#)
            #expect(trick.status == .created, "a different local part at a non-Gmail domain is another customer")
            let gmail1 = try await client.reservation(in: sale, email: "dan.lee@gmail.com")
            #expect(try await client.pay(gmail1, card: "378282246310005", line1: "1 First Ave").status == .created)
            let pass2 = try await client.admittedPass(sale)
            let gmail2 = try await client.reserve(sale, pass: pass2, json: #"{"email": "DanLee+2@googlemail.com", "quantity": 1}"#)
            #expect(gmail2.error == "limit_exceeded")
            #expect(try await client.stats(sale).int("sold") == 2)
        }
    }

    @Test func aChargeThatLandsAfterExpiryIsRefunded() async throws {
        // The provider holds the charge until the test has seen the reservation expire, so
        // the charge lands after the expiry however slow the machine (the only assumption:
        // the payment starts within the 60 s the reservation lives).
        let simulator = try SimulatedProvider()
        let provider = GatedProvider(base: simulator)
        // The reconciler would ask the provider while the gate holds the charge, find none
        // yet and fail the attempt (then refund the late charge): a path of its own.
        try await withApp({ $0.reconcileMargin = .seconds(3_600) }, provider: provider) { client, _ in
            let sale = try await client.createSale(["reservation_ttl_seconds": 60])
            let reservation = try await client.reservation(in: sale, email: "late@example.com")
            let paying = Task { try await client.pay(reservation, card: Self.good) }
            _ = try await eventually { await provider.gate.held > 0 ? true : nil }
            _ = try await eventually { try await client.stats(sale).int("available") == 5 ? true : nil }
            await provider.gate.open()
            let late = try await paying.value
            #expect(late.status == .gone && late.error == "reservation_expired", "\(late.text)")
            let ledger = try await eventually { () async -> ProviderLedger? in
                let ledger = await simulator.ledger()
                return ledger.refunds.isEmpty ? nil : ledger
            }
            #expect(ledger.charges.count == 1 && ledger.refunds.first?.chargeID == ledger.charges.first?.id)
            let orderID = ledger.charges[0].reference
            _ = try await eventually { () async throws -> Bool? in
                try await client.send(.get, "/api/v1/orders/\(orderID)")["status"] == "refunded" ? true : nil
            }
            let stats = try await client.stats(sale)
            #expect(stats.int("sold") == 0 && stats.int("available") == 5)
            #expect((stats.json["payments"] as? [String: Int])?["refunded"] == 1)
        }
    }

    @Test func aTimeoutIsAnsweredPending() async throws {
        // Every charge is made and then never answered; the reconciler waits an hour, so
        // nothing can settle the attempt before its own answer, however slow the machine.
        let provider = try SimulatedProvider(faults: Faults(timeoutRate: 1, seed: 7))
        try await withApp({ $0.paymentTimeout = .milliseconds(100); $0.reconcileMargin = .seconds(3_600) }, provider: provider) { client, _ in
            let (sale, reservation) = try await client.reservation()
            let pending = try await client.pay(reservation, card: Self.good)
            #expect(pending.status == .accepted && pending["status"] == "pending", "\(pending.text)")
            let orderID = try #require(pending["order_id"])
            #expect(try await client.send(.get, "/api/v1/orders/\(orderID)")["status"] == "pending")
            #expect(try await client.stats(sale).int("sold") == 0, "not sold while the outcome is unknown")
        }
    }

    @Test func theReconcilerFinishesATimedOutPaymentThatNobodyRetries() async throws {
        let provider = try SimulatedProvider(faults: Faults(timeoutRate: 1, seed: 7))
        try await withApp({ $0.paymentTimeout = .milliseconds(100); $0.reconcileMargin = .seconds(1); $0.reconcileInterval = .milliseconds(100) }, provider: provider) { client, _ in
            let (sale, reservation) = try await client.reservation()
            // 202 pending, or already 201 paid when the reconciler got there before the
            // answer left (a slow machine): both end in one paid order.
            let first = try await client.pay(reservation, card: Self.good)
            #expect(first.status == .accepted || first.status == .created, "\(first.text)")
            let orderID = try #require(first["order_id"])
            let order = try await eventually { () async throws -> Reply? in
                let order = try await client.send(.get, "/api/v1/orders/\(orderID)")
                return order["status"] == "paid" ? order : nil
            }
            #expect(order.int("amount_cents") == 12_900)
            #expect(try await client.stats(sale).int("sold") == 1)
            #expect(await provider.ledger().charges.count == 1)
            // The shopper's retry with the same key now gets the final answer.
            let retried = try await client.pay(reservation, card: Self.good)
            #expect(retried.status == .created && retried["order_id"] == orderID)
        }
    }

    static func body(card: String, expYear: Int = 2030, country: String = "US", line1: String = "1 Main St") -> String {
        #"{"card": {"number": "\#(card)", "exp_month": 12, "exp_year": \#(expYear), "cvc": "123"}, "#
            + #""shipping": {"name": "Ann Lee", "line1": "\#(line1)", "city": "Springfield", "postal_code": "12345", "country": "\#(country)"}}"#
    }
}

extension TestClientProtocol {
    /// A live sale and a held reservation of one unit in it.
    func reservation(quantity: Int = 5) async throws -> (sale: String, reservation: String) {
        let sale = try await createSale(["quantity": quantity])
        return (sale, try await reservation(in: sale, email: "ann@example.com"))
    }

    func reservation(in sale: String, email: String) async throws -> String {
        let pass = try await admittedPass(sale)
        let reply = try await reserve(sale, pass: pass, json: #"{"email": "\#(email)", "quantity": 1}"#)
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply["reservation_id"])
    }

    func pay(
        _ reservation: String, card: String, key: String = "pay-1", expYear: Int = 2030, country: String = "US",
        line1: String = "1 Main St"
    ) async throws -> Reply {
        try await send(
            .post, "/api/v1/reservations/\(reservation)/payment", headers: [IdempotencyGuard.header: key],
            json: PaymentApiTests.body(card: card, expYear: expYear, country: country, line1: line1))
    }
}

/// Polls `probe` until it yields a value (20 s at most: generous for a loaded machine).
/// Waits for an event by asking `probe` until it answers. The bound only keeps a broken
/// build from hanging the suite: it is far beyond what the event needs on a busy machine.
func eventually<T>(_ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(90)
    while ContinuousClock.now < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw ProcessError("gave up waiting")
}

/// The simulator behind a gate the test opens: charges wait at the gate, so a test decides
/// when a charge lands (after an expiry it has seen, say) instead of racing a latency.
struct GatedProvider: PaymentProvider {
    actor Gate {
        private(set) var held = 0
        private var isOpen = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func pass() async {
            guard !isOpen else { return }
            held += 1
            await withCheckedContinuation { waiting.append($0) }
        }

        func open() {
            isOpen = true
            for continuation in waiting { continuation.resume() }
            waiting = []
        }
    }

    let base: SimulatedProvider
    let gate = Gate()

    func charge(_ request: ChargeRequest, idempotencyKey: String) async throws -> ChargeOutcome {
        await gate.pass()
        return try await base.charge(request, idempotencyKey: idempotencyKey)
    }

    func charge(idempotencyKey: String) async throws -> ProviderCharge? { await base.charge(idempotencyKey: idempotencyKey) }
    func refund(chargeID: String, idempotencyKey: String) async throws -> ProviderRefund {
        try await base.refund(chargeID: chargeID, idempotencyKey: idempotencyKey)
    }
    func ledger() async throws -> ProviderLedger { await base.ledger() }
}
