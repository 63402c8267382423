import FlashSaleCore
import Foundation
import Testing

@testable import FlashSaleServer

@Suite struct RecentReservationsTests {
    func record(expiresIn seconds: TimeInterval, from now: Date) -> ReservationRecord {
        ReservationRecord(
            id: .timeOrdered(), saleID: UUID(), passID: UUID(), email: "a@example.com", customerKey: "a@example.com",
            quantity: 1, amountCents: 100, status: .held, createdAt: now, expiresAt: now.addingTimeInterval(seconds))
    }

    @Test func keepsACommittedReservationUntilItExpires() {
        let recent = RecentReservations()
        let now = Date()
        let held = record(expiresIn: 60, from: now)
        recent.add(held, now: now)
        #expect(recent.record(id: held.id, now: now) == held)
        #expect(recent.record(id: UUID(), now: now) == nil)
        #expect(recent.record(id: held.id, now: held.expiresAt) == nil, "expired: the store decides")
        // The next addition after its expiry lets it go.
        recent.add(record(expiresIn: 60, from: held.expiresAt), now: held.expiresAt)
        #expect(recent.count == 1)
    }

    @Test func dropsTheOldestBeyondItsCapacity() {
        let recent = RecentReservations(capacity: 3)
        let now = Date()
        let records = (0..<5).map { _ in record(expiresIn: 600, from: now) }
        for record in records { recent.add(record, now: now) }
        #expect(recent.count == 3)
        #expect(records.map { recent.record(id: $0.id, now: now) != nil } == [false, false, true, true, true])
    }
}
