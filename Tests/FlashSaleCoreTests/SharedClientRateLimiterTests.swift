import Testing
@testable import FlashSaleCore

@Suite("SharedClientRateLimiter")
struct SharedClientRateLimiterTests {
    let policy = ClientRateLimiter<Int>.Policy(requestsPerMinute: 60, burst: 5)

    @Test("the shards' capacities add up to capacity, and count stays within it")
    func capacity() {
        let limiter = SharedClientRateLimiter(policy: policy, capacity: 1000, shards: 16, seed: 9)
        #expect(limiter.capacity == 1000 && limiter.count == 0)
        for key in 0..<50_000 { _ = limiter.take(key: key, now: 0) }
        #expect(limiter.count <= 1000)
        #expect(limiter.count > 900, "hashing spreads keys over every shard")
    }

    @Test("the same rules as one limiter: a burst, then the steady rate")
    func sameRules() {
        let limiter = SharedClientRateLimiter(policy: policy, shards: 4, seed: 9)
        for _ in 0..<5 { #expect(limiter.take(key: 1, now: 0) == .allowed) }
        #expect(limiter.take(key: 1, now: 0) == .limited(retryAfter: 1))
        #expect(limiter.take(key: 2, now: 0) == .allowed)
        #expect(limiter.take(key: 1, now: 1) == .allowed)
    }

    @Test("concurrent takes: each key gets exactly its burst at one instant")
    func concurrent() async {
        let limiter = SharedClientRateLimiter(policy: policy, capacity: 10_000, seed: 9)
        let keys = 0..<64
        let allowed = await withTaskGroup(of: [Int: Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var mine: [Int: Int] = [:]
                    for round in 0..<20 {
                        for key in keys where limiter.take(key: (key + worker + round) % keys.count, now: 50) == .allowed {
                            mine[(key + worker + round) % keys.count, default: 0] += 1
                        }
                    }
                    return mine
                }
            }
            return await group.reduce(into: [Int: Int]()) { total, part in total.merge(part, uniquingKeysWith: +) }
        }
        #expect(allowed == Dictionary(uniqueKeysWithValues: keys.map { ($0, 5) }))
        #expect(limiter.count == keys.count)
    }
}
