/// Per-client token buckets with bounded memory: each key (a client address as `AddressKey`,
/// a waiting-room pass, anything `Hashable`) has a bucket of `policy.burst` tokens refilled at
/// `policy.requestsPerMinute`; a request takes `cost` tokens or is refused with the time until
/// it would not be. A value type, used under its caller's lock; `SharedClientRateLimiter` is
/// the thread-safe, sharded form.
///
/// Each bucket is one number, the instant it is full again (the theoretical arrival time of
/// GCRA, ITU-T I.371, which is a token bucket stated differently: `tokens = burst -
/// max(0, fullAt - now) / interval`), so there is no timer and no refill step.
///
/// **Eviction.** The table holds at most `capacity` keys. A key not in it has a full bucket, so
/// an entry whose bucket is full again carries no information and forgetting it changes no
/// decision. When a new key arrives at a full table, eight entries are sampled at random (the
/// approximation Redis uses for its `maxmemory` eviction) and the one whose bucket is fullest,
/// the earliest `fullAt`, is replaced; sampling stops at the first full bucket.
///
/// Why fullest rather than least recently seen: the only harm of forgetting a key is that it
/// comes back with a full bucket, a gift of exactly the tokens it had spent, and the fullest
/// sampled bucket is the smallest such gift. Eviction can only be lenient, and only by that
/// much; it never limits anyone. A client hammering at its limit has an empty bucket, the latest
/// `fullAt` any key can have, so it is evicted only when every entry sampled with it is empty
/// too: churning through the table with many other keys does not free it. Only when more keys
/// than `capacity` are all at their limit at once does eviction hand some of them fresh
/// buckets; size `capacity` above the number of clients expected to be limited together, and
/// meet wider floods with coarser keys (a /24) and CIDR deny rules.
public struct ClientRateLimiter<Key: Hashable & Sendable>: Sendable {
    /// A bucket's shape.
    public struct Policy: Sendable, Hashable {
        /// Tokens added per minute: the steady rate a client may keep up (> 0).
        public let requestsPerMinute: Double
        /// Bucket capacity in tokens: requests allowed back to back after an idle spell (≥ 1).
        public let burst: Double

        public init(requestsPerMinute: Double, burst: Double) {
            precondition(requestsPerMinute > 0 && burst >= 1, "requestsPerMinute must be > 0 and burst ≥ 1")
            self.requestsPerMinute = requestsPerMinute
            self.burst = burst
        }

        /// Seconds to earn one token.
        var interval: Double { 60 / requestsPerMinute }
    }

    public enum Decision: Sendable, Equatable {
        /// The tokens were taken.
        case allowed
        /// Nothing was taken; the same request is allowed in `retryAfter` seconds (> 0), when
        /// the bucket holds `cost` tokens (for a cost of 1: one token).
        case limited(retryAfter: Double)
    }

    private struct Entry {
        var key: Key
        /// When the bucket is full again, in the caller's seconds.
        var fullAt: Double
    }

    public let policy: Policy
    /// Most keys held at once (≥ 1).
    public let capacity: Int
    private var entries: [Entry] = []
    private var slots: [Key: Int] = [:]
    private var random: SplitMix64
    /// Entries looked at per eviction.
    static var evictionSample: Int { 8 }
    /// Absorbs floating-point error, so that `burst` takes at one instant all succeed.
    private static var epsilon: Double { 1e-9 }

    /// - Parameters:
    ///   - capacity: most keys held at once (≥ 1). Each costs an array entry and a hash-table
    ///     slot, about 100 bytes for an `AddressKey`: some 10 MB at the default.
    ///   - seed: for the eviction sample; a fixed seed replays the same evictions.
    public init(policy: Policy, capacity: Int = 100_000, seed: UInt64 = .random(in: .min ... .max)) {
        precondition(capacity >= 1, "capacity must be ≥ 1")
        self.policy = policy
        self.capacity = capacity
        random = SplitMix64(seed: seed)
    }

    /// Keys held (≤ `capacity`).
    public var count: Int { entries.count }

    /// Takes `cost` tokens from `key`'s bucket if it holds that many.
    /// - Parameters:
    ///   - now: seconds on a monotonic clock, the same for every call.
    ///   - cost: tokens this request is worth, 0 < cost ≤ `policy.burst`.
    public mutating func take(key: Key, now: Double, cost: Double = 1) -> Decision {
        precondition(cost > 0 && cost <= policy.burst, "cost must be in 0 < cost ≤ burst")
        let interval = policy.interval
        guard let slot = slots[key] else {
            // A key not held has a full bucket, so the first take always succeeds.
            insert(Entry(key: key, fullAt: now + cost * interval), now: now)
            return .allowed
        }
        let owed = max(0, entries[slot].fullAt - now) + cost * interval
        let excess = owed - policy.burst * interval
        guard excess <= Self.epsilon else { return .limited(retryAfter: excess) }
        entries[slot].fullAt = now + owed
        return .allowed
    }

    /// Tokens `key` has spent and not yet earned back at `now` (0...burst): its requests
    /// in the last `burst / requestsPerMinute` minutes, less what refilled meanwhile. The
    /// bot defence reads the join buckets this way instead of counting joins twice.
    public func spent(key: Key, now: Double) -> Double {
        guard let slot = slots[key] else { return 0 }
        return max(0, entries[slot].fullAt - now) / policy.interval
    }

    private mutating func insert(_ entry: Entry, now: Double) {
        if entries.count < capacity {
            slots[entry.key] = entries.count
            entries.append(entry)
            return
        }
        let victim = evictionVictim(now: now)
        slots[entries[victim].key] = nil
        slots[entry.key] = victim
        entries[victim] = entry
    }

    /// The sampled entry with the fullest bucket: forgetting it gives back the fewest tokens.
    private mutating func evictionVictim(now: Double) -> Int {
        var victim = Int.random(in: 0..<entries.count, using: &random)
        for _ in 1..<Self.evictionSample where entries[victim].fullAt > now {
            let candidate = Int.random(in: 0..<entries.count, using: &random)
            if entries[candidate].fullAt < entries[victim].fullAt { victim = candidate }
        }
        return victim
    }
}
