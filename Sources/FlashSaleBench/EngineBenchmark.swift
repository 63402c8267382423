import FlashSaleCore
import FlashSaleStore
import Foundation

/// Single-SKU reservations per second through the inventory engine against the naive
/// design (one transaction per reservation, queueing on the sale's row lock), on the
/// same store in the same run.
public struct EngineBenchmark: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case naive, engine
    }

    public struct Result: Sendable {
        public var mode: Mode
        public var attempts: Int
        public var reserved: Int
        public var seconds: Double
        /// The engine's batching (nil for the naive mode).
        public var batching: InventoryEngine.Statistics?
        public var perSecond: Double { Double(reserved) / seconds }
    }

    public let store: any Store
    public let attempts: Int
    public let concurrency: Int

    public init(store: any Store, attempts: Int, concurrency: Int) {
        self.store = store
        self.attempts = attempts
        self.concurrency = concurrency
    }

    /// Runs one mode on a fresh sale with exactly `attempts` units, every attempt a distinct
    /// shopper, and checks the counts at the end.
    public func run(_ mode: Mode) async throws -> Result {
        let now = Date()
        let sale = try await store.createSale(
            NewSale(
                sku: "BENCH-\(mode.rawValue)-\(UUID().uuidString.prefix(8))", name: "Benchmark \(mode.rawValue)",
                priceCents: 1_000, quantity: attempts, startsAt: now.addingTimeInterval(-1),
                endsAt: now.addingTimeInterval(3_600), perCustomerLimit: 1, reservationTTLSeconds: 3_600,
                admissionRatePerSecond: 1_000),
            id: UUID(), now: now)
        let engine = InventoryEngine(store: store)
        let reserved = SharedCounter()
        let clock = ContinuousClock()
        let start = clock.now
        try await forEachIndex(attempts, workers: concurrency) { index in
            let attempt = Self.attempt(index, sale: sale)
            let outcome: ReservationOutcome
            switch mode {
            case .naive: outcome = try await store.reserveUnbatched(attempt, now: Date()).outcomes[0]
            case .engine: outcome = try await engine.reserve(attempt, knownAvailable: sale.inventory.available).outcome
            }
            if case .reserved = outcome { reserved.increment() }
        }
        let seconds = (clock.now - start).seconds
        guard let after = try await store.sale(id: sale.id) else { throw StoreError.saleNotFound(sale.id) }
        let count = reserved.count
        guard after.inventory.reserved == count, after.inventory.total == attempts else {
            throw BenchmarkError("counts disagree after \(mode): reserved \(count), store \(after.inventory)")
        }
        return Result(
            mode: mode, attempts: attempts, reserved: count, seconds: seconds, batching: mode == .engine ? engine.statistics : nil)
    }

    static func attempt(_ index: Int, sale: Sale) -> ReservationAttempt {
        let email = "shopper\(index)@bench.example"
        // Visitor ids are time-ordered, as the waiting room issues them.
        let pass = UUID.timeOrdered()
        return ReservationAttempt(
            saleID: sale.id, passID: pass, email: email, customerKey: email, quantity: 1, amountCents: sale.priceCents,
            perCustomerLimit: sale.perCustomerLimit, expiresAt: Date().addingTimeInterval(3_600),
            idempotency: IdempotencyClaim(scope: "bench:\(pass.lowercased)", key: "k\(index)", fingerprint: "f"))
    }
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
