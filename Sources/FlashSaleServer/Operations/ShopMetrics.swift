import FlashSaleCore
import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The shop's Prometheus metrics, in a registry of its own (not the process-global
/// MetricsSystem), so that every app built in one process, as tests do, counts apart.
final class ShopMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// Handles already made, by metric and label values: the registry's own lookup
    /// (descriptor checks, label strings, a lock) costs more than a request's routing, and
    /// the join/poll path counts on every request.
    private struct Key: Hashable {
        let metric: String
        let labels: [String]
    }
    private let counters = Mutex<[Key: Counter]>([:])
    private let histograms = Mutex<[Key: DurationHistogram]>([:])

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "flashsale", metricName: metric, unitName: unit, helpText: help)
    }

    private func counter(_ metric: String, help: String, _ labels: [(String, String)]) -> Counter {
        let key = Key(metric: metric, labels: labels.map(\.1))
        if let counter = counters.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(descriptor: Self.name(metric, unit: "total", help: help), labels: labels)
        counters.withLock { $0[key] = counter }
        return counter
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    func request(endpoint: String, method: String, status: Int, duration: Duration) {
        counter(
            "http_requests", help: "HTTP requests by endpoint, method and status.",
            [("endpoint", endpoint), ("method", method), ("status", String(status))]
        ).increment()
        let key = Key(metric: "http_request_duration", labels: [endpoint])
        let histogram =
            histograms.withLock { $0[key] }
            ?? {
                let made = registry.makeDurationHistogram(
                    descriptor: Self.name("http_request_duration", unit: "seconds", help: "HTTP request latency by endpoint."),
                    labels: [("endpoint", endpoint)], buckets: Self.latencyBuckets)
                histograms.withLock { $0[key] = made }
                return made
            }()
        histogram.record(duration)
    }

    func queue(saleID: UUID, status: String) {
        counter("queue_answers", help: "Join and poll answers by sale and status.", [("sale", saleID.lowercased), ("status", status)])
            .increment()
    }

    func queueJoined(saleID: UUID) {
        counter("queue_joins", help: "New passes issued by sale.", [("sale", saleID.lowercased)]).increment()
    }

    func queueAdmitted(saleID: UUID) {
        counter("queue_admissions", help: "Passes admitted by sale.", [("sale", saleID.lowercased)]).increment()
    }

    func reservation(saleID: UUID, outcome: String) {
        counter(
            "reservation_attempts", help: "Reservation attempts by sale and outcome.",
            [("sale", saleID.lowercased), ("outcome", outcome)]
        ).increment()
    }

    func payment(saleID: UUID, outcome: String) {
        counter(
            "payments", help: "Payment attempts by sale and outcome (paid, declined, unknown, refunding, ...).",
            [("sale", saleID.lowercased), ("outcome", outcome)]
        ).increment()
    }

    func outbox(kind: String, outcome: String) {
        counter("outbox_deliveries", help: "Outbox deliveries by kind and outcome.", [("kind", kind), ("outcome", outcome)])
            .increment()
    }

    func unitsExpired(saleID: UUID, units: Int) {
        counter("units_expired", help: "Units returned by reservation expiry.", [("sale", saleID.lowercased)])
            .increment(by: Int64(units))
    }

    func inventory(_ sale: Sale) {
        for (state, value) in [("available", sale.inventory.available), ("reserved", sale.inventory.reserved),
                               ("sold", sale.inventory.sold)] {
            registry.makeGauge(
                descriptor: Self.name("inventory", unit: "units", help: "Units of each sale by state."),
                labels: [("sale", sale.id.lowercased), ("state", state)]
            ).set(Double(value))
        }
    }

    /// Polls sooner than the pass was told: answered with the same state, not admitted then.
    func earlyPoll(saleID: UUID) {
        counter("queue_early_polls", help: "Queue polls sooner than poll_after_ms, answered with the same state.", [("sale", saleID.lowercased)])
            .increment()
    }

    /// Refusals of the edge shield; both labels come from small fixed sets.
    func shieldRefusal(reason: String, detail: String) {
        counter(
            "shield_refusals", help: "Requests and connections the edge shield refused, by reason and detail.",
            [("reason", reason), ("detail", detail)]
        ).increment()
    }

    /// Joins scored by the bot defence, by proof-of-work level (0: let in without work).
    func joinScored(level: Int) {
        counter("join_risk_levels", help: "Joins scored by the bot defence, by proof-of-work level (0 asks no work).", [("level", String(level))])
            .increment()
    }

    /// Proofs of work redeemed for a pass, by level.
    func challengeSolved(level: Int) {
        counter("challenges_solved", help: "Proof-of-work challenges solved and redeemed for a pass, by level.", [("level", String(level))])
            .increment()
    }

    /// Orders flagged by the reseller checks, one count per flag.
    func orderFlagged(flag: String) {
        counter("order_flags", help: "Orders flagged by the reseller checks, by flag.", [("flag", flag)]).increment()
    }

    func text() -> [UInt8] { registry.emitToBuffer() }
}

/// Counts and times every request by its route (not its raw path, to bound cardinality).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ShopMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.request(
            endpoint: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
            duration: ContinuousClock.now - start)
        return response
    }
}
