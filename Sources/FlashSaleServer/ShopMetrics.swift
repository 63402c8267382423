import FlashSaleCore
import Foundation
import Hummingbird
import Prometheus

/// The shop's Prometheus metrics, in a registry of its own (not the process-global
/// MetricsSystem), so that every app built in one process, as tests do, counts apart.
final class ShopMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "flashsale", metricName: metric, unitName: unit, helpText: help)
    }

    func request(endpoint: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests by endpoint, method and status."),
            labels: [("endpoint", endpoint), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", unit: "seconds", help: "HTTP request latency by endpoint."),
            labels: [("endpoint", endpoint)],
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                      .seconds(1), .seconds(2.5)]
        ).record(duration)
    }

    func queue(saleID: UUID, status: String) {
        registry.makeCounter(
            descriptor: Self.name("queue_answers", unit: "total", help: "Join and poll answers by sale and status."),
            labels: [("sale", saleID.lowercased), ("status", status)]
        ).increment()
    }

    func queueJoined(saleID: UUID) {
        registry.makeCounter(
            descriptor: Self.name("queue_joins", unit: "total", help: "New passes issued by sale."),
            labels: [("sale", saleID.lowercased)]
        ).increment()
    }

    func queueAdmitted(saleID: UUID) {
        registry.makeCounter(
            descriptor: Self.name("queue_admissions", unit: "total", help: "Passes admitted by sale."),
            labels: [("sale", saleID.lowercased)]
        ).increment()
    }

    func reservation(saleID: UUID, outcome: String) {
        registry.makeCounter(
            descriptor: Self.name("reservation_attempts", unit: "total", help: "Reservation attempts by sale and outcome."),
            labels: [("sale", saleID.lowercased), ("outcome", outcome)]
        ).increment()
    }

    func payment(saleID: UUID, outcome: String) {
        registry.makeCounter(
            descriptor: Self.name("payments", unit: "total", help: "Payment attempts by sale and outcome (paid, declined, unknown, refunding, ...)."),
            labels: [("sale", saleID.lowercased), ("outcome", outcome)]
        ).increment()
    }

    func outbox(kind: String, outcome: String) {
        registry.makeCounter(
            descriptor: Self.name("outbox_deliveries", unit: "total", help: "Outbox deliveries by kind and outcome."),
            labels: [("kind", kind), ("outcome", outcome)]
        ).increment()
    }

    func unitsExpired(saleID: UUID, units: Int) {
        registry.makeCounter(
            descriptor: Self.name("units_expired", unit: "total", help: "Units returned by reservation expiry."),
            labels: [("sale", saleID.lowercased)]
        ).increment(by: Int64(units))
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
