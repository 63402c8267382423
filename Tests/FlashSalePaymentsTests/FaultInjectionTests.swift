import Foundation
import Testing

@testable import FlashSalePayments

@Suite struct FaultInjectionTests {
    @Test func theSameSeedGivesTheSameFaults() {
        let faults = Faults(failRate: 0.3, timeoutRate: 0.3, seed: 42)
        var a = FaultDice(faults)
        var b = FaultDice(faults)
        let rolls = (0..<200).map { _ in a.roll() }
        #expect(rolls == (0..<200).map { _ in b.roll() })
        #expect(rolls.contains(.fail) && rolls.contains(.timeout) && rolls.contains(.none))
        let fails = rolls.filter { $0 == .fail }.count
        #expect((30...90).contains(fails), "about 30% of 200 fail: \(fails)")
    }

    @Test func failRateOneNeverCharges() async throws {
        let provider = try SimulatedProvider(faults: Faults(failRate: 1, seed: 1))
        for attempt in 0..<5 {
            await #expect(throws: PaymentProviderError.self) { try await provider.charge(chargeRequest(), idempotencyKey: "k\(attempt)") }
            #expect(await provider.charge(idempotencyKey: "k\(attempt)") == nil)
        }
        #expect(await provider.ledger().charges.isEmpty)
    }

    @Test func timeoutRateOneChargesButDoesNotSaySo() async throws {
        let provider = try SimulatedProvider(faults: Faults(timeoutRate: 1, seed: 1), inProcessTimeout: .milliseconds(10))
        do {
            _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
            Issue.record("the answer should have been withheld")
        } catch PaymentProviderError.unknownOutcome(let reason) {
            #expect(reason == "timeout")
        }
        let charge = try #require(await provider.charge(idempotencyKey: "k1"), "the charge was made")
        #expect(charge.amountCents == 12_900)
        // A retry with the same key is not a second charge, even when its answer is lost too.
        await #expect(throws: PaymentProviderError.unknownOutcome("timeout")) {
            try await provider.charge(chargeRequest(), idempotencyKey: "k1")
        }
        #expect(await provider.ledger().charges == [charge])
    }

    @Test func faultsFollowTheSeedThroughTheProvider() async throws {
        func run() async throws -> [Bool] {
            let provider = try SimulatedProvider(faults: Faults(failRate: 0.5, seed: 7), inProcessTimeout: .zero)
            var answered: [Bool] = []
            for i in 0..<30 {
                answered.append((try? await provider.charge(chargeRequest(), idempotencyKey: "k\(i)")) != nil)
            }
            #expect(await provider.ledger().charges.count == answered.filter { $0 }.count, "a failed attempt charged nothing")
            return answered
        }
        let first = try await run()
        #expect(try await run() == first)
        #expect(first.contains(true) && first.contains(false))
    }

    @Test func latencyIsSleptBeforeTheCharge() async throws {
        let provider = try SimulatedProvider(faults: Faults(latencyMs: 60))
        let clock = ContinuousClock()
        let elapsed = try await clock.measure { _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1") }
        #expect(elapsed >= .milliseconds(60))
    }

    @Test func lookupsAndRefundsAreNeverFaulted() async throws {
        let provider = try SimulatedProvider(faults: Faults(timeoutRate: 1, seed: 3), inProcessTimeout: .zero)
        _ = try? await provider.charge(chargeRequest(), idempotencyKey: "k1")
        let charge = try #require(await provider.charge(idempotencyKey: "k1"))
        let refund = try await provider.refund(chargeID: charge.id, idempotencyKey: "r1")
        #expect(await provider.ledger().refunds == [refund])
    }

    @Test func rateOutsideZeroToOneIsAProblem() {
        #expect(Faults(failRate: 1.5).problems() == ["fail-rate must be between 0 and 1"])
        #expect(Faults(latencyMs: -1, timeoutRate: -0.1).problems().count == 2)
        #expect(Faults(latencyMs: 5, failRate: 1, timeoutRate: 0).problems().isEmpty)
    }
}
