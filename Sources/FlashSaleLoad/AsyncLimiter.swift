import Synchronization

/// At most `limit` holders at once; the others wait in arrival order, suspended (not
/// blocking a thread), so twenty thousand shoppers can queue for a hundred connections.
/// Urgent waiters go first: a real shopper has a connection of its own, so a checkout step
/// must not queue behind thousands of other shoppers' polls (its admission would expire).
final class AsyncLimiter: Sendable {
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
        var urgent = Waiters()
        var normal = Waiters()
    }

    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(available: max(limit, 1))) }

    /// How many wait for a permit now.
    var waiting: Int { state.withLock { $0.urgent.count + $0.normal.count } }

    func withPermit<T>(urgent: Bool = false, _ body: () async throws -> T) async rethrows -> T {
        await acquire(urgent: urgent)
        defer { release() }
        return try await body()
    }

    private func acquire(urgent: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                if urgent { state.urgent.append(continuation) } else { state.normal.append(continuation) }
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.urgent.popFirst() ?? state.normal.popFirst() else {
                state.available += 1
                return nil
            }
            return waiter
        }
        next?.resume()
    }
}
