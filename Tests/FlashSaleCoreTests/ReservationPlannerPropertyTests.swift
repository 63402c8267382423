import Foundation
import Testing
@testable import FlashSaleCore

@Suite("ReservationPlanner: properties over random batches")
struct ReservationPlannerPropertyTests {
    struct Scenario {
        var attempts: [ReservationAttempt]
        var facts: ReservationPlanner.Facts
        var limit: Int
    }

    /// A batch with few customers, passes, keys and bodies, so repeats of each are common.
    static func scenario(_ rng: inout SplitMix64) -> Scenario {
        let limit = Int.random(in: 1...4, using: &rng)
        let factory = AttemptFactory(saleID: rng.uuid(), limit: limit)
        let customers = (0..<Int.random(in: 1...6, using: &rng)).map { "c\($0)@example.com" }
        let passes = (0..<Int.random(in: 1...10, using: &rng)).map { _ in rng.uuid() }
        let keys = (0..<Int.random(in: 1...12, using: &rng)).map { "key-\($0)" }
        let bodies = ["body-a", "body-b", "body-c"]
        let scopes = ["scope-1", "scope-2"]

        var customerUnits: [String: Int] = [:]
        for customer in customers where rng.bool(0.3) { customerUnits[customer] = Int.random(in: 0...limit, using: &rng) }
        let passesHolding = Set(passes.filter { _ in rng.bool(0.15) })

        let attempts = (0..<Int.random(in: 0...40, using: &rng)).map { _ in
            factory.make(
                pass: rng.element(of: passes), customer: rng.element(of: customers),
                quantity: Int.random(in: 1...(limit + 1), using: &rng), key: rng.element(of: keys),
                scope: rng.element(of: scopes), body: rng.element(of: bodies))
        }
        var storedKeys: [ReservationPlanner.KeyID: ReservationPlanner.StoredKey] = [:]
        for key in keys where rng.bool(0.2) {
            let claim = IdempotencyClaim(scope: rng.element(of: scopes), key: key, body: Data(rng.element(of: bodies).utf8))
            let response = StoredResponse(status: 201, body: Data("stored \(key)".utf8))
            storedKeys[.init(claim)] = .init(fingerprint: claim.fingerprint, response: response)
        }
        let facts = ReservationPlanner.Facts(
            available: Int.random(in: 0...25, using: &rng), storedKeys: storedKeys, customerUnits: customerUnits,
            passesHolding: passesHolding)
        return Scenario(attempts: attempts, facts: facts, limit: limit)
    }

    @Test("property: stock guard, limits, one reservation per pass, idempotent replay")
    func invariants() {
        var rng = SplitMix64(seed: 0x5A1E)
        for round in 0..<500 {
            let s = Self.scenario(&rng)
            let plan = ReservationPlanner.plan(s.attempts, facts: s.facts)
            check(s, plan, round: round)
        }
    }

    func check(_ s: Scenario, _ plan: ReservationPlanner.Plan, round: Int) {
        let note = Comment(rawValue: "round \(round)")
        #expect(plan.outcomes.count == s.attempts.count, note)
        guard plan.outcomes.count == s.attempts.count else { return }

        // Stock guard.
        #expect(plan.units <= s.facts.available, note)
        #expect(plan.units >= 0, note)

        // `reserved` lists exactly the attempts answered `.reserved`, in order, with their receipts.
        let reservedIndices = plan.outcomes.indices.filter {
            if case .reserved = plan.outcomes[$0] { return true } else { return false }
        }
        #expect(reservedIndices.map { s.attempts[$0].reservationID } == plan.reserved.map(\.reservationID), note)
        for i in reservedIndices { #expect(plan.outcomes[i] == .reserved(s.attempts[i].receipt), note) }

        // Per customer: units held before plus units reserved now stay within the limit.
        var perCustomer = s.facts.customerUnits
        for attempt in plan.reserved { perCustomer[attempt.customerKey, default: 0] += attempt.quantity }
        for (customer, units) in perCustomer where units > s.facts.customerUnits[customer, default: 0] {
            #expect(units <= s.limit, "\(customer) holds \(units) of \(s.limit), round \(round)")
        }

        // One live reservation per pass.
        let passes = plan.reserved.map(\.passID)
        #expect(Set(passes).count == passes.count, note)
        #expect(Set(passes).isDisjoint(with: s.facts.passesHolding), note)

        // Idempotency: replay from the store, or from the first use in this batch.
        var firstUse: [ReservationPlanner.KeyID: Int] = [:]
        var newKeyCount = 0
        var remaining = s.facts.available
        var held = s.facts.customerUnits
        var holding = s.facts.passesHolding
        for (i, attempt) in s.attempts.enumerated() {
            let id = ReservationPlanner.KeyID(attempt.idempotency)
            let outcome = plan.outcomes[i]
            if let stored = s.facts.storedKeys[id] {
                let expected: ReservationOutcome = stored.fingerprint == attempt.idempotency.fingerprint
                    ? .replayed(stored.response) : .rejected(.idempotencyKeyReused)
                #expect(outcome == expected, note)
                continue
            }
            if let first = firstUse[id] {
                let expected: ReservationOutcome = s.attempts[first].idempotency.fingerprint == attempt.idempotency.fingerprint
                    ? .replayed(plan.outcomes[first].response) : .rejected(.idempotencyKeyReused)
                #expect(outcome == expected, "attempt \(i) reuses the key of \(first), round \(round)")
                continue
            }
            firstUse[id] = i
            // A fresh request: recorded, and answered by the rules in order, first come first served.
            if newKeyCount < plan.newKeys.count {
                #expect(plan.newKeys[newKeyCount].claim == attempt.idempotency, note)
                #expect(plan.newKeys[newKeyCount].response == outcome.response, note)
            }
            newKeyCount += 1
            let units = held[attempt.customerKey, default: 0]
            let expected: ReservationOutcome
            if holding.contains(attempt.passID) {
                expected = .rejected(.passHasReservation)
            } else if units + attempt.quantity > attempt.perCustomerLimit {
                expected = .rejected(.limitExceeded)
            } else if attempt.quantity > remaining {
                expected = .rejected(.soldOut)
            } else {
                expected = .reserved(attempt.receipt)
                remaining -= attempt.quantity
                held[attempt.customerKey] = units + attempt.quantity
                holding.insert(attempt.passID)
            }
            #expect(outcome == expected, "attempt \(i), round \(round)")
        }
        #expect(plan.newKeys.count == newKeyCount, note)
        #expect(plan.units == s.facts.available - remaining, note)
    }

    @Test("property: a batch of one-unit attempts from distinct shoppers reserves exactly min(available, attempts)")
    func fillsStockExactly() {
        var rng = SplitMix64(seed: 77)
        let factory = AttemptFactory(limit: 1)
        for _ in 0..<300 {
            let available = Int.random(in: 0...30, using: &rng)
            let attempts = (0..<Int.random(in: 0...40, using: &rng)).map { factory.make(customer: "c\($0)@example.com") }
            let plan = ReservationPlanner.plan(attempts, facts: .init(available: available))
            #expect(plan.units == min(available, attempts.count))
            // FCFS: the winners are exactly the earliest attempts.
            #expect(plan.reserved.map(\.reservationID) == attempts.prefix(available).map(\.reservationID))
        }
    }

    @Test("property: planning is a function of its input (same batch, same plan)")
    func deterministic() {
        var rng = SplitMix64(seed: 31)
        for _ in 0..<100 {
            let s = Self.scenario(&rng)
            let a = ReservationPlanner.plan(s.attempts, facts: s.facts)
            let b = ReservationPlanner.plan(s.attempts, facts: s.facts)
            #expect(a.outcomes == b.outcomes)
            #expect(a.reserved.map(\.reservationID) == b.reserved.map(\.reservationID))
        }
    }
}
