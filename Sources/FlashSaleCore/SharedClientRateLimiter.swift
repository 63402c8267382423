import Synchronization

/// `ClientRateLimiter` for concurrent callers: keys are spread by hash over independent
/// limiters, each behind its own `Mutex`, so two requests contend only when their keys land on
/// the same shard (1 in `shards` for unrelated keys), and then only for one `take`.
///
/// Each shard holds an equal part of `capacity` and evicts within itself (see
/// `ClientRateLimiter` for the policy); hashing spreads keys evenly enough that the shards fill
/// together.
public final class SharedClientRateLimiter<Key: Hashable & Sendable>: Sendable {
    private final class Shard: Sendable {
        let limiter: Mutex<ClientRateLimiter<Key>>

        init(_ limiter: ClientRateLimiter<Key>) { self.limiter = Mutex(limiter) }
    }

    public let policy: ClientRateLimiter<Key>.Policy
    /// Most keys held at once, over all shards.
    public let capacity: Int
    private let shards: [Shard]

    /// - Parameters:
    ///   - capacity: most keys held at once, split evenly over the shards (≥ `shards`).
    ///   - shards: independent limiters (≥ 1); more than the number of cores makes contention rare.
    ///   - seed: for the eviction samples; a fixed seed replays the same evictions.
    public init(
        policy: ClientRateLimiter<Key>.Policy, capacity: Int = 100_000, shards: Int = 16, seed: UInt64 = .random(in: .min ... .max)
    ) {
        precondition(shards >= 1 && capacity >= shards, "need shards ≥ 1 and capacity ≥ shards")
        self.policy = policy
        self.capacity = capacity
        var seeds = SplitMix64(seed: seed)
        self.shards = (0..<shards).map { index in
            // The first `capacity % shards` shards take one more, so the parts add up to `capacity`.
            let part = capacity / shards + (index < capacity % shards ? 1 : 0)
            return Shard(ClientRateLimiter(policy: policy, capacity: part, seed: seeds.next()))
        }
    }

    /// `ClientRateLimiter.take` on `key`'s shard.
    public func take(key: Key, now: Double, cost: Double = 1) -> ClientRateLimiter<Key>.Decision {
        shard(for: key).limiter.withLock { $0.take(key: key, now: now, cost: cost) }
    }

    /// `ClientRateLimiter.spent` on `key`'s shard.
    public func spent(key: Key, now: Double) -> Double {
        shard(for: key).limiter.withLock { $0.spent(key: key, now: now) }
    }

    /// Keys held, over all shards (each counted under its own lock, so a moment's estimate).
    public var count: Int {
        shards.reduce(0) { sum, shard in sum + shard.limiter.withLock { $0.count } }
    }

    private func shard(for key: Key) -> Shard {
        // The high half of hash × shards is uniform in 0..<shards without a division.
        let hash = UInt(bitPattern: key.hashValue)
        return shards[Int(hash.multipliedFullWidth(by: UInt(shards.count)).high)]
    }
}
