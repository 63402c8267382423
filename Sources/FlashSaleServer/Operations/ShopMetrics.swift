import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird
import Prometheus
import Synchronization

/// The shop's Prometheus metrics, in a registry of its own (not the process-global
/// MetricsSystem), so that every app built in one process, as tests do, counts apart.
///
/// Label values come from small fixed sets, except `sale`: a sale's series live while it
/// is on sale and for `saleRetention` after it ends, then leave the registry
/// (`retireSales`), so a shop that has run thousands of sales exports the series of a
/// few. Events of a retired sale still count in the families without a sale label.
final class ShopMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// How long a sale's series stay after it ends: long enough for the last scrapes and
    /// the alert rules' windows (5 min) to see its final figures.
    static let saleRetention: TimeInterval = 15 * 60

    /// A series already made, by metric and label values: the registry's own lookup
    /// (descriptor checks, label strings, a lock) costs more than a request's routing, and
    /// the join/poll path counts on every request.
    private struct Key: Hashable {
        let metric: String
        let labels: [String]
    }
    private enum Handle {
        case counter(Counter)
        case gauge(Gauge)
        case durations(DurationHistogram)
        case values(ValueHistogram)
    }
    private struct State {
        var shared: [Key: Handle] = [:]
        var sales: [UUID: [Key: Handle]] = [:]
        var retired: Set<UUID> = []
    }
    private let state = Mutex(State())

    init() {
        // Failures start at zero, so a rate over them exists before the first one.
        for operation in StoreOperation.allCases { storeErrors(operation).increment(by: Int64(0)) }
        engineErrors.increment(by: Int64(0))
    }

    static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "flashsale", metricName: metric, unitName: unit, helpText: help)
    }

    /// The series of `metric` for `labels` (after `sale`, if any), made on first use; nil for
    /// a retired sale. Made under the lock, so a sale retired meanwhile cannot come back.
    private func series(
        _ metric: String, sale: UUID?, _ labels: [(String, String)], make: ([(String, String)]) -> Handle
    ) -> Handle? {
        let labels = (sale.map { [("sale", $0.lowercased)] } ?? []) + labels
        let key = Key(metric: metric, labels: labels.map(\.1))
        return state.withLock { state in
            guard let sale else {
                if let handle = state.shared[key] { return handle }
                let handle = make(labels)
                state.shared[key] = handle
                return handle
            }
            if state.retired.contains(sale) { return nil }
            if let handle = state.sales[sale]?[key] { return handle }
            let handle = make(labels)
            state.sales[sale, default: [:]][key] = handle
            return handle
        }
    }

    func counter(_ metric: String, help: String, sale: UUID? = nil, _ labels: [(String, String)] = []) -> Counter? {
        let made = series(metric, sale: sale, labels) {
            .counter(registry.makeCounter(descriptor: Self.name(metric, unit: "total", help: help), labels: $0))
        }
        guard case .counter(let counter) = made else { return nil }
        return counter
    }

    func gauge(_ metric: String, unit: String, help: String, sale: UUID? = nil, _ labels: [(String, String)] = []) -> Gauge? {
        let made = series(metric + "_" + unit, sale: sale, labels) {
            .gauge(registry.makeGauge(descriptor: Self.name(metric, unit: unit, help: help), labels: $0))
        }
        guard case .gauge(let gauge) = made else { return nil }
        return gauge
    }

    func durations(_ metric: String, help: String, buckets: [Duration], _ labels: [(String, String)] = []) -> DurationHistogram? {
        let made = series(metric, sale: nil, labels) {
            .durations(
                registry.makeDurationHistogram(descriptor: Self.name(metric, unit: "seconds", help: help), labels: $0, buckets: buckets))
        }
        guard case .durations(let histogram) = made else { return nil }
        return histogram
    }

    func values(_ metric: String, help: String, buckets: [Double]) -> ValueHistogram? {
        let made = series(metric, sale: nil, []) {
            .values(registry.makeValueHistogram(descriptor: Self.name(metric, unit: "", help: help), labels: $0, buckets: buckets))
        }
        guard case .values(let histogram) = made else { return nil }
        return histogram
    }

    // MARK: The bound on sales

    /// Whether `saleID`'s series are kept (false once it is retired): the catalog refresh
    /// skips the figures of retired sales instead of computing them for nothing.
    func tracks(_ saleID: UUID) -> Bool { state.withLock { !$0.retired.contains(saleID) } }

    /// Removes the series of sales that ended more than `saleRetention` before `now`, and
    /// lets a sale whose end moved back into the window count again. Called with every sale
    /// at each catalog refresh.
    func retireSales(_ sales: [Sale], now: Date) {
        let cutoff = now.addingTimeInterval(-Self.saleRetention)
        let removed: [Handle] = state.withLock { state in
            var removed: [Handle] = []
            for sale in sales {
                if sale.endsAt >= cutoff {
                    state.retired.remove(sale.id)
                } else if state.retired.insert(sale.id).inserted, let gone = state.sales.removeValue(forKey: sale.id) {
                    removed += gone.values
                }
            }
            return removed
        }
        for handle in removed {
            switch handle {
            case .counter(let counter): registry.unregisterCounter(counter)
            case .gauge(let gauge): registry.unregisterGauge(gauge)
            case .durations(let histogram): registry.unregisterDurationHistogram(histogram)
            case .values(let histogram): registry.unregisterValueHistogram(histogram)
            }
        }
        gauge("tracked", unit: "sales", help: "Sales whose per-sale series are exported (live or ended within 15 minutes).")?
            .set(Double(state.withLock { $0.sales.count }))
    }

    /// The exposition text: the registry, then the process metrics read at this scrape.
    func text() -> [UInt8] { registry.emitToBuffer() + Array(ProcessMetrics.text().utf8) }
}

/// Counts and times every request by its route (not its raw path, to bound cardinality).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ShopMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.request(
            endpoint: context.endpointPath ?? "unmatched", method: request.method, status: response.status.code,
            duration: ContinuousClock.now - start)
        return response
    }
}
