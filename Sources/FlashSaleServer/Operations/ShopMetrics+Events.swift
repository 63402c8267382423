import FlashSaleCore
import Foundation
import HTTPTypes

/// What the shop counts as shoppers move through it. Every label but `sale` takes its
/// values from a small fixed set.
extension ShopMetrics {
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    /// Methods a client may send are any token; the rest count as `other`.
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func request(endpoint: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let method = Self.methods.contains(method.rawValue) ? method.rawValue : "other"
        counter(
            "http_requests", help: "HTTP requests by endpoint, method and status.",
            [("endpoint", endpoint), ("method", method), ("status", String(status))]
        )?.increment()
        durations(
            "http_request_duration", help: "HTTP request latency by endpoint.", buckets: Self.latencyBuckets, [("endpoint", endpoint)]
        )?.record(duration)
    }

    func queue(saleID: UUID, status: String) {
        counter("queue_answers", help: "Join and poll answers by sale and status.", sale: saleID, [("status", status)])?.increment()
    }

    func queueJoined(saleID: UUID, count: Int64 = 1) {
        counter("queue_joins", help: "New passes issued by sale.", sale: saleID)?.increment(by: count)
    }

    func queueAdmitted(saleID: UUID, count: Int64 = 1) {
        counter("queue_admissions", help: "Passes admitted by sale.", sale: saleID)?.increment(by: count)
    }

    /// Polls sooner than the pass was told: answered with the same state, not admitted then.
    func earlyPoll(saleID: UUID, count: Int64 = 1) {
        counter("queue_early_polls", help: "Queue polls sooner than poll_after_ms, answered with the same state.", sale: saleID)?
            .increment(by: count)
    }

    func reservation(saleID: UUID, outcome: String) {
        counter("reservation_attempts", help: "Reservation attempts by sale and outcome.", sale: saleID, [("outcome", outcome)])?
            .increment()
    }

    func payment(saleID: UUID, outcome: String) {
        counter(
            "payments", help: "Payment attempts by sale and outcome (paid, declined, unknown, refunding, ...).", sale: saleID,
            [("outcome", outcome)]
        )?.increment()
    }

    func outbox(kind: String, outcome: String) {
        counter("outbox_deliveries", help: "Outbox deliveries by kind and outcome.", [("kind", kind), ("outcome", outcome)])?.increment()
    }

    func unitsExpired(saleID: UUID, units: Int) {
        counter("units_expired", help: "Units returned by reservation expiry.", sale: saleID)?.increment(by: Int64(units))
    }

    /// Refusals of the edge shield; both labels come from small fixed sets.
    func shieldRefusal(reason: String, detail: String) {
        counter(
            "shield_refusals", help: "Requests and connections the edge shield refused, by reason and detail.",
            [("reason", reason), ("detail", detail)]
        )?.increment()
    }

    /// Joins scored by the bot defence, by proof-of-work level (0: let in without work).
    func joinScored(level: Int) {
        counter("join_risk_levels", help: "Joins scored by the bot defence, by proof-of-work level (0 asks no work).", [("level", String(level))])?
            .increment()
    }

    /// Proofs of work redeemed for a pass, by level.
    func challengeSolved(level: Int) {
        counter("challenges_solved", help: "Proof-of-work challenges solved and redeemed for a pass, by level.", [("level", String(level))])?
            .increment()
    }

    /// Orders flagged by the reseller checks, one count per flag.
    func orderFlagged(flag: String) {
        counter("order_flags", help: "Orders flagged by the reseller checks, by flag.", [("flag", flag)])?.increment()
    }
}
