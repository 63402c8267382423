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
