import FlashSaleCore
import Synchronization
import Testing

@testable import FlashSaleLoad

struct ShopperLogicTests {
    let patient = ShopperPlan(patience: nil, aggressive: false, reserves: true, pays: true, cancels: false, cards: [.succeeds], thinkSeconds: 0)

    func next(_ status: String, pollAfterMs: Int? = 2_000, plan: ShopperPlan? = nil, waited: Double = 0,
              challenge: ShopWire.Challenge? = nil) -> QueueDecision {
        QueueDecision.next(
            after: ShopWire.QueueAnswer(status: status, pollAfterMs: pollAfterMs, challenge: challenge),
            plan: plan ?? patient, waited: waited, aggressivePollMs: 100)
    }

    @Test func honestClientsWaitAsToldAndAggressiveOnesDoNot() {
        #expect(next("waiting", pollAfterMs: 2_500) == .poll(afterMs: 2_500))
        #expect(next("not_started", pollAfterMs: 5_000) == .poll(afterMs: 5_000))
        #expect(next("waiting", pollAfterMs: nil) == .poll(afterMs: QueueDecision.fallbackPollMs))
        var aggressive = patient
        aggressive.aggressive = true
        #expect(next("waiting", pollAfterMs: 2_500, plan: aggressive) == .poll(afterMs: 100))
    }

    @Test func terminalAnswersEndTheWait() {
        #expect(next("admitted") == .reserve)
        #expect(next("sold_out") == .leave(.soldOut))
        #expect(next("ended") == .leave(.ended))
        #expect(next("something new") == .leave(.unexpected))
    }

    @Test func impatientShoppersLeaveOnceTheirPatienceIsSpent() {
        var impatient = patient
        impatient.patience = 10
        #expect(next("waiting", plan: impatient, waited: 9.9) == .poll(afterMs: 2_000))
        #expect(next("waiting", plan: impatient, waited: 10) == .leave(.gaveUp))
        // Admission beats impatience: nobody walks away from an open door.
        #expect(next("admitted", plan: impatient, waited: 60) == .reserve)
    }

    @Test func aChallengeIsSolvedOnlyWhenItIsSHA256() {
        let challenge = ShopWire.Challenge(prefix: "abc", difficultyBits: 18)
        #expect(next("challenge", challenge: challenge) == .solve(challenge))
        #expect(next("challenge", challenge: ShopWire.Challenge(algorithm: "md5", prefix: "abc", difficultyBits: 1)) == .leave(.unexpected))
        #expect(next("challenge") == .leave(.unexpected))
    }

    @Test func plansFollowTheProfileShares() {
        var generator = SplitMix64(seed: 11)
        let profile = CrowdProfile(
            abandonQueue: 0.2, patienceSeconds: 5...60, abandonAdmitted: 0.1, payShare: 0.8, cancelShare: 0.5,
            declinedShare: 0.1, insufficientShare: 0.05, aggressiveShare: 0.3, thinkSeconds: 0...1)
        let plans = (0..<20_000).map { _ in ShopperPlan.draw(profile, using: &generator) }
        func share(_ predicate: (ShopperPlan) -> Bool) -> Double { Double(plans.filter(predicate).count) / Double(plans.count) }
        #expect(abs(share { $0.patience != nil } - 0.2) < 0.015)
        #expect(plans.allSatisfy { $0.patience.map { (5...60).contains($0) } ?? true })
        #expect(abs(share { !$0.reserves } - 0.1) < 0.015)
        #expect(abs(share { $0.pays } - 0.8) < 0.015)
        #expect(abs(share { $0.aggressive } - 0.3) < 0.015)
        #expect(abs(share { $0.cards == [.declined, .succeeds] } - 0.1) < 0.015)
        #expect(abs(share { $0.cards == [.insufficientFunds] } - 0.05) < 0.01)
        #expect(abs(share { $0.cards == [.succeeds] } - 0.85) < 0.015)
    }

    @Test func noPaymentWhenThePayShareIsZero() {
        var generator = SplitMix64(seed: 5)
        let plans = (0..<1_000).map { _ in ShopperPlan.draw(CrowdProfile(payShare: 0), using: &generator) }
        #expect(plans.allSatisfy { !$0.pays })
    }

    @Test func theLimiterNeverLetsMoreThanItsLimitThrough() async {
        final class Occupancy: Sendable {
            let inside = Atomic<Int>(0)
            let most = Atomic<Int>(0)
        }
        let limiter = AsyncLimiter(limit: 4)
        let occupancy = Occupancy()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    await limiter.withPermit {
                        let now = occupancy.inside.add(1, ordering: .relaxed).newValue
                        occupancy.most.max(now, ordering: .relaxed)
                        try? await Task.sleep(for: .milliseconds(1))
                        occupancy.inside.subtract(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(occupancy.most.load(ordering: .relaxed) == 4)
        #expect(occupancy.inside.load(ordering: .relaxed) == 0)
    }

    @Test func checkoutGoesFirstThenPollsThenJoins() async throws {
        final class Order: Sendable {
            let names = Mutex<[String]>([])
            func append(_ name: String) { names.withLock { $0.append(name) } }
        }
        let limiter = AsyncLimiter(limit: 1)
        let order = Order()
        let release = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // One holder keeps the only permit until all three wait, queued in a known order.
            group.addTask {
                await limiter.withPermit {
                    order.append("held")
                    for await _ in release.stream { break }
                }
            }
            func enqueued(_ count: Int) async throws {
                while limiter.waiting < count { try await Task.sleep(for: .milliseconds(5)) }
            }
            while order.names.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
            group.addTask { await limiter.withPermit(lane: .arriving) { order.append("join") } }
            try await enqueued(1)
            group.addTask { await limiter.withPermit(lane: .waiting) { order.append("poll 1") } }
            try await enqueued(2)
            group.addTask { await limiter.withPermit(lane: .waiting) { order.append("poll 2") } }
            try await enqueued(3)
            group.addTask { await limiter.withPermit(lane: .checkout) { order.append("pay") } }
            try await enqueued(4)
            release.continuation.yield()
            release.continuation.finish()
            try await group.waitForAll()
        }
        #expect(order.names.withLock { $0 } == ["held", "pay", "poll 1", "poll 2", "join"])
    }
}
