import FlashSaleCore
import FlashSaleStore
import Foundation
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
}
