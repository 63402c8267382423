import FlashSaleCore
import Logging
import Synchronization

/// Every refusal the shield makes, counted in `/metrics` by reason and detail
/// (`flashsale_shield_refusals_total`), and logged at most once per reason per
/// `logInterval` per reason and detail, with the count since the last line: a flood must
/// not become a log flood.
final class ShieldEvents: Sendable {
    enum Reason: String, Sendable, CaseIterable {
        /// On the blocklist: 403 `blocked`.
        case blocked
        /// Over a per-client token bucket: 429 with `Retry-After` (or the same queue state).
        case rateLimited = "rate_limited"
        /// Over the per-client or total connection cap: closed at accept.
        case connectionCap = "connection_cap"
        /// A head, a body or a read that took too long: closed.
        case timeout
    }

    private let metrics: ShopMetrics
    private let logger: Logger
    private let logInterval: Duration
    private struct Pending {
        var count = 0
        var lastLogged: ContinuousClock.Instant?
    }
    private let pending = Mutex<[String: Pending]>([:])

    init(metrics: ShopMetrics, logger: Logger, logInterval: Duration = .seconds(10)) {
        self.metrics = metrics
        self.logger = logger
        self.logInterval = logInterval
    }

    /// - Parameters:
    ///   - detail: a bounded label: the route class, the cap or the timeout that refused.
    ///   - client: the resolved client address, for the log line.
    func refused(_ reason: Reason, detail: String, client: [UInt8]?) {
        metrics.shieldRefusal(reason: reason.rawValue, detail: detail)
        let now = ContinuousClock.now
        let key = reason.rawValue + "/" + detail
        let count: Int? = pending.withLock { all in
            var entry = all[key, default: Pending()]
            entry.count += 1
            defer { all[key] = entry }
            if let last = entry.lastLogged, now - last < logInterval { return nil }
            let count = entry.count
            entry.count = 0
            entry.lastLogged = now
            return count
        }
        guard let count else { return }
        logger.notice(
            "shield refused",
            metadata: [
                "reason": "\(reason.rawValue)", "detail": "\(detail)", "count": "\(count)",
                "client": "\(client.map(IPAddress.format) ?? "unknown")",
            ])
    }
}
