import Crypto
import FlashSaleCore
import Foundation
import Synchronization

/// Solves the waiting room's proof-of-work challenges on threads of its own.
///
/// A solve is seconds of synchronous hashing; on Swift's cooperative pool (two threads on
/// two cores) one 20-bit solve would stall every other shopper of the crowd. Here the
/// callers suspend while a fixed number of threads hash, so the crowd's figures show what
/// the work costs and not what it blocks. The number of threads is the compute a side pays
/// for: the honest crowd's stands for many devices, the farm's (`--farm-solvers`) for its
/// own machines.
final class ProofOfWorkSolver: @unchecked Sendable {
    /// Which waiting challenge a free thread takes next.
    enum Order: Sendable {
        /// First asked, first solved: honest shoppers, each on their own device.
        case arrival
        /// Fewest bits first: a farm spends its compute where a pass is cheapest.
        case cheapestFirst
    }

    private final class Ticket: Sendable {
        let cancelled = Atomic<Bool>(false)
    }

    private struct Job {
        let prefix: String
        let bits: Int
        let sequence: Int
        let ticket: Ticket
        let continuation: CheckedContinuation<Solution?, Never>
    }

    /// Guards `jobs`, `stopped` and `sequence`; the threads wait on it for work.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var sequence = 0
    private let stopped = Atomic<Bool>(false)
    private let order: Order
    /// Nonces hashed between two looks at cancellation (a few milliseconds of work).
    private static let chunk: UInt64 = 4_096

    /// - Parameters:
    ///   - threads: 0 makes a solver that is never asked (a run without a farm).
    ///   - niceness: the threads' nice value (Linux; 0 leaves it): hashing that a farm does
    ///     on machines of its own need not starve a server under test on the same host.
    init(threads: Int, order: Order, niceness: Int32 = 0) {
        self.order = order
        for index in 0..<max(threads, 0) {
            let thread = Thread { [self] in
                #if os(Linux)
                // Linux keeps the nice value per thread, and `who` 0 is the calling thread.
                if niceness > 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                #endif
                work()
            }
            thread.name = "pow-solver-\(index)"
            thread.start()
        }
    }

    /// A nonce answering a challenge, and the time its thread spent hashing: what the work
    /// costs a shopper's own device, without the wait for one of this crowd's threads.
    struct Solution: Sendable {
        let nonce: String
        let hashingSeconds: Double
    }

    /// A nonce answering the challenge, or nil when the solver was shut down or the
    /// calling task cancelled before one was found.
    func solve(prefix: String, difficultyBits: Int) async -> Solution? {
        let ticket = Ticket()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                condition.lock()
                if stopped.load(ordering: .acquiring) || ticket.cancelled.load(ordering: .acquiring) {
                    condition.unlock()
                    continuation.resume(returning: nil)
                    return
                }
                jobs.append(Job(prefix: prefix, bits: difficultyBits, sequence: sequence, ticket: ticket, continuation: continuation))
                sequence += 1
                condition.signal()
                condition.unlock()
            }
        } onCancel: {
            ticket.cancelled.store(true, ordering: .releasing)
            // Still waiting for a thread: answered here. A running solve sees the flag.
            condition.lock()
            let index = jobs.firstIndex { $0.ticket === ticket }
            let job = index.map { jobs.remove(at: $0) }
            condition.unlock()
            job?.continuation.resume(returning: nil)
        }
    }

    /// Challenges waiting for a thread.
    var pending: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// Answers every waiting and running solve with nil and ends the threads.
    func shutdown() {
        condition.lock()
        stopped.store(true, ordering: .releasing)
        let waiting = jobs
        jobs.removeAll()
        condition.broadcast()
        condition.unlock()
        for job in waiting { job.continuation.resume(returning: nil) }
    }

    private func work() {
        while let job = next() {
            let started = ContinuousClock.now
            let nonce = ProofOfWork.solve(prefix: job.prefix, difficultyBits: job.bits, checkEvery: Self.chunk) {
                job.ticket.cancelled.load(ordering: .relaxed) || stopped.load(ordering: .relaxed)
            }
            job.continuation.resume(returning: nonce.map { Solution(nonce: $0, hashingSeconds: (ContinuousClock.now - started).seconds) })
        }
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !stopped.load(ordering: .acquiring) { condition.wait() }
        guard !stopped.load(ordering: .acquiring) else { return nil }
        let index: Int
        switch order {
        case .arrival: index = 0
        case .cheapestFirst: index = jobs.indices.min { (jobs[$0].bits, jobs[$0].sequence) < (jobs[$1].bits, jobs[$1].sequence) }!
        }
        return jobs.remove(at: index)
    }
}
