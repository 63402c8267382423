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
        /// An address's /24 (IPv4) or /48 (IPv6), the rest of its bytes zero.
        case network([UInt8])
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
    /// Joins per address and per network, counted and never refused (bursts far above any
    /// crowd's): the bot defence's signals. They forget slowly, one join per 10 s per
    /// address and one per second per network, so a farm that paces its joins under the
    /// join limit (one a second per address) still counts up; the join bucket above, which
    /// refills a join a second, would read it as one join.
    private let addressJoins: SharedClientRateLimiter<Key>
    private let networkJoins: SharedClientRateLimiter<Key>
    static let addressJoinsPolicy = RatePolicy(perMinute: 6, burst: 1_000_000)
    static let networkJoinsPolicy = RatePolicy(perMinute: 60, burst: 1_000_000)
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
        addressJoins = limiter(Self.addressJoinsPolicy)
        networkJoins = limiter(Self.networkJoinsPolicy)
    }

    /// After a join spent its address's token: the address's and its network's recent joins
    /// (this one included), as `RiskScore.join` reads them.
    func joinCounts(client: [UInt8]) -> (address: Double, network: Double) {
        let now = seconds
        let address = Key.address(client)
        let network = Key.network(Self.network(of: client))
        _ = addressJoins.take(key: address, now: now)
        _ = networkJoins.take(key: network, now: now)
        return (addressJoins.spent(key: address, now: now), networkJoins.spent(key: network, now: now))
    }

    /// /24 of IPv4, /48 of IPv6: what one customer of an ISP or one host usually holds.
    static func network(of address: [UInt8]) -> [UInt8] {
        let kept = address.count == 4 ? 3 : 6
        return address.enumerated().map { $0.offset < kept ? $0.element : 0 }
    }

    private var seconds: Double { (ContinuousClock.now - started).seconds }

    /// Spends one token of `key`'s bucket in `bucket`: nil when allowed, otherwise the
    /// seconds until a token is there again.
    func take(_ bucket: Bucket, key: Key) -> Double? {
        let now = seconds
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
