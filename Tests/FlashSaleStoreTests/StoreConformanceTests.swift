import FlashSaleCore
import FlashSaleStore
import Foundation
import Testing

/// The same behaviour from every store: the suite runs once per enabled store kind.
@Suite struct StoreConformanceTests {
    @Test(arguments: StoreKind.enabled) func createsAndReadsSales(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 7)
            #expect(sale.inventory == Inventory(available: 7, reserved: 0, sold: 0))
            let read = try #require(try await store.sale(id: sale.id))
            #expect(read.id == sale.id && read.sku == sale.sku && read.quantity == 7 && read.priceCents == 12_900)
            #expect(abs(read.startsAt.timeIntervalSince(sale.startsAt)) < 0.001)
            #expect(try await store.allSales().contains { $0.id == sale.id })
            #expect(try await store.sale(id: UUID()) == nil)
        }
    }

    @Test(arguments: StoreKind.enabled) func refusesOverlappingSKU(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sku = "DUP-\(UUID().uuidString.prefix(8))"
            let first = try await makeSale(store, sku: sku)
            await #expect(throws: APIError.duplicateSKU) { try await makeSale(store, sku: sku) }
            // The same sku in a window that does not overlap is another sale.
            let later = NewSale(
                sku: sku, name: "Later", priceCents: 100, quantity: 1, startsAt: first.endsAt,
                endsAt: first.endsAt.addingTimeInterval(60))
            let laterSale = try await store.createSale(later, id: UUID(), now: Date())
            // Moving its window onto the first sale's is refused the same way; its own window is no conflict.
            await #expect(throws: APIError.duplicateSKU) {
                try await store.updateSale(id: laterSale.id, patch: SalePatch(startsAt: first.endsAt.addingTimeInterval(-60)), now: Date())
            }
            let extended = laterSale.endsAt.addingTimeInterval(60)
            #expect(try await store.updateSale(id: laterSale.id, patch: SalePatch(endsAt: extended), now: Date()) != nil)
        }
    }

    @Test(arguments: StoreKind.enabled) func patchesSales(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store)
            let paused = try #require(try await store.updateSale(id: sale.id, patch: SalePatch(paused: true), now: Date()))
            #expect(paused.paused && paused.status(at: Date()) == .paused)
            let newEnd = sale.endsAt.addingTimeInterval(600)
            let moved = try #require(try await store.updateSale(id: sale.id, patch: SalePatch(paused: false, endsAt: newEnd), now: Date()))
            #expect(!moved.paused && abs(moved.endsAt.timeIntervalSince(newEnd)) < 0.001)
            await #expect(throws: APIError.self) {
                try await store.updateSale(id: sale.id, patch: SalePatch(endsAt: sale.startsAt), now: Date())
            }
            #expect(try await store.updateSale(id: UUID(), patch: SalePatch(paused: true), now: Date()) == nil)
        }
    }

    @Test(arguments: StoreKind.enabled) func reservesWithinStockAndLimits(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 3, limit: 2)
            let pass = UUID()
            let attempts = [
                attempt(sale, email: "Ann.Lee+one@gmail.com", quantity: 2),
                attempt(sale, email: "annlee@googlemail.com"),  // the same customer: over the limit
                attempt(sale, email: "bo@example.com", pass: pass),
                attempt(sale, email: "cy@example.com", pass: pass),  // the same pass: one live reservation
                attempt(sale, email: "di@example.com"),  // no stock left
            ]
            let result = try await store.commitReservations(attempts, saleID: sale.id, now: Date())
            #expect(result.outcomes.map(\.isReserved) == [true, false, true, false, false])
            #expect(result.outcomes.map(\.rejection) == [nil, "limit_exceeded", nil, "reservation_exists", "sold_out"])
            #expect(result.available == 0)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 0, reserved: 3, sold: 0))
            try await checkInvariant(store, sale.id)
            guard case .reserved(let receipt) = result.outcomes[0] else { return }
            let record = try #require(try await store.reservation(id: receipt.reservationID))
            #expect(record.status == .held && record.quantity == 2 && record.customerKey == "annlee@gmail.com")
            #expect(record.amountCents == 2 * 12_900)
        }
    }

    /// A batch is decided on what earlier batches stored: their keys, their customers' units
    /// and their passes' live reservations. (PostgreSQL first tries a batch as if there were
    /// none of these, and must notice when there are.)
    @Test(arguments: StoreKind.enabled) func laterBatchesSeeWhatEarlierOnesStored(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 10, limit: 2)
            let holder = UUID()
            let first = attempt(sale, email: "ann@example.com", key: "ann-1")
            let opening = try await store.commitReservations(
                [first, attempt(sale, email: "bo@example.com", pass: holder)], saleID: sale.id, now: Date())
            #expect(opening.outcomes.allSatisfy { $0.isReserved })

            var replay = attempt(sale, email: "ann@example.com", pass: first.passID, key: "ann-1")
            replay.idempotency = first.idempotency
            let second = try await store.commitReservations(
                [
                    replay,
                    attempt(sale, email: "ann@example.com", quantity: 2),  // 1 held + 2 > 2
                    attempt(sale, email: "cy@example.com", pass: holder),  // the pass holds bo's
                    attempt(sale, email: "di@example.com"),
                ], saleID: sale.id, now: Date())
            #expect(second.outcomes[0] == .replayed(opening.outcomes[0].response))
            #expect(second.outcomes.map(\.rejection) == [nil, "limit_exceeded", "reservation_exists", nil])
            #expect(second.outcomes[3].isReserved)
            #expect(second.available == 7)

            // A returning customer within the limit is served.
            let third = try await store.commitReservations([attempt(sale, email: "ann@example.com")], saleID: sale.id, now: Date())
            #expect(third.outcomes.map(\.isReserved) == [true])
            #expect(third.available == 6)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 6, reserved: 4, sold: 0))
            try await checkInvariant(store, sale.id)
        }
    }

    @Test(arguments: StoreKind.enabled) func storesIdempotentResponsesWithTheWork(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 5)
            let pass = UUID()
            // Recorded half the retention (a day) back, so that purging past this test's own cutoff forgets no key
            // that a test running beside it on the shared PostgreSQL database still needs,
            // while the servers' janitors there (which purge past the retention) leave it.
            let recordedAt = Date().addingTimeInterval(-IdempotencyKey.retention / 2)
            let first = attempt(sale, pass: pass, key: "key-1", body: "{\"a\":1}")
            let result = try await store.commitReservations([first], saleID: sale.id, now: recordedAt)
            let response = result.outcomes[0].response
            #expect(response.status == 201)
            let stored = try #require(try await store.storedResponse(scope: first.idempotency.scope, key: "key-1"))
            #expect(stored.response == response && stored.fingerprint == first.idempotency.fingerprint)

            // The same key and body again: the stored response, and no second unit.
            var again = attempt(sale, pass: pass, key: "key-1", body: "{\"a\":1}")
            again.idempotency = first.idempotency
            let replay = try await store.commitReservations([again], saleID: sale.id, now: recordedAt)
            #expect(replay.outcomes == [.replayed(response)])
            // Another body under that key: refused.
            let reused = attempt(sale, pass: pass, key: "key-1", body: "{\"a\":2}")
            let refused = try await store.commitReservations([reused], saleID: sale.id, now: recordedAt)
            #expect(refused.outcomes.map(\.rejection) == ["idempotency_key_reused"])
            #expect(try await store.sale(id: sale.id)?.inventory.reserved == 1)

            // Keys are forgotten only once past the cutoff.
            _ = try await store.purgeIdempotencyKeys(before: recordedAt.addingTimeInterval(-60))
            #expect(try await store.storedResponse(scope: first.idempotency.scope, key: "key-1") != nil)
            #expect(try await store.purgeIdempotencyKeys(before: recordedAt.addingTimeInterval(60)) >= 1)
            #expect(try await store.storedResponse(scope: first.idempotency.scope, key: "key-1") == nil)
        }
    }

    @Test(arguments: StoreKind.enabled) func cancellationReturnsUnitsOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 2)
            let result = try await store.commitReservations([attempt(sale, quantity: 1)], saleID: sale.id, now: Date())
            guard case .reserved(let receipt) = result.outcomes[0] else {
                Issue.record("not reserved: \(result.outcomes)")
                return
            }
            #expect(try await store.cancelReservation(id: receipt.reservationID, now: Date()) == .released(saleID: sale.id, units: 1))
            #expect(try await store.cancelReservation(id: receipt.reservationID, now: Date()) == .alreadyReleased)
            #expect(try await store.cancelReservation(id: UUID(), now: Date()) == .notFound)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 2, reserved: 0, sold: 0))
            #expect(try await store.reservation(id: receipt.reservationID)?.status == .cancelled)
        }
    }

    @Test(arguments: StoreKind.enabled) func expiryReturnsUnits(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store, quantity: 4)
            let attempts = [attempt(sale, ttl: -1), attempt(sale, ttl: -1), attempt(sale, ttl: 600)]
            let result = try await store.commitReservations(attempts, saleID: sale.id, now: Date())
            #expect(result.outcomes.allSatisfy { $0.isReserved })
            // Other tests sweep the shared PostgreSQL database too, so the units may have been
            // returned by their sweep; either way they come back exactly once.
            // Pages of 1,000 oldest-first, until a page is not full (as the sweeper does).
            var returnedHere = 0
            while true {
                let returned = try await store.releaseExpired(now: Date(), limit: 1_000)
                returnedHere += returned[sale.id] ?? 0
                if returned.values.reduce(0, +) < 1_000 { break }
            }
            #expect(returnedHere == 0 || returnedHere == 2)
            #expect(try await store.sale(id: sale.id)?.inventory == Inventory(available: 3, reserved: 1, sold: 0))
            #expect(try await store.releaseExpired(now: Date(), limit: 1_000)[sale.id] == nil)
            if case .reserved(let receipt) = result.outcomes[0] {
                #expect(try await store.reservation(id: receipt.reservationID)?.status == .expired)
                // An expired reservation's pass may reserve again.
                var retry = attempt(sale)
                retry.passID = try #require(try await store.reservation(id: receipt.reservationID)).passID
                #expect(try await store.commitReservations([retry], saleID: sale.id, now: Date()).outcomes[0].isReserved)
            }
        }
    }

    @Test(arguments: StoreKind.enabled) func unknownSaleIsAnError(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let sale = try await makeSale(store)
            var orphan = attempt(sale)
            orphan.saleID = UUID()
            await #expect(throws: StoreError.self) {
                try await store.commitReservations([orphan], saleID: orphan.saleID, now: Date())
            }
        }
    }
}
