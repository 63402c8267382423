import Foundation
import GRDB
import Synchronization

/// Group commit for SQLite: writes that arrive while a transaction commits share the next
/// one, so a burst of payments, reservation batches and outbox updates costs one durable
/// commit (one WAL `fsync` under `synchronous = FULL`) per group instead of one per write.
///
/// SQLite has a single writer, and every commit waits for its `fsync`; at a flash sale's
/// checkout rate (hundreds of payments a second, each two writes) one transaction per
/// write queues the writer, and reserve and pay latencies grow with the queue (issue 15:
/// pay p99 2.2 s at 500 admissions/s). PostgreSQL does the same on its own for concurrent
/// commits (`commit_delay`, and WAL flushes that cover every commit waiting); this gives
/// the embedded store the same property. Nothing waits to form a group: an idle writer
/// starts a lone write at once.
///
/// Each write runs in a savepoint of the shared transaction: one that throws is rolled back
/// alone and its caller gets its error, the others go on. A caller's result is returned only
/// after the shared transaction committed, so what it reports is durable; if the commit
/// itself fails, every write of the group gets that error and none of them happened.
final class GroupCommit: Sendable {
    /// The most writes in one transaction: bounds how long the last of them waits.
    static let maxGroup = 256

    private struct Job: Sendable {
        /// Runs the write inside the shared transaction and keeps its outcome.
        let run: @Sendable (Database) -> Void
        /// Resumes the caller: with the kept outcome after a commit, or with the commit's error.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var queue: [Job] = []
        var draining = false
        var statistics = Statistics()
    }

    /// Writes and the transactions that carried them: writes per group tells whether
    /// grouping happens.
    struct Statistics: Sendable, Equatable {
        var writes = 0
        var groups = 0
        /// Writes waiting for a group right now.
        var waiting = 0
    }

    var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.waiting = state.queue.count
            return statistics
        }
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// Told each group's size and commit time; set by `ObservedStore`.
    let observer = Mutex<(any StoreObserver)?>(nil)

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `body` in a savepoint of the next group's transaction; returns its result once
    /// that transaction is durable. Throws the body's error (its changes undone), or the
    /// commit's.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Mutex<Result<T, any Error>?>(nil)
            let job = Job(
                run: { db in
                    // An error that made SQLite abandon the whole transaction (a full disk, an
                    // I/O error) must not let the rest of the group run outside of it.
                    guard db.isInsideTransaction else {
                        outcome.withLock { $0 = .failure(DatabaseError(resultCode: .SQLITE_ABORT, message: "group transaction abandoned")) }
                        return
                    }
                    var value: T?
                    do {
                        try db.inSavepoint {
                            value = try body(db)
                            return .commit
                        }
                        outcome.withLock { $0 = .success(value!) }
                    } catch {
                        outcome.withLock { $0 = .failure(error) }
                    }
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.withLock { $0! })
                    }
                })
            let start = state.withLock { state in
                state.queue.append(job)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            // At checkout's priority whoever starts it: a sweeper must not slow the shoppers' commits.
            if start { Task(priority: .high) { await self.drain() } }
        }
    }

    /// Commits groups until nobody is waiting.
    private func drain() async {
        while true {
            let group: [Job] = state.withLock { state in
                let group = Array(state.queue.prefix(Self.maxGroup))
                state.queue.removeFirst(group.count)
                if group.isEmpty {
                    state.draining = false
                } else {
                    state.statistics.groups += 1
                    state.statistics.writes += group.count
                }
                return group
            }
            guard !group.isEmpty else { return }
            let start = ContinuousClock.now
            do {
                try await writer.write { db in
                    for job in group { job.run(db) }
                }
                observer.withLock { $0 }?.groupCommitted(writes: group.count, duration: ContinuousClock.now - start)
                for job in group { job.finish(nil) }
            } catch {
                for job in group { job.finish(error) }
            }
        }
    }
}
