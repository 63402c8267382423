import FlashSaleCore
import Foundation
import Logging
import Synchronization

/// Every refusal the shield makes, counted in `/metrics` by reason and detail
/// (`flashsale_shield_refusals_total`), and logged at most once per reason per
/// `logInterval` per reason and detail, with the count since the last line: a flood must
/// not become a log flood. Refusals are also tallied by reason and by the sale whose route
/// they were on, for the operator's dashboard (`LiveStats`).
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
    private struct TallyKey: Hashable {
        let saleID: UUID?
        let reason: String
    }
    /// Bounded: the sales come and go with the catalog (`forget`), the reasons are fixed.
    private let tally = Mutex<[TallyKey: Int]>([:])

    init(metrics: ShopMetrics, logger: Logger, logInterval: Duration = .seconds(10)) {
        self.metrics = metrics
        self.logger = logger
        self.logInterval = logInterval
    }

    /// - Parameters:
    ///   - detail: a bounded label: the route class, the cap or the timeout that refused.
    ///   - client: the resolved client address, for the log line.
    ///   - saleID: the sale whose route was refused, if any.
    func refused(_ reason: Reason, detail: String, client: [UInt8]?, saleID: UUID? = nil) {
        metrics.shieldRefusal(reason: reason.rawValue, detail: detail)
        count(reason.rawValue, saleID: saleID)
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

    /// A join asked for proof of work: not refused, but held at the door.
    func challenged(saleID: UUID) { count("challenged", saleID: saleID) }

    /// Refusals by reason: on one sale's routes, or (nil) on this node in all.
    func refusals(saleID: UUID?) -> [String: Int] {
        tally.withLock { tally in
            var counts: [String: Int] = [:]
            for (key, count) in tally where saleID == nil || key.saleID == saleID { counts[key.reason, default: 0] += count }
            return counts
        }
    }

    /// Drops the tallies of sales no longer shown.
    func forget(keeping saleIDs: Set<UUID>) {
        tally.withLock { $0 = $0.filter { $0.key.saleID.map(saleIDs.contains) ?? true } }
    }

    private func count(_ reason: String, saleID: UUID?) {
        tally.withLock { $0[TallyKey(saleID: saleID, reason: reason), default: 0] += 1 }
    }

    /// The sale id in a shop path (`/api/v1/sales/{id}/...`, `/sales/{id}/...`), if any.
    static func saleID(inPath path: String) -> UUID? {
        let parts = path.split(separator: "/")
        guard let index = parts.firstIndex(of: "sales"), index + 1 < parts.count else { return nil }
        return UUID(uuidString: String(parts[index + 1]))
    }
}
