import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import Synchronization
import Testing

/// Invariant 1 under real concurrent load, on every store: many tasks reserve (and some
/// cancel, and some reservations expire) while a sampler reads the counts throughout.
@Suite struct InventoryHammerTests {
    @Test(arguments: StoreKind.enabled) func fiveThousandAttemptsOnFiveHundredUnits(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 500)
            let engine = InventoryEngine(store: store)
            let tasks = 64
            let perTask = 80  // 5,120 attempts
            let sampler = InvariantSampler(store: store, saleID: sale.id)
            let receipts = Locked<[ReservationReceipt]>([])
            let rejections = Locked<[String: Int]>([:])
            try await sampler.during {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<tasks {
                        group.addTask {
                            for _ in 0..<perTask {
                                switch try await engine.reserve(attempt(sale), knownAvailable: sale.inventory.available).outcome {
                                case .reserved(let receipt): receipts.withLock { $0.append(receipt) }
                                case .rejected(let error): rejections.withLock { $0[error.code, default: 0] += 1 }
                                case .replayed: Issue.record("fresh keys cannot replay")
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let reserved = receipts.withLock { $0 }
            #expect(reserved.count == 500)
            #expect(Set(reserved.map(\.reservationID)).count == 500)
            #expect(rejections.withLock { $0 } == ["sold_out": tasks * perTask - 500])
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 0, reserved: 500, sold: 0))
            #expect(sampler.violations.isEmpty, "\(sampler.violations.prefix(5))")
            #expect(sampler.samples > 3)
            // Every 201 is a durable row.
            for receipt in reserved.prefix(50) {
                #expect(try await store.reservation(id: receipt.reservationID)?.status == .held)
            }
        }
    }

    /// Two nodes' engines on one PostgreSQL sale, each with its own pools, as two servers
    /// run: they take turns on the sale's advisory lock. Half the attempts come from a
    /// hundred regulars (each may hold two units, so their later batches are not clear of
    /// facts), and every fourth attempt from the second on replays the one before it: both
    /// ways of writing a batch (in one statement, or on read facts) race each other and the
    /// other node.
    @Test(.enabled(if: StoreKind.postgresURL != nil)) func twoNodesSellEachUnitOnce() async throws {
        try await withStore(.postgres) { store in
            guard case .postgres(let settings) = try DatabaseURL(parsing: try #require(StoreKind.postgresURL)) else { return }
            var logger = Logger(label: "second-node")
            logger.logLevel = .error
            let secondNode = PostgresStore(settings, maximumConnections: 10, logger: logger)
            try await withStoreServices(secondNode) {
                let sale = try await makeSale(store, quantity: 300, limit: 2)
                let engines = [InventoryEngine(store: store), InventoryEngine(store: secondNode)]
                let sampler = InvariantSampler(store: store, saleID: sale.id)
                let units = Locked<[String: Int]>([:])
                let reservations = Locked<Set<UUID>>([])
                let replays = Locked(0)
                try await sampler.during {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for worker in 0..<64 {
                            let engine = engines[worker % 2]
                            group.addTask {
                                var last: (attempt: ReservationAttempt, response: StoredResponse)?
                                for round in 0..<20 {
                                    if round % 4 == 1, let last {
                                        let again = try await engine.reserve(last.attempt, knownAvailable: 300)
                                        // Unless the gate refused it without the store (the server then
                                        // looks the key up itself), the store answers with the first response.
                                        if again.recorded {
                                            replays.withLock { $0 += 1 }
                                            #expect(again.outcome == .replayed(last.response), "replay of \(last.attempt.idempotency.key)")
                                        }
                                        continue
                                    }
                                    let email =
                                        (worker + round) % 2 == 0
                                        ? "regular-\((worker * 20 + round) % 100)@example.com" : "new-\(worker)-\(round)@example.com"
                                    let next = attempt(sale, email: email)
                                    let outcome = try await engine.reserve(next, knownAvailable: 300).outcome
                                    last = (next, outcome.response)
                                    switch outcome {
                                    case .reserved(let receipt):
                                        units.withLock { $0[email, default: 0] += 1 }
                                        reservations.withLock { _ = $0.insert(receipt.reservationID) }
                                    case .rejected(let error):
                                        #expect(["sold_out", "limit_exceeded"].contains(error.code), "\(error.code)")
                                    case .replayed: Issue.record("a fresh key was replayed")
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                #expect(reservations.withLock { $0.count } == 300)
                #expect(units.withLock { $0.values.max() ?? 0 } <= 2)
                #expect(replays.withLock { $0 } >= 64, "replays answered by the store")
                #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 0, reserved: 300, sold: 0))
                #expect(sampler.violations.isEmpty, "\(sampler.violations.prefix(5))")
            }
        }
    }

    /// Reservations, cancellations and expiries interleaved: every unit comes back exactly once.
    @Test(arguments: StoreKind.enabled) func unitsReturnExactlyOnceUnderChurn(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 100)
            let engine = InventoryEngine(store: store)
            let sampler = InvariantSampler(store: store, saleID: sale.id)
            try await sampler.during {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<32 {
                        group.addTask {
                            for round in 0..<30 {
                                // A third of the holds expire almost at once; the others are cancelled.
                                let expiring = (worker + round) % 3 == 0
                                let outcome = try await engine.reserve(
                                    attempt(sale, ttl: expiring ? 0.05 : 600), knownAvailable: sale.inventory.available
                                ).outcome
                                guard case .reserved(let receipt) = outcome else { continue }
                                if !expiring {
                                    if case .released(_, let units) = try await store.cancelReservation(
                                        id: receipt.reservationID, now: Date())
                                    {
                                        engine.unitsReturned(saleID: sale.id, units: units)
                                    }
                                }
                            }
                        }
                    }
                    group.addTask {
                        for _ in 0..<40 {
                            for (id, units) in try await store.releaseExpired(now: Date(), limit: 1_000) where id == sale.id {
                                engine.unitsReturned(saleID: id, units: units)
                            }
                            try await Task.sleep(for: .milliseconds(25))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            // Page by page, as the sweeper does: a shared database may hold older expired holds.
            while try await store.releaseExpired(now: Date(), limit: 10_000).values.reduce(0, +) >= 10_000 {}
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 100, reserved: 0, sold: 0))
            #expect(sampler.violations.isEmpty, "\(sampler.violations.prefix(5))")
        }
    }
}

/// Reads a sale's counts in a loop while work runs, recording any breach of invariant 1.
final class InvariantSampler: Sendable {
    let store: any Store
    let saleID: UUID
    private let state = Mutex<(samples: Int, violations: [String])>((0, []))

    init(store: any Store, saleID: UUID) {
        self.store = store
        self.saleID = saleID
    }

    var samples: Int { state.withLock { $0.samples } }
    var violations: [String] { state.withLock { $0.violations } }

    /// Samples until `work` finishes. The sampler runs at the engine's committer priority
    /// (high, as checkout does), or it would be starved by the very load it watches; the
    /// work starts once the first sample is in.
    func during(_ work: @Sendable () async throws -> Void) async throws {
        let sampling = Task(priority: .high) {
            while !Task.isCancelled {
                if let sale = try? await store.sale(id: saleID) {
                    let i = sale.inventory
                    let ok = i.total == sale.quantity && i.available >= 0 && i.reserved >= 0 && i.sold >= 0
                    state.withLock {
                        $0.samples += 1
                        if !ok { $0.violations.append("\(i)") }
                    }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { sampling.cancel() }
        let deadline = ContinuousClock.now + .seconds(60)  // a guard, not a claim
        while samples == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        try await work()
    }
}

/// A value shared by concurrent tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
