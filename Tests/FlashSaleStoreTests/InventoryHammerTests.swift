import FlashSaleCore
import FlashSaleStore
import Foundation
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
                                    attempt(sale, ttl: expiring ? 0.05 : 600), knownAvailable: sale.inventory.available).outcome
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
