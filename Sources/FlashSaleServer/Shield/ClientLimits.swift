import FlashSaleCore
import Foundation

/// The shield's per-client token buckets, one bounded table per route class
/// (`SharedClientRateLimiter`: at most `ShieldSettings.clientTableCapacity` clients each;
/// when a table is full, clients whose bucket is already full are forgotten first, which
/// costs nothing since a fresh bucket is a full one).
final class ClientLimits: Sendable {
    enum Bucket: String, Sendable {
        /// Waiting-room joins, per address.
        case joins
        /// Waiting-room polls, per pass: one token per shortest poll interval.
        case polls
        /// Reservations and payments, per pass or reservation (per address without one).
        case checkout
        /// Everything else, per address.
        case requests
    }

    enum Key: Hashable, Sendable {
        case address([UInt8])
        case visitor(UUID)
        case reservation(UUID)
    }

    /// A pass may poll every `AdmissionController.minPollMs` (the shortest interval the
    /// waiting room ever tells), with a few polls of slack for a page load and its script.
    static let pollPolicy = RatePolicy(perMinute: 60_000 / AdmissionController.minPollMs, burst: 4)

    private let joins: SharedClientRateLimiter<Key>
    private let polls: SharedClientRateLimiter<Key>
    private let checkout: SharedClientRateLimiter<Key>
    private let requests: SharedClientRateLimiter<Key>
    private let started = ContinuousClock.now

    init(settings: ShieldSettings) {
        func limiter(_ policy: RatePolicy) -> SharedClientRateLimiter<Key> {
            SharedClientRateLimiter(
                policy: .init(requestsPerMinute: Double(policy.perMinute), burst: Double(policy.burst)),
                capacity: settings.clientTableCapacity)
        }
        joins = limiter(settings.joins)
        polls = limiter(Self.pollPolicy)
        checkout = limiter(settings.checkout)
        requests = limiter(settings.requests)
    }

    /// Spends one token of `key`'s bucket in `bucket`: nil when allowed, otherwise the
    /// seconds until a token is there again.
    func take(_ bucket: Bucket, key: Key) -> Double? {
        let now = (ContinuousClock.now - started).seconds
        let limiter =
            switch bucket {
            case .joins: joins
            case .polls: polls
            case .checkout: checkout
            case .requests: requests
            }
        switch limiter.take(key: key, now: now) {
        case .allowed: return nil
        case .limited(let retryAfter): return retryAfter
        }
    }
}
