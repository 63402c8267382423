import Synchronization

/// At most `limit` holders at once; the others wait in arrival order within their lane,
/// suspended (not blocking a thread), so a hundred thousand shoppers can queue for a few
/// hundred connections.
///
/// The lanes stand for what a real crowd's connections do, which one process's pool would
/// otherwise flatten into one line: every shopper has a connection of their own, so a
/// checkout step does not queue behind other shoppers' polls (its admission would expire),
/// and a waiting shopper's poll travels on a connection already open, while a newcomer's
/// join must first be accepted from the server's listen backlog. Without the last lane, a
/// spike of 70,000 joins held every released shopper's poll for the 15 s the server needs
/// to answer them, and the run measured the crowd's queue instead of the admission rate
/// (issue 15).
final class AsyncLimiter: Sendable {
    /// Lanes, served in this order.
    enum Lane: Int, CaseIterable, Sendable {
        /// Reserve, pay, cancel: a shopper who was admitted.
        case checkout
        /// Polls of shoppers already in line.
        case waiting
        /// Joins: shoppers arriving.
        case arriving
    }

    private struct Waiters {
        var items: [CheckedContinuation<Void, Never>] = []
        var head = 0

        mutating func append(_ waiter: CheckedContinuation<Void, Never>) { items.append(waiter) }

        var count: Int { items.count - head }

        mutating func popFirst() -> CheckedContinuation<Void, Never>? {
            guard head < items.count else { return nil }
            let waiter = items[head]
            head += 1
            // Drop the served prefix now and then, so the array does not grow for ever.
            if head > 1_024, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return waiter
        }
    }

    private struct State {
        var available: Int
        var lanes = Array(repeating: Waiters(), count: Lane.allCases.count)
    }

    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(available: max(limit, 1))) }

    /// How many wait for a permit now.
    var waiting: Int { state.withLock { $0.lanes.reduce(0) { $0 + $1.count } } }

    func withPermit<T>(lane: Lane = .waiting, _ body: () async throws -> T) async rethrows -> T {
        await acquire(lane: lane)
        defer { release() }
        return try await body()
    }

    private func acquire(lane: Lane) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.lanes[lane.rawValue].append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let lane = state.lanes.indices.first(where: { state.lanes[$0].count > 0 }),
                let waiter = state.lanes[lane].popFirst()
            else {
                state.available += 1
                return nil
            }
            return waiter
        }
        next?.resume()
    }
}
