import FlashSaleCore
import FlashSaleStore
import Foundation
import Synchronization
import Testing

@Suite struct InventoryEngineTests {
    @Test(arguments: StoreKind.enabled) func theGateAnswersSoldOutWithoutTheStore(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 1)
            let engine = InventoryEngine(store: store)
            let first = try await engine.reserve(attempt(sale), knownAvailable: 1)
            #expect(first.outcome.isReserved && first.recorded)
            #expect(engine.gateAvailable(saleID: sale.id) == 0)
            let late = attempt(sale)
            let refused = try await engine.reserve(late, knownAvailable: 1)
            #expect(refused.outcome == .rejected(.soldOut) && !refused.recorded)
            // Nothing was written for the refused key.
            #expect(try await store.storedResponse(scope: late.idempotency.scope, key: late.idempotency.key) == nil)
            #expect(engine.statistics.batches == 1 && engine.statistics.attempts == 1)
            // Units coming back open the gate again.
            engine.unitsReturned(saleID: sale.id, units: 1)
            #expect(engine.gateAvailable(saleID: sale.id) == 1)
        }
    }

    @Test(arguments: StoreKind.enabled) func concurrentAttemptsShareTransactions(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 2_000)
            let engine = InventoryEngine(store: store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        for _ in 0..<10 { _ = try await engine.reserve(attempt(sale), knownAvailable: 2_000) }
                    }
                }
                try await group.waitForAll()
            }
            let statistics = engine.statistics
            #expect(statistics.attempts == 1_000)
            #expect(statistics.batches < 500, "group commit: \(statistics)")
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 1_000, reserved: 1_000, sold: 0))
        }
    }

    @Test(arguments: StoreKind.enabled) func everyAttemptsWaitIsReportedAndCoversItsBatchsCommit(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 150)
            let observer = RecordingObserver()
            let engine = InventoryEngine(store: store, observer: observer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        for _ in 0..<4 { _ = try await engine.reserve(attempt(sale), knownAvailable: 150) }
                    }
                }
                try await group.waitForAll()
            }
            let (commits, waits) = observer.log.withLock { ($0.commits, $0.waits) }
            // 150 reserved and the rest refused in a batch or by the gate; only batches wait.
            #expect(commits.count == engine.statistics.batches && waits.count == commits.count)
            #expect(waits.map(\.count).reduce(0, +) == engine.statistics.attempts)
            for (batch, waited) in zip(commits, waits) {
                #expect(waited.count == batch.attempts)
                // Each attempt arrived before its batch's commit began and is answered after it ended.
                #expect(waited.allSatisfy { $0 >= batch.duration }, "\(waited) against a commit of \(batch.duration)")
            }
            #expect(commits.contains { $0.attempts > 1 }, "the attempts shared no batch: \(commits.map(\.attempts))")
        }
    }
}

/// Keeps what the engine reports, in order.
private final class RecordingObserver: StoreObserver {
    let log = Mutex<(commits: [(attempts: Int, duration: Duration)], waits: [[Duration]])>(([], []))
    func transaction(_ operation: StoreOperation, duration: Duration, failed: Bool) {}
    func batchCommitted(attempts: Int, duration: Duration, failed: Bool) {
        log.withLock { $0.commits.append((attempts, duration)) }
    }
    func reservationsAnswered(waits: [Duration]) { log.withLock { $0.waits.append(waits) } }
    func groupCommitted(writes: Int, duration: Duration) {}
}
