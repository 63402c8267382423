import FlashSaleCore
import Foundation
import Synchronization

/// The reservations this node's engine committed and that have not expired yet, so that a
/// payment need not read its reservation back from the store before it begins (one lease
/// of the database pool fewer per payment: at 100,000 shoppers on PostgreSQL each lease
/// waited about 150 ms, issue 15).
///
/// Only the fields that never change after the commit are to be trusted (sale, customer,
/// quantity, amount, times): the status is the one at the commit. `beginPayment` reads the
/// reservation again under its locks and decides on that. A reservation committed by
/// another node is not here; the caller reads it from the store.
///
/// Bounded: entries leave once expired, and beyond `capacity` the oldest go first.
final class RecentReservations: Sendable {
    /// 100,000 records of about 200 bytes: 20 MB at most.
    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    private let capacity: Int
    private let state = Mutex(State())

    private struct State {
        var records: [UUID: ReservationRecord] = [:]
        /// Ids in the order they were added, with their expiry; `head` is the oldest kept.
        var order: [(id: UUID, expiresAt: Date)] = []
        var head = 0
    }

    /// Keeps `record` (a reservation just committed) until it expires.
    func add(_ record: ReservationRecord, now: Date) {
        state.withLock { state in
            state.records[record.id] = record
            state.order.append((record.id, record.expiresAt))
            // Reservations of one sale expire in the order they were made; a sale with a
            // longer TTL only keeps an expired one of another sale a little longer.
            while state.head < state.order.count,
                state.order[state.head].expiresAt <= now || state.order.count - state.head > capacity
            {
                state.records[state.order[state.head].id] = nil
                state.head += 1
            }
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The reservation as committed, if this node committed it and it has not expired.
    func record(id: UUID, now: Date) -> ReservationRecord? {
        state.withLock { state in
            guard let record = state.records[id], record.expiresAt > now else { return nil }
            return record
        }
    }

    /// How many are kept (for tests).
    var count: Int { state.withLock { $0.records.count } }
}
