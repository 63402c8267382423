import Foundation
import Synchronization
import Testing

@testable import FlashSaleStore

/// `abandoning`: a batch whose commit never answers must not hold the
/// sale's later reservations (issue 12: PostgreSQL restarted under a crowd).
@Suite struct CommitLimitTests {
    struct Late: Error {}

    @Test func aHungCommitIsAnsweredWithTheErrorOnceTheLimitPasses() async throws {
        let hung = Mutex<CheckedContinuation<Int, Never>?>(nil)
        let start = ContinuousClock.now
        await #expect(throws: Late.self) {
            try await abandoning(after: .milliseconds(200), error: Late()) {
                // Never answers, and ignores cancellation: as a query on a lost connection.
                await withCheckedContinuation { continuation in hung.withLock { $0 = continuation } }
            }
        }
        // Long before the work could answer (it never does); generous, as a loaded machine
        // delays the timer itself.
        #expect(ContinuousClock.now - start < .seconds(60))
        // The abandoned work may still finish later: nothing is resumed twice.
        hung.withLock { $0?.resume(returning: 1) }
        try await Task.sleep(for: .milliseconds(50))
    }

    /// A caller cancelled (a service stopping for shutdown) is answered at once, not when
    /// the limit passes, and the work it started is cancelled.
    @Test func aCancelledCallerIsAnsweredAtOnceAndItsWorkIsCancelled() async throws {
        let workCancelled = Mutex(false)
        let started = Mutex(false)
        let caller = Task {
            try await abandoning(after: .seconds(600), error: Late()) { () async throws -> Int in
                started.withLock { $0 = true }
                do { try await Task.sleep(for: .seconds(600)) } catch { workCancelled.withLock { $0 = true } }
                return 0
            }
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let start = ContinuousClock.now
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(ContinuousClock.now - start < .seconds(60))
        // Generous: the whole suite starting at once has kept the executor from tests for 11 s.
        let deadline = ContinuousClock.now + .seconds(60)
        while !workCancelled.withLock({ $0 }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(workCancelled.withLock { $0 })
    }

    @Test func aCommitWithinTheLimitAnswersItsResultOrItsOwnError() async throws {
        let value = try await abandoning(after: .seconds(5), error: Late()) { 42 }
        #expect(value == 42)
        await #expect(throws: StoreError.self) {
            try await abandoning(after: .seconds(5), error: Late()) { () async throws -> Int in
                throw StoreError.corruptRow("x")
            }
        }
    }

    @Test func aTimedOutCommitOrAContendedSettlementCountsAsTheStoreBeingUnavailable() {
        #expect(StoreUnavailable.isUnavailable(StoreError.commitTimedOut(UUID())))
        #expect(StoreUnavailable.isUnavailable(StoreError.settlementContended(UUID())))
        #expect(!StoreUnavailable.isUnavailable(StoreError.inventoryGuardFailed(UUID())))
    }
}
