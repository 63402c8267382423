import FlashSaleCore
import FlashSaleStore
import Foundation
import Prometheus

/// The figures an operator alerts on: per-sale gauges set at each catalog refresh, the
/// backlogs read at scrape time, and the timings of the engine, the store and the provider.
extension ShopMetrics {
    /// A sale's state and stock, at each catalog refresh. Its counters start at zero here, so that a
    /// rate over them exists (and an alert can see "no admissions") before the first event.
    func sale(_ sale: Sale, now: Date) {
        gauge(
            "sale_live", unit: "", help: "1 while the sale admits and sells (started, not paused, not ended, not sold out), else 0.",
            sale: sale.id
        )?.set(sale.status(at: now) == .live ? 1.0 : 0.0)
        queueJoined(saleID: sale.id, count: 0)
        queueAdmitted(saleID: sale.id, count: 0)
        earlyPoll(saleID: sale.id, count: 0)
        unitsExpired(saleID: sale.id, units: 0)
        for (state, value) in [("available", sale.inventory.available), ("reserved", sale.inventory.reserved), ("sold", sale.inventory.sold)] {
            gauge("inventory", unit: "units", help: "Units of each sale by state.", sale: sale.id, [("state", state)])?.set(Double(value))
        }
    }

    /// This node's line for a sale (`WaitingRoom.figures`).
    func queue(saleID: UUID, _ figures: QueueFigures) {
        gauge("queue_waiting", unit: "shoppers", help: "Shoppers waiting behind the admission threshold on this node.", sale: saleID)?
            .set(Double(figures.waiting))
        gauge(
            "queue_threshold_lag", unit: "seconds", help: "How far the admission threshold trails the clock while shoppers wait.",
            sale: saleID
        )?.set(figures.thresholdLagSeconds)
        gauge("queue_new_shopper_wait", unit: "seconds", help: "The wait a shopper joining now is told.", sale: saleID)?
            .set(Double(figures.newShopperWaitSeconds))
        let rates = [("configured", Double(figures.admissionRatePerSecond)), ("achieved", figures.achievedRatePerSecond)]
        for (kind, value) in rates {
            gauge(
                "queue_admission_rate", unit: "per_second",
                help: "Admissions per second: the sale's configured rate (all nodes) and what this node achieved.", sale: saleID,
                [("kind", kind)]
            )?.set(value)
        }
    }

    /// The outbox and the reconciler's backlog, read from the store at scrape time.
    func backlog(_ backlog: Backlog, now: Date) {
        gauge("outbox_pending", unit: "messages", help: "Outbox messages (emails, refunds) not yet delivered.")?
            .set(Double(backlog.outboxDepth))
        gauge("outbox_oldest_age", unit: "seconds", help: "Age of the oldest undelivered outbox message (0 when none).")?
            .set(backlog.outboxOldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        gauge(
            "reconciler_backlog", unit: "payments",
            help: "Payment attempts of unknown outcome awaiting the reconciler (unknown, or pending past the provider timeout).")?
            .set(Double(backlog.unresolvedPayments))
    }

    static let providerBuckets: [Duration] = latencyBuckets + [.seconds(5), .seconds(10), .seconds(30)]

    /// One call to the payment provider: `operation` is charge, lookup or refund.
    func provider(operation: String, outcome: String, duration: Duration) {
        durations(
            "provider_request_duration", help: "Payment provider call latency by operation.", buckets: Self.providerBuckets,
            [("operation", operation)]
        )?.record(duration)
        counter(
            "provider_requests", help: "Payment provider calls by operation and outcome.", [("operation", operation), ("outcome", outcome)]
        )?.increment()
    }
}

extension ShopMetrics: StoreObserver {
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

    func transaction(_ operation: StoreOperation, duration: Duration, failed: Bool) {
        durations(
            "store_transaction_duration", help: "Store write transactions as their callers waited for them, by operation.",
            buckets: Self.latencyBuckets, [("operation", operation.rawValue)]
        )?.record(duration)
        if failed { storeErrors(operation).increment() }
    }

    func batchCommitted(attempts: Int, duration: Duration, failed: Bool) {
        values("engine_batch_size", help: "Reservation attempts the inventory engine wrote per transaction.", buckets: Self.batchBuckets)?
            .record(Double(attempts))
        durations("engine_commit_duration", help: "Time to commit one reservation batch.", buckets: Self.latencyBuckets)?.record(duration)
        if failed { engineErrors.increment() }
    }

    func reservationsAnswered(waits: [Duration]) {
        guard
            let histogram = durations(
                "engine_wait_duration", help: "Time a reservation attempt waited in the inventory engine: for the batch before it, then its own.",
                buckets: Self.latencyBuckets)
        else { return }
        for wait in waits { histogram.record(wait) }
    }

    func groupCommitted(writes: Int, duration: Duration) {
        values("sqlite_group_commit_writes", help: "Writes SQLite committed per shared transaction (group commit).", buckets: Self.batchBuckets)?
            .record(Double(writes))
        durations("sqlite_group_commit_duration", help: "Time to commit one SQLite group.", buckets: Self.latencyBuckets)?.record(duration)
    }

    func storeErrors(_ operation: StoreOperation) -> Counter {
        counter("store_transaction_errors", help: "Store write transactions that failed, by operation.", [("operation", operation.rawValue)])!
    }

    var engineErrors: Counter { counter("engine_commit_errors", help: "Reservation batches whose transaction failed.")! }
}
