import FlashSaleCore
import Foundation
import Synchronization
import Tracing

/// The path of a reservation from a request to a durable row.
///
/// Per sale, a gate knows the units available at the last commit and answers `sold_out`
/// without touching the database once they are gone. Attempts that pass the gate queue
/// for the sale's committer, which writes everything queued in one transaction: one
/// durable write per batch, not per buyer. While a batch commits, the next one gathers.
public final class InventoryEngine: Sendable {
    public let store: any Store
    /// The most attempts written in one transaction.
    public let maxBatch: Int
    private let lanes = Mutex<[UUID: Lane]>([:])
    private let counters = Mutex<Statistics>(Statistics())

    /// How the committer has batched so far: the figure that tells whether group commit works.
    public struct Statistics: Sendable, Equatable {
        public var batches = 0
        public var attempts = 0
        public var largestBatch = 0
        public var averageBatch: Double { batches == 0 ? 0 : Double(attempts) / Double(batches) }
    }

    public var statistics: Statistics { counters.withLock { $0 } }
    /// Told each batch's size and commit time (the server's metrics).
    private let observer: (any StoreObserver)?

    /// The longest a batch waits for its commit before its callers are answered
    /// `StoreError.commitTimedOut` (503 with `Retry-After`) and the sale's next batch goes:
    /// one hung connection must not hold every later reservation of the sale. PostgreSQL
    /// restarted under a crowd left a batch's query unanswered for good (issue 12's fault
    /// test). A healthy commit takes milliseconds, but a saturated machine delays the
    /// answer by seconds (15 s was seen with the whole test suite on two cores, and a 5 s
    /// limit then refused commits that were only slow), so the limit is generous: a late
    /// answer costs a shopper less than a refusal. A commit that does land after its
    /// limit keeps its idempotency records, so a retry with the same key gets its 201.
    public let commitLimit: Duration

    public init(store: any Store, maxBatch: Int = 512, observer: (any StoreObserver)? = nil, commitLimit: Duration = .seconds(30)) {
        self.store = store
        self.maxBatch = maxBatch
        self.observer = observer
        self.commitLimit = commitLimit
    }

    /// An outcome, and whether a transaction decided and recorded it (false: the gate
    /// refused without touching the store, so nothing was recorded for its key).
    public struct Answer: Sendable, Equatable {
        public var outcome: ReservationOutcome
        public var recorded: Bool
        /// The reservation as stored, when the outcome is a new one.
        public var held: ReservationRecord?
    }

    /// Reserves through the gate and the committer. Returns once the outcome is durable.
    public func reserve(_ attempt: ReservationAttempt, knownAvailable: Int) async throws -> Answer {
        let lane = lane(for: attempt.saleID, knownAvailable: knownAvailable)
        return try await withSpanWhenTracing("inventory.reserve") { _ in
            try await withCheckedThrowingContinuation { continuation in
                lane.enqueue(attempt, continuation: continuation, engine: self)
            }
        }
    }

    /// Records the available count read from the store, for sales whose units changed
    /// elsewhere (expiry, cancellation, another node).
    ///
    /// `since` is the lane's `mark` taken before the store was read: a count read before
    /// this node's own latest commit (or while a batch commits) is older than the gate and
    /// is ignored, so that a refresh cannot reopen the gate on a unit reserved meanwhile.
    public func observe(saleID: UUID, available: Int, since mark: Int? = nil) {
        lanes.withLock { $0[saleID] }?.observe(available: available, since: mark)
    }

    /// Marks of every lane's gate, to pass back to `observe` after reading the store.
    public func marks() -> [UUID: Int] {
        let all = lanes.withLock { $0 }
        return all.mapValues(\.mark)
    }

    /// Units went back to the sale (a cancellation on this node): open the gate at once.
    public func unitsReturned(saleID: UUID, units: Int) {
        lanes.withLock { $0[saleID] }?.add(units)
    }

    /// Units counted available by the gate right now (for tests and metrics).
    public func gateAvailable(saleID: UUID) -> Int? {
        lanes.withLock { $0[saleID] }?.available
    }

    private func lane(for saleID: UUID, knownAvailable: Int) -> Lane {
        lanes.withLock { lanes in
            if let lane = lanes[saleID] { return lane }
            let lane = Lane(saleID: saleID, available: knownAvailable)
            lanes[saleID] = lane
            return lane
        }
    }

    fileprivate func flush(_ lane: Lane) async {
        while true {
            // Callers resumed by the last commit queue their next attempts during this
            // yield, so the next batch is whole instead of the first few arrivals.
            await Task.yield()
            guard let batch = lane.takeBatch(max: maxBatch) else { return }
            counters.withLock {
                $0.batches += 1
                $0.attempts += batch.count
                $0.largestBatch = max($0.largestBatch, batch.count)
            }
            let start = ContinuousClock.now
            let now = Date()
            // One instant ends the commit and every attempt's wait, so each wait covers it.
            func report(failed: Bool) {
                guard let observer else { return }
                let end = ContinuousClock.now
                observer.batchCommitted(attempts: batch.count, duration: end - start, failed: failed)
                observer.reservationsAnswered(waits: batch.map { end - $0.arrived })
            }
            do {
                let result = try await abandoning(after: commitLimit, error: StoreError.commitTimedOut(lane.saleID)) {
                    try await self.commitTraced(batch, saleID: lane.saleID, now: now)
                }
                report(failed: false)
                lane.finish(available: result.available)
                for (waiter, outcome) in zip(batch, result.outcomes) {
                    var held: ReservationRecord?
                    if case .reserved = outcome { held = waiter.attempt.held(createdAt: now) }
                    waiter.continuation.resume(returning: Answer(outcome: outcome, recorded: true, held: held))
                }
            } catch {
                report(failed: true)
                lane.finish(available: nil)
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}

// MARK: Tracing

extension InventoryEngine {
    /// The most requests one batch span links to (OpenTelemetry's default link limit).
    static let maxLinks = 128

    /// Commits a batch in a span of its own. A batch serves many requests, so it is no one
    /// request's child: it is the root of a trace of its own, linked to the
    /// `inventory.reserve` span of each request it carries (the first `maxLinks`); each
    /// request's trace shows its wait in that span. Its transaction is its child.
    fileprivate func commitTraced(_ batch: [Waiter], saleID: UUID, now: Date) async throws -> BatchResult {
        try await withSpan("inventory.batch", context: .topLevel) { span in
            if span.isRecording {
                span.attributes["flashsale.sale_id"] = saleID.lowercased
                span.attributes["flashsale.batch.size"] = batch.count
                for waiter in batch.prefix(Self.maxLinks) {
                    if let context = waiter.context { span.addLink(SpanLink(context: context, attributes: [:])) }
                }
            }
            return try await store.traced("commit_reservations") {
                try await store.commitReservations(batch.map(\.attempt), saleID: saleID, now: now)
            }
        }
    }
}

private struct Waiter: Sendable {
    var attempt: ReservationAttempt
    var continuation: CheckedContinuation<InventoryEngine.Answer, any Error>
    /// The requesting task's trace context, for the batch span's link.
    var context: ServiceContext? = ServiceContext.current
    /// When the attempt reached the engine: its wait's start (`reservationsAnswered`). A
    /// batch's commit says little of a reservation's wait: at 100,000 shoppers a commit
    /// averaged 14 ms while its attempts had waited 25 ms for the batch before theirs and
    /// 69 ms for their own at p50, the opening's large batches weighing most (issue 15).
    var arrived = ContinuousClock.now
}

/// One sale's gate and queue.
private final class Lane: Sendable {
    struct State {
        /// Units available at the last commit or refresh.
        var available: Int
        var queue: [Waiter] = []
        var flushing = false
        /// Moves on whenever this node changes the gate (a commit, units returned).
        var generation = 0
    }

    let saleID: UUID
    private let state: Mutex<State>

    init(saleID: UUID, available: Int) {
        self.saleID = saleID
        state = Mutex(State(available: available))
    }

    var available: Int { state.withLock { $0.available } }

    var mark: Int { state.withLock { $0.generation } }

    func add(_ units: Int) {
        state.withLock {
            $0.available += units
            $0.generation += 1
        }
    }

    func observe(available: Int, since mark: Int?) {
        state.withLock {
            if let mark, mark != $0.generation || $0.flushing { return }
            $0.available = available
        }
    }

    func enqueue(_ attempt: ReservationAttempt, continuation: CheckedContinuation<InventoryEngine.Answer, any Error>, engine: InventoryEngine) {
        enum Admit { case soldOut, queued, queuedAndFlush }
        let admit: Admit = state.withLock { state in
            // The gate: with fewer units than asked for, no transaction could succeed.
            if state.available < attempt.quantity { return .soldOut }
            state.queue.append(Waiter(attempt: attempt, continuation: continuation))
            if state.flushing { return .queued }
            state.flushing = true
            return .queuedAndFlush
        }
        switch admit {
        case .soldOut: continuation.resume(returning: InventoryEngine.Answer(outcome: .rejected(.soldOut), recorded: false))
        case .queued: break
        case .queuedAndFlush:
            // Whoever starts the committer, its batches are checkout work (`CheckoutPriority`).
            Task(priority: .high) { await engine.flush(self) }
        }
    }

    /// The next batch, or nil (and the flusher stops) when the queue is empty.
    func takeBatch(max: Int) -> [Waiter]? {
        state.withLock { state in
            guard !state.queue.isEmpty else {
                state.flushing = false
                return nil
            }
            let batch = Array(state.queue.prefix(max))
            state.queue.removeFirst(batch.count)
            return batch
        }
    }

    /// Records the count a commit read under the sale's lock: the truth as of that commit.
    func finish(available: Int?) {
        guard let available else { return }
        state.withLock {
            $0.available = available
            $0.generation += 1
        }
    }
}
