import Foundation
import Testing
@testable import FlashSaleCore

/// Builds attempts for one sale with readable defaults.
struct AttemptFactory {
    var saleID = UUID()
    var limit = 2
    var expiresAt = Fixtures.saleStart.addingTimeInterval(600)

    func make(
        pass: UUID = UUID(), customer: String = "a@example.com", quantity: Int = 1, key: String? = nil,
        scope: String? = nil, body: String? = nil
    ) -> ReservationAttempt {
        let body = body ?? #"{"email":"\#(customer)","quantity":\#(quantity)}"#
        return ReservationAttempt(
            saleID: saleID, passID: pass, email: customer, customerKey: customer, quantity: quantity,
            amountCents: quantity * 12_900, perCustomerLimit: limit, expiresAt: expiresAt,
            idempotency: IdempotencyClaim(scope: scope ?? "reserve:\(pass.lowercased)", key: key ?? UUID().uuidString,
                                          body: Data(body.utf8)))
    }
}

@Suite("ReservationPlanner: the rules, example by example")
struct ReservationPlannerTests {
    let factory = AttemptFactory()

    @Test("an attempt that fits is reserved, recorded and answered with its receipt")
    func reserves() throws {
        let attempt = factory.make(quantity: 2)
        let plan = ReservationPlanner.plan([attempt], facts: .init(available: 5))
        #expect(plan.outcomes == [.reserved(attempt.receipt)])
        #expect(plan.reserved.map(\.reservationID) == [attempt.reservationID])
        #expect(plan.units == 2)
        #expect(plan.newKeys.count == 1)
        #expect(plan.newKeys[0].claim == attempt.idempotency)
        #expect(plan.newKeys[0].response.status == 201)
        #expect(plan.newKeys[0].response == plan.outcomes[0].response)
        let receipt = try JSONCoding.decoder().decode(ReservationReceipt.self, from: plan.newKeys[0].response.body)
        #expect(receipt == attempt.receipt)
        #expect(receipt.amountCents == 25_800)
    }

    @Test("never more units than available; FCFS: earlier attempts win the last units")
    func firstComeFirstServed() {
        let attempts = (0..<5).map { factory.make(customer: "c\($0)@example.com") }
        let plan = ReservationPlanner.plan(attempts, facts: .init(available: 3))
        #expect(plan.outcomes == [
            .reserved(attempts[0].receipt), .reserved(attempts[1].receipt), .reserved(attempts[2].receipt),
            .rejected(.soldOut), .rejected(.soldOut),
        ])
        #expect(plan.units == 3)
        #expect(plan.newKeys.count == 5, "rejections are remembered too")
        #expect(plan.newKeys[4].response == StoredResponse(.soldOut))
    }

    @Test("a request larger than the stock is sold_out; a smaller later one can still fit")
    func partialFit() {
        let big = factory.make(customer: "big@example.com", quantity: 2)
        let small = factory.make(customer: "small@example.com", quantity: 1)
        let plan = ReservationPlanner.plan([big, small], facts: .init(available: 1))
        #expect(plan.outcomes == [.rejected(.soldOut), .reserved(small.receipt)])
    }

    @Test("nothing available: every attempt is sold_out and nothing is reserved")
    func nothingAvailable() {
        let plan = ReservationPlanner.plan((0..<3).map { _ in factory.make() }, facts: .init(available: 0))
        #expect(plan.outcomes == Array(repeating: .rejected(.soldOut), count: 3))
        #expect(plan.reserved.isEmpty && plan.units == 0)
    }

    @Test("the per-customer limit counts units already held and units reserved earlier in the batch")
    func perCustomerLimit() {
        var factory = factory
        factory.limit = 3
        let a = factory.make(customer: "x@example.com", quantity: 1)
        let b = factory.make(customer: "x@example.com", quantity: 1)
        let c = factory.make(customer: "x@example.com", quantity: 1)
        let d = factory.make(customer: "y@example.com", quantity: 3)
        let plan = ReservationPlanner.plan([a, b, c, d], facts: .init(available: 100, customerUnits: ["x@example.com": 1]))
        #expect(plan.outcomes == [.reserved(a.receipt), .reserved(b.receipt), .rejected(.limitExceeded), .reserved(d.receipt)])
        #expect(plan.units == 5)
    }

    @Test("a pass that holds a reservation, or reserved earlier in the batch, gets reservation_exists")
    func onePerPass() {
        let holder = UUID()
        let fresh = UUID()
        let attempts = [
            factory.make(pass: holder, customer: "a@example.com"),
            factory.make(pass: fresh, customer: "b@example.com"),
            factory.make(pass: fresh, customer: "c@example.com"),
        ]
        let plan = ReservationPlanner.plan(attempts, facts: .init(available: 10, passesHolding: [holder]))
        #expect(plan.outcomes == [.rejected(.passHasReservation), .reserved(attempts[1].receipt), .rejected(.passHasReservation)])
        #expect(APIError.passHasReservation.status == 409)
    }

    @Test("checks run in order: pass, then limit, then stock")
    func checkOrder() {
        let holder = UUID()
        let overLimit = factory.make(pass: holder, customer: "a@example.com", quantity: 9)
        #expect(ReservationPlanner.plan([overLimit], facts: .init(available: 0, passesHolding: [holder])).outcomes
            == [.rejected(.passHasReservation)])
        let noStock = factory.make(customer: "a@example.com", quantity: 9)
        #expect(ReservationPlanner.plan([noStock], facts: .init(available: 0)).outcomes == [.rejected(.limitExceeded)])
    }

    @Test("a stored key replays its response for the same body and does no work")
    func storedKeyReplay() {
        let attempt = factory.make(key: "k1")
        let stored = StoredResponse(status: 201, body: Data(#"{"earlier":true}"#.utf8))
        let facts = ReservationPlanner.Facts(
            available: 5, storedKeys: [.init(attempt.idempotency): .init(fingerprint: attempt.idempotency.fingerprint, response: stored)])
        let plan = ReservationPlanner.plan([attempt], facts: facts)
        #expect(plan.outcomes == [.replayed(stored)])
        #expect(plan.outcomes[0].response == stored)
        #expect(plan.reserved.isEmpty && plan.newKeys.isEmpty)
    }

    @Test("a stored key with another body is idempotency_key_reused and does no work")
    func storedKeyReused() {
        let attempt = factory.make(key: "k1")
        let facts = ReservationPlanner.Facts(
            available: 5,
            storedKeys: [.init(attempt.idempotency): .init(fingerprint: "other", response: StoredResponse(.soldOut))])
        let plan = ReservationPlanner.plan([attempt], facts: facts)
        #expect(plan.outcomes == [.rejected(.idempotencyKeyReused)])
        #expect(plan.outcomes[0].response.status == 422)
        #expect(plan.reserved.isEmpty && plan.newKeys.isEmpty)
    }

    @Test("the same key twice in one batch: same body replays the first answer, another body is reused")
    func keyTwiceInBatch() {
        let pass = UUID()
        let first = factory.make(pass: pass, quantity: 1, key: "dup")
        let again = factory.make(pass: pass, quantity: 1, key: "dup")
        let other = factory.make(pass: pass, quantity: 2, key: "dup")
        #expect(first.idempotency.fingerprint == again.idempotency.fingerprint)
        let plan = ReservationPlanner.plan([first, again, other], facts: .init(available: 10))
        #expect(plan.outcomes == [.reserved(first.receipt), .replayed(plan.outcomes[0].response), .rejected(.idempotencyKeyReused)])
        #expect(plan.units == 1)
        #expect(plan.newKeys.count == 1)
    }

    @Test("a rejected first answer is what a retry in the batch replays")
    func replayOfRejection() {
        let first = factory.make(key: "k", scope: "s", body: "same")
        let retry = factory.make(key: "k", scope: "s", body: "same")
        let plan = ReservationPlanner.plan([first, retry], facts: .init(available: 0))
        #expect(plan.outcomes == [.rejected(.soldOut), .replayed(StoredResponse(.soldOut))])
    }

    @Test("keys are scoped: the same key in two scopes is two requests")
    func scopes() {
        let a = factory.make(key: "k", scope: "s1", body: "b")
        let b = factory.make(key: "k", scope: "s2", body: "b")
        let plan = ReservationPlanner.plan([a, b], facts: .init(available: 10))
        #expect(plan.outcomes == [.reserved(a.receipt), .reserved(b.receipt)])
    }

    @Test("an empty batch plans nothing")
    func emptyBatch() {
        let plan = ReservationPlanner.plan([], facts: .init(available: 10))
        #expect(plan.outcomes.isEmpty && plan.reserved.isEmpty && plan.newKeys.isEmpty && plan.units == 0)
    }
}
