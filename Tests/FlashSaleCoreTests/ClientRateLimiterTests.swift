import Testing
@testable import FlashSaleCore

@Suite("ClientRateLimiter")
struct ClientRateLimiterTests {
    /// One token a second, five at most.
    let perSecond = ClientRateLimiter<String>.Policy(requestsPerMinute: 60, burst: 5)

    func retryAfter(_ decision: ClientRateLimiter<some Hashable & Sendable>.Decision) -> Double? {
        if case .limited(let seconds) = decision { return seconds }
        return nil
    }

    @Test("a burst, then the steady rate")
    func burstThenSteady() {
        var limiter = ClientRateLimiter(policy: perSecond, seed: 1)
        for _ in 0..<5 { #expect(limiter.take(key: "a", now: 100) == .allowed) }
        #expect(limiter.take(key: "a", now: 100) == .limited(retryAfter: 1))
        #expect(limiter.take(key: "a", now: 101) == .allowed)
        #expect(limiter.take(key: "a", now: 101) == .limited(retryAfter: 1))
        #expect(limiter.take(key: "a", now: 103) == .allowed, "two seconds earned two tokens")
        #expect(limiter.take(key: "a", now: 103) == .allowed)
        #expect(limiter.take(key: "a", now: 103) == .limited(retryAfter: 1))
        // Over a minute of asking four times a second: the full bucket, then one a second.
        var allowed = 0
        for tick in 0..<240 where limiter.take(key: "a", now: 200 + Double(tick) * 0.25) == .allowed { allowed += 1 }
        #expect(allowed == 5 + 59, "5 in the bucket after the idle spell, and 59.75 s of refill")
    }

    @Test("an idle spell refills the bucket to burst and no further")
    func refillCaps() {
        var limiter = ClientRateLimiter(policy: perSecond, seed: 1)
        for _ in 0..<5 { _ = limiter.take(key: "a", now: 0) }
        var allowed = 0
        for _ in 0..<20 where limiter.take(key: "a", now: 3600) == .allowed { allowed += 1 }
        #expect(allowed == 5)
    }

    @Test("retryAfter is the exact wait for the tokens asked for")
    func retryAfterExact() throws {
        // Two tokens a second (0.5 s each), three at most.
        var limiter = ClientRateLimiter<String>(policy: .init(requestsPerMinute: 120, burst: 3), seed: 1)
        for _ in 0..<3 { #expect(limiter.take(key: "a", now: 10) == .allowed) }
        #expect(abs(try #require(retryAfter(limiter.take(key: "a", now: 10))) - 0.5) < 1e-9)
        #expect(abs(try #require(retryAfter(limiter.take(key: "a", now: 10.2))) - 0.3) < 1e-9)
        #expect(abs(try #require(retryAfter(limiter.take(key: "a", now: 10.2, cost: 2))) - 0.8) < 1e-9)
        #expect(abs(try #require(retryAfter(limiter.take(key: "a", now: 10.2, cost: 3))) - 1.3) < 1e-9)
        #expect(limiter.take(key: "a", now: 10.5) == .allowed, "exactly at retryAfter")
        let wait = try #require(retryAfter(limiter.take(key: "a", now: 10.5, cost: 2)))
        #expect(abs(wait - 1) < 1e-9)
        #expect(limiter.take(key: "a", now: 10.5 + wait, cost: 2) == .allowed, "exactly at retryAfter, cost 2")
    }

    @Test("limited requests take nothing, so hammering does not push the wait out")
    func limitedTakesNothing() throws {
        var limiter = ClientRateLimiter(policy: perSecond, seed: 1)
        for _ in 0..<5 { _ = limiter.take(key: "a", now: 0) }
        for tick in 1..<100 { #expect(retryAfter(limiter.take(key: "a", now: Double(tick) * 0.01)) != nil) }
        #expect(limiter.take(key: "a", now: 1) == .allowed)
    }

    @Test("a rate that is not a whole number of seconds still admits the burst at one instant")
    func fractionalRate() {
        var limiter = ClientRateLimiter<String>(policy: .init(requestsPerMinute: 7, burst: 3), seed: 1)
        for _ in 0..<3 { #expect(limiter.take(key: "a", now: 0) == .allowed) }
        #expect(retryAfter(limiter.take(key: "a", now: 0)) != nil)
        for step in 1...50 {
            let due = Double(step) * 60 / 7
            #expect(retryAfter(limiter.take(key: "a", now: due - 1e-6)) != nil)
            #expect(limiter.take(key: "a", now: due) == .allowed, "token \(step) at \(due)")
        }
    }

    @Test("keys have independent buckets")
    func independentKeys() {
        var limiter = ClientRateLimiter(policy: perSecond, seed: 1)
        for _ in 0..<5 { _ = limiter.take(key: "a", now: 0) }
        #expect(retryAfter(limiter.take(key: "a", now: 0)) != nil)
        for _ in 0..<5 { #expect(limiter.take(key: "b", now: 0) == .allowed) }
        #expect(retryAfter(limiter.take(key: "b", now: 0)) != nil)
        #expect(limiter.take(key: "c", now: 0) == .allowed)
        #expect(limiter.count == 3)
    }

    @Test("addresses as keys: an IPv4-mapped address shares the IPv4 address's bucket")
    func addressKeys() throws {
        var limiter = ClientRateLimiter<AddressKey>(policy: .init(requestsPerMinute: 60, burst: 2), seed: 1)
        let plain = try #require(AddressKey([203, 0, 113, 7]))
        let mapped = try #require(AddressKey(IPAddress.parse("::ffff:203.0.113.7")!))
        #expect(limiter.take(key: plain, now: 0) == .allowed)
        #expect(limiter.take(key: mapped, now: 0) == .allowed)
        #expect(limiter.take(key: plain, now: 0) == .limited(retryAfter: 1))
        #expect(limiter.count == 1)
    }

    @Test("a million distinct keys: count never exceeds capacity")
    func boundedMemory() {
        var limiter = ClientRateLimiter<Int>(policy: .init(requestsPerMinute: 60, burst: 5), capacity: 1000, seed: 7)
        for key in 0..<1_000_000 {
            #expect(limiter.take(key: key, now: Double(key) * 1e-5) == .allowed, "a new key has a full bucket")
            if key % 997 == 0 { #expect(limiter.count <= limiter.capacity) }
        }
        #expect(limiter.count == 1000 && limiter.capacity == 1000)
    }

    @Test("a key held at its limit stays limited while other keys churn through a full table", arguments: [false, true])
    func attackerStaysLimited(settledTable: Bool) {
        let policy = ClientRateLimiter<Int>.Policy(requestsPerMinute: 60, burst: 10)
        var limiter = ClientRateLimiter<Int>(policy: policy, capacity: 1000, seed: 42)
        let attacker = -1
        var now = 0.0
        if settledTable {
            // Fill the table, then let every bucket refill: the table is all full buckets.
            for key in 1_000_000..<1_001_000 { _ = limiter.take(key: key, now: now) }
            now = 60
        }
        var allowed = 0
        for _ in 0..<20 where limiter.take(key: attacker, now: now) == .allowed { allowed += 1 }
        #expect(allowed == 10)
        let start = now
        for key in 0..<200_000 {
            now = start + Double(key) * 1e-4
            _ = limiter.take(key: key, now: now)
            if key % 50 == 0, limiter.take(key: attacker, now: now) == .allowed { allowed += 1 }
            #expect(limiter.count <= 1000)
        }
        // 20 seconds of hammering earn 20 tokens; one eviction would have handed back 10 more.
        #expect(allowed <= 10 + 20 + 1)
        #expect(retryAfter(limiter.take(key: attacker, now: now)) != nil)
    }

    @Test("the consequence of eviction: a forgotten key comes back with a full bucket")
    func evictedKeyIsFresh() {
        var limiter = ClientRateLimiter(policy: perSecond, capacity: 1, seed: 1)
        for _ in 0..<3 { _ = limiter.take(key: "a", now: 0) }
        _ = limiter.take(key: "b", now: 0)
        #expect(limiter.count == 1)
        for _ in 0..<5 { #expect(limiter.take(key: "a", now: 0) == .allowed) }
        #expect(retryAfter(limiter.take(key: "a", now: 0)) != nil)
    }

    @Test("eviction takes the fullest sampled bucket: drained keys outlast the others")
    func evictsFullBuckets() {
        // Keys 0..<10 drained at 0; the other 90 took one token at 0, and are full again by 2 s.
        var limiter = ClientRateLimiter<Int>(policy: .init(requestsPerMinute: 60, burst: 5), capacity: 100, seed: 3)
        for key in 0..<100 {
            for _ in 0..<(key < 10 ? 5 : 1) { _ = limiter.take(key: key, now: 0) }
        }
        // 80 newcomers at 2 s. A drained key goes only if all eight sampled entries are
        // drained: (10/100)^8 per eviction.
        for key in 100..<180 { _ = limiter.take(key: key, now: 2) }
        for key in 0..<10 {
            // Still held: two tokens earned since 0, not a fresh bucket of five.
            var allowed = 0
            while limiter.take(key: key, now: 2) == .allowed { allowed += 1 }
            #expect(allowed == 2, "drained key \(key) kept its bucket")
        }
        #expect(limiter.count == 100)
    }
}
