import FlashSaleCore
import FlashSaleStore
import Foundation
import Testing

/// Payment attempts, orders and the outbox behave alike on every store.
/// Serialized: the outbox tests claim every due message of the (shared) database (so the
/// order review's tests, which claim refunds, are an extension of this suite).
@Suite(.serialized) struct PaymentStoreConformanceTests {
    @Test(arguments: StoreKind.enabled) func chargedAttemptBecomesTheOrderWithItsEmail(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (sale, reservation) = try await reserved(store, quantity: 2)
            let payment = newPayment(sale, reservation, key: "k1")
            guard case .started(let started) = try await store.beginPayment(payment, perCustomerLimit: 2, now: Date()) else {
                Issue.record("payment did not start")
                return
            }
            #expect(started.status == .pending)
            #expect(try await store.unresolvedPayments(updatedBefore: Date().addingTimeInterval(1), limit: 10_000).contains { $0.id == payment.id })
            let paid = try #require(try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_1"), now: Date()))
            #expect(paid.status == .paid && paid.chargeID == "ch_1" && paid.response?.status == 201)
            let read = try #require(try await store.sale(id: sale.id))
            #expect(read.inventory == Inventory(available: 3, reserved: 0, sold: 2))
            #expect(try await store.reservation(id: reservation.id)?.status == .paid)
            // Settling again changes nothing.
            let again = try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_1"), now: Date())
            #expect(again?.status == .paid && again?.response == paid.response)
            var counts = PaymentCounts()
            counts.add(.paid, count: 1)
            #expect(try await store.paymentCounts(saleID: sale.id) == counts)
            let messages = try await store.claimOutbox(now: Date(), lease: 30, limit: 10_000).filter { $0.paymentID == payment.id }
            #expect(messages.map(\.kind) == [.confirmationEmail])
            try await checkInvariant(store, sale.id)
        }
    }

    @Test(arguments: StoreKind.enabled) func chargeForAnExpiredReservationIsRefunded(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 5, limit: 2)
            // Every step at an instant of the test's own choosing: the payment begins while
            // the hold is live, the provider answers after it expired, whatever the clock does.
            // (5 s, so that other tests sweeping a shared database in real time leave it be.)
            let reserved = Date()
            let result = try await store.commitReservations([attempt(sale, ttl: 5)], saleID: sale.id, now: reserved)
            guard case .reserved(let receipt) = result.outcomes[0] else { throw StoreError.corruptRow("not reserved") }
            let reservation = try #require(try await store.reservation(id: receipt.reservationID))
            let payment = newPayment(sale, reservation, key: "k2")
            _ = try await store.beginPayment(payment, perCustomerLimit: 1, now: reserved)
            // The provider is slow; the reservation expires meanwhile.
            let answered = max(Date(), reservation.expiresAt.addingTimeInterval(0.1))
            while try await !store.releaseExpired(now: answered, limit: 1_000).isEmpty {}
            let settled = try #require(try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_2"), now: answered))
            #expect(settled.status == .refunding && settled.response?.status == 410)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 5, reserved: 0, sold: 0))
            let refund = try await store.claimOutbox(now: answered, lease: 30, limit: 10_000).first { $0.paymentID == payment.id }
            #expect(refund?.kind == .refund)
            try await store.markRefunded(paymentID: payment.id, now: Date())
            #expect(try await store.payment(id: payment.id)?.status == .refunded)
            try await checkInvariant(store, sale.id)
        }
    }

    @Test(arguments: StoreKind.enabled) func declinesKeepTheReservationAndUnknownsStayOpen(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (sale, reservation) = try await reserved(store, quantity: 1)
            let declined = newPayment(sale, reservation, key: "k3")
            _ = try await store.beginPayment(declined, perCustomerLimit: 1, now: Date())
            let answer = try #require(try await store.settlePayment(id: declined.id, result: .declined(reason: "card_declined"), now: Date()))
            #expect(answer.status == .declined && answer.response?.status == 402)
            #expect(try await store.reservation(id: reservation.id)?.status == .held)
            // Another key may try again; a timeout leaves it unknown, and a second attempt
            // meanwhile is refused.
            let second = newPayment(sale, reservation, key: "k4")
            _ = try await store.beginPayment(second, perCustomerLimit: 1, now: Date())
            #expect(try await store.settlePayment(id: second.id, result: .unknown, now: Date())?.status == .unknown)
            let third = newPayment(sale, reservation, key: "k5")
            #expect(try await store.beginPayment(third, perCustomerLimit: 1, now: Date()) == .refused(.paymentInProgress))
            // The same key finds its attempt.
            guard case .existing(let existing) = try await store.beginPayment(second, perCustomerLimit: 1, now: Date()) else {
                Issue.record("the same key started a second attempt")
                return
            }
            #expect(existing.id == second.id)
            #expect(try await store.payment(scope: second.idempotency.scope, key: "k4")?.id == second.id)
        }
    }

    @Test(arguments: StoreKind.enabled) func sameCardOrAddressCountsAgainstTheLimit(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 5, limit: 1)
            let first = try await reserve(store, sale, email: "a@example.com")
            let second = try await reserve(store, sale, email: "b@example.com")
            let third = try await reserve(store, sale, email: "c@example.com")
            let paid = newPayment(sale, first, key: "p1", card: "card-A", address: "1 main st|12345|us")
            _ = try await store.beginPayment(paid, perCustomerLimit: 1, now: Date())
            _ = try await store.settlePayment(id: paid.id, result: .charged(chargeID: "ch_a"), now: Date())
            let sameCard = newPayment(sale, second, key: "p2", card: "card-A", address: "elsewhere")
            #expect(try await store.beginPayment(sameCard, perCustomerLimit: 1, now: Date()) == .refused(.limitExceeded))
            let sameAddress = newPayment(sale, third, key: "p3", card: "card-B", address: "1 main st|12345|us")
            #expect(try await store.beginPayment(sameAddress, perCustomerLimit: 1, now: Date()) == .refused(.limitExceeded))
            let other = newPayment(sale, third, key: "p4", card: "card-C", address: "2 side rd|12345|us")
            guard case .started = try await store.beginPayment(other, perCustomerLimit: 1, now: Date()) else {
                Issue.record("a different card and address was refused")
                return
            }
        }
    }

    /// The limit holds when the attempts race: stores let unrelated payments run side by
    /// side (issue 15), so this is what proves they still serialise the ones that conflict.
    @Test(arguments: StoreKind.enabled) func racingAttemptsStillKeepTheLimitAndOneAttemptPerReservation(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 40, limit: 1)
            var reservations: [ReservationRecord] = []
            for n in 0..<12 { reservations.append(try await reserve(store, sale, email: "racer\(n)@example.com")) }
            // Ten reservations paid with one card at once, each to its own address.
            let sameCard = reservations.prefix(10).enumerated().map { n, reservation in
                newPayment(sale, reservation, key: "card-\(n)", card: "card-shared", address: "\(n) own st|12345|us")
            }
            // Eight keys for one reservation at once, each with its own card and address.
            let oneReservation = (0..<8).map { n in
                newPayment(sale, reservations[10], key: "twin-\(n)", card: "card-twin-\(n)", address: "\(n) twin rd|12345|us")
            }
            // And one unrelated attempt, which must simply start.
            let unrelated = newPayment(sale, reservations[11], key: "alone", card: "card-alone", address: "1 alone way|12345|us")
            let outcomes = try await withThrowingTaskGroup(of: (String, BeginPayment).self) { group in
                for payment in sameCard + oneReservation + [unrelated] {
                    group.addTask { (payment.idempotency.key, try await store.beginPayment(payment, perCustomerLimit: 1, now: Date())) }
                }
                return try await group.reduce(into: [String: BeginPayment]()) { $0[$1.0] = $1.1 }
            }
            func started(_ prefix: String) -> Int {
                outcomes.filter { key, outcome in
                    guard key.hasPrefix(prefix), case .started = outcome else { return false }
                    return true
                }.count
            }
            #expect(started("card-") == 1, "one card, limit 1: \(outcomes.filter { $0.key.hasPrefix("card-") })")
            #expect(started("twin-") == 1, "one attempt in flight per reservation")
            #expect(started("alone") == 1)
        }
    }

    /// Two settlers of each charge (the request and the reconciler) and, for a third of
    /// them, the shopper cancelling the reservation, all at once: each payment ends paid
    /// with its reservation, or refunding with the reservation cancelled, never both or
    /// neither, with one message each and the stock's counts to match. (PostgreSQL settles
    /// optimistically, re-reading when a guard fails; this is what the guards must keep.)
    @Test(arguments: StoreKind.enabled) func racingSettlementsAndCancellationsAgreeWithTheStock(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 30, limit: 1)
            var payments: [PaymentRecord] = []
            var hints: [SettlementHint] = []
            for n in 0..<30 {
                let reservation = try await reserve(store, sale, email: "settler\(n)@example.com")
                let payment = newPayment(sale, reservation, key: "s\(n)", card: "card-settler-\(n)", address: "\(n) settle st|1|us")
                guard case .started(let started) = try await store.beginPayment(payment, perCustomerLimit: 1, now: Date()) else {
                    Issue.record("payment \(n) did not start")
                    return
                }
                payments.append(payment)
                hints.append(SettlementHint(payment: started, reservation: reservation))
            }
            let answers = try await withThrowingTaskGroup(of: PaymentRecord?.self) { group in
                for (n, payment) in payments.enumerated() {
                    // One settler as checkout (with what it saw at the begin), one as the reconciler.
                    for hint in [hints[n], nil] {
                        group.addTask {
                            try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_s\(n)"), now: Date(), hint: hint)
                        }
                    }
                    if n % 3 == 0 {
                        group.addTask {
                            _ = try await store.cancelReservation(id: payment.reservationID, now: Date())
                            return nil
                        }
                    }
                }
                return try await group.reduce(into: [PaymentRecord]()) { answers, answer in if let answer { answers.append(answer) } }
            }
            var paid = 0
            for payment in payments {
                let final = try #require(try await store.payment(id: payment.id))
                let reservation = try #require(try await store.reservation(id: payment.reservationID))
                switch final.status {
                case .paid:
                    paid += 1
                    #expect(reservation.status == .paid)
                case .refunding:
                    #expect(reservation.status == .cancelled)
                    #expect(final.response?.status == 410)
                default:
                    Issue.record("payment \(payment.id) ended \(final.status)")
                }
                // Every settler answered with a settled payment, and they agree.
                let told = answers.filter { $0.id == payment.id }
                #expect(told.count == 2 && told.allSatisfy { $0.status == final.status && $0.response == final.response })
            }
            #expect(paid >= 20, "only the cancelled third can be refunded")
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 30 - paid, reserved: 0, sold: paid))
            let ids = Set(payments.map(\.id))
            let messages = try await store.claimOutbox(now: Date(), lease: 30, limit: 10_000).filter { ids.contains($0.paymentID) }
            #expect(messages.count == 30)
            #expect(messages.filter { $0.kind == .confirmationEmail }.count == paid)
            try await checkInvariant(store, sale.id)
        }
    }

    /// Each of `PaymentPlanner.refusal`'s answers, as the store gives it (PostgreSQL decides
    /// in its statement's guard and checks the planner agrees).
    @Test(arguments: StoreKind.enabled) func theBeginRefusesAsThePlannerDoes(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 5, limit: 2)
            // No such reservation.
            let ghost = ReservationRecord(
                id: UUID(), saleID: sale.id, passID: UUID(), email: "ghost@example.com", customerKey: "ghost@example.com",
                quantity: 1, amountCents: 12_900, status: .held, createdAt: Date(), expiresAt: Date().addingTimeInterval(60))
            #expect(try await store.beginPayment(newPayment(sale, ghost, key: "r1"), perCustomerLimit: 2, now: Date())
                == .refused(.reservationNotFound))
            // Expired by the clock, before the sweeper came.
            let held = try await reserve(store, sale, email: "late@example.com")
            let late = newPayment(sale, held, key: "r2", card: "card-late", address: "2 late st|1|us")
            #expect(try await store.beginPayment(late, perCustomerLimit: 2, now: held.expiresAt) == .refused(.reservationExpired))
            // Cancelled.
            _ = try await store.cancelReservation(id: held.id, now: Date())
            #expect(try await store.beginPayment(late, perCustomerLimit: 2, now: Date()) == .refused(.reservationExpired))
            // Paid already, under another key.
            let bought = try await reserve(store, sale, email: "paid@example.com")
            let first = newPayment(sale, bought, key: "r3", card: "card-paid", address: "3 paid st|1|us")
            guard case .started = try await store.beginPayment(first, perCustomerLimit: 2, now: Date()) else {
                Issue.record("the first attempt did not start")
                return
            }
            _ = try await store.settlePayment(id: first.id, result: .charged(chargeID: "ch_r3"), now: Date())
            let second = newPayment(sale, bought, key: "r4", card: "card-paid", address: "3 paid st|1|us")
            #expect(try await store.beginPayment(second, perCustomerLimit: 2, now: Date()) == .refused(.alreadyPaid))
            // Over the limit by this reservation's own quantity.
            let two = try await reserve(store, sale, email: "two@example.com", quantity: 2)
            let overLimit = newPayment(sale, two, key: "r5", card: "card-paid", address: "5 other st|1|us")
            #expect(try await store.beginPayment(overLimit, perCustomerLimit: 2, now: Date()) == .refused(.limitExceeded))
            // Exactly at the limit starts.
            let atLimit = newPayment(sale, two, key: "r6", card: "card-two", address: "6 two st|1|us")
            guard case .started = try await store.beginPayment(atLimit, perCustomerLimit: 2, now: Date()) else {
                Issue.record("an attempt within the limit did not start")
                return
            }
        }
    }

    /// Checkout's hint is what it saw at the begin; the store writes on it only what its
    /// guards confirm, and otherwise settles on what is stored.
    @Test(arguments: StoreKind.enabled) func aSettlementHintIsCheckedNotTrusted(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 3, limit: 1)
            func begun(_ n: Int) async throws -> SettlementHint {
                let reservation = try await reserve(store, sale, email: "hinted\(n)@example.com")
                let payment = newPayment(sale, reservation, key: "h\(n)", card: "card-hinted-\(n)", address: "\(n) hint st|1|us")
                guard case .started(let started) = try await store.beginPayment(payment, perCustomerLimit: 1, now: Date()) else {
                    throw StoreError.corruptRow("payment \(n) did not start")
                }
                return SettlementHint(payment: started, reservation: reservation)
            }
            // As seen: sold.
            let current = try await begun(0)
            let paid = try #require(
                try await store.settlePayment(id: current.payment.id, result: .charged(chargeID: "ch_h0"), now: Date(), hint: current))
            #expect(paid.status == .paid && paid.response?.status == 201)
            #expect(try await store.payment(id: paid.id)?.response == paid.response)
            #expect(try await store.reservation(id: current.reservation.id)?.status == .paid)

            // The reservation was cancelled since: refunded, as without the hint.
            let cancelled = try await begun(1)
            _ = try await store.cancelReservation(id: cancelled.reservation.id, now: Date())
            let refunded = try #require(
                try await store.settlePayment(id: cancelled.payment.id, result: .charged(chargeID: "ch_h1"), now: Date(), hint: cancelled))
            #expect(refunded.status == .refunding && refunded.response?.status == 410)
            #expect(try await store.reservation(id: cancelled.reservation.id)?.status == .cancelled)

            // The attempt was settled since (a timeout left it unknown): the charge found
            // later is settled on the stored attempt.
            let settled = try await begun(2)
            #expect(try await store.settlePayment(id: settled.payment.id, result: .unknown, now: Date())?.status == .unknown)
            let late = try #require(
                try await store.settlePayment(id: settled.payment.id, result: .charged(chargeID: "ch_h2"), now: Date(), hint: settled))
            #expect(late.status == .paid && late.chargeID == "ch_h2")
            #expect(try await store.payment(id: late.id)?.status == .paid)

            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 1, reserved: 0, sold: 2))
            let ids: Set = [current.payment.id, cancelled.payment.id, settled.payment.id]
            let messages = try await store.claimOutbox(now: Date(), lease: 30, limit: 10_000).filter { ids.contains($0.paymentID) }
            #expect(messages.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.confirmationEmail, .confirmationEmail, .refund])
            try await checkInvariant(store, sale.id)
        }
    }

    @Test(arguments: StoreKind.enabled) func outboxClaimsLeaseAndRetries(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (sale, reservation) = try await reserved(store, quantity: 1)
            let payment = newPayment(sale, reservation, key: "o1")
            _ = try await store.beginPayment(payment, perCustomerLimit: 1, now: Date())
            _ = try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_o"), now: Date())
            let now = Date()
            let mine = { (messages: [OutboxMessage]) in messages.filter { $0.paymentID == payment.id } }
            let claimed = try mine(await store.claimOutbox(now: now, lease: 30, limit: 10_000))
            #expect(claimed.count == 1 && claimed.first?.attempts == 1)
            // Leased: not due again until the lease lapses.
            #expect(try mine(await store.claimOutbox(now: now.addingTimeInterval(10), lease: 30, limit: 10_000)).isEmpty)
            let message = try #require(claimed.first)
            try await store.retryOutbox(id: message.id, error: "smtp down", at: now.addingTimeInterval(5))
            let again = try mine(await store.claimOutbox(now: now.addingTimeInterval(6), lease: 30, limit: 10_000))
            #expect(again.first?.attempts == 2)
            try await store.completeOutbox(id: message.id, now: now)
            #expect(try mine(await store.claimOutbox(now: now.addingTimeInterval(3600), lease: 30, limit: 10_000)).isEmpty)
        }
    }

    /// The operator's backlog gauges. On PostgreSQL, whose database other suites share,
    /// counts are compared as "at least".
    @Test(arguments: StoreKind.enabled) func backlogCountsUndeliveredMessagesAndAttemptsAwaitingReconciliation(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let now = Date()
            let past = now.addingTimeInterval(-60)
            let same = { (count: Int, expected: Int) in kind == .postgres ? count >= expected : count == expected }
            let before = try await store.backlog(unresolvedBefore: past)
            let (sale, reservation) = try await reserved(store, quantity: 1)
            // Pending since now: not the reconciler's yet, unless the cutoff is later.
            let payment = newPayment(sale, reservation, key: "b1")
            _ = try await store.beginPayment(payment, perCustomerLimit: 1, now: now)
            let pending = try await store.backlog(unresolvedBefore: past).unresolvedPayments
            #expect(same(pending, before.unresolvedPayments))
            #expect(try await store.backlog(unresolvedBefore: now.addingTimeInterval(1)).unresolvedPayments >= before.unresolvedPayments + 1)
            // Unknown: the reconciler's at once.
            _ = try await store.settlePayment(id: payment.id, result: .unknown, now: now)
            let unknown = try await store.backlog(unresolvedBefore: past).unresolvedPayments
            #expect(same(unknown, before.unresolvedPayments + 1))
            // Charged after all: resolved, and its email waits in the outbox.
            _ = try await store.settlePayment(id: payment.id, result: .charged(chargeID: "ch_b"), now: now)
            let after = try await store.backlog(unresolvedBefore: past)
            #expect(same(after.unresolvedPayments, before.unresolvedPayments))
            #expect(same(after.outboxDepth, before.outboxDepth + 1))
            let oldest = try #require(after.outboxOldest)
            #expect(oldest <= now.addingTimeInterval(0.001))
            if kind != .postgres {
                #expect(before == Backlog(outboxDepth: 0, outboxOldest: nil, unresolvedPayments: 0))
                #expect(abs(oldest.timeIntervalSince(now)) < 0.002)
            }
        }
    }

    // MARK: Helpers (OrderReviewConformanceTests.swift uses them too)

    func reserved(_ store: any Store, quantity: Int) async throws -> (Sale, ReservationRecord) {
        let sale = try await makeSale(store, quantity: 5, limit: 2)
        return (sale, try await reserve(store, sale, email: "buyer@example.com", quantity: quantity))
    }

    func reserve(_ store: any Store, _ sale: Sale, email: String, quantity: Int = 1) async throws -> ReservationRecord {
        let result = try await store.commitReservations([attempt(sale, email: email, quantity: quantity)], saleID: sale.id, now: Date())
        guard case .reserved(let receipt) = result.outcomes[0] else { throw StoreError.corruptRow("not reserved") }
        return try #require(try await store.reservation(id: receipt.reservationID))
    }

    func newPayment(
        _ sale: Sale, _ reservation: ReservationRecord, key: String, card: String = "card-1", address: String = "1 main st|1|us",
        flags: [String] = []
    ) -> PaymentRecord {
        let now = Date()
        return PaymentRecord(
            id: .timeOrdered(), reservationID: reservation.id, saleID: sale.id, status: .pending, email: reservation.email,
            quantity: reservation.quantity, amountCents: reservation.amountCents, currency: sale.currency, cardFingerprint: card,
            addressKey: address, chargeID: nil,
            idempotency: IdempotencyClaim(scope: "payment:\(reservation.id.lowercased)", key: key, body: Data("{}".utf8)),
            response: nil, createdAt: now, updatedAt: now, flags: flags)
    }
}
