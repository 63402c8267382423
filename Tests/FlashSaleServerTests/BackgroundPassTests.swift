import Synchronization
import Testing

@testable import FlashSaleServer

/// The background services' loop (`repeatUntilShutdown`): the expiry sweeper, the catalog
/// and access-list refreshers, the reconciler, the outbox worker and the janitor.
@Suite struct BackgroundPassTests {
    /// A pass that never returns, as a postgres-nio query on a connection lost under it
    /// (vapor/postgres-nio#487) did to both nodes' sweepers after a PostgreSQL restart, is
    /// abandoned after its limit and logged, and the passes after it run.
    @Test func aPassThatNeverReturnsIsAbandonedAndTheNextPassesRun() async throws {
        let capture = LogCapture()
        let passes = Mutex(0)
        // The first pass waits here, deaf to cancellation; resumed at the end so that its
        // task can finish.
        let hung = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let loop = Task {
            try await repeatUntilShutdown(every: .milliseconds(10), limit: .seconds(1), logger: capture.logger(), failure: "sweep failed") {
                guard passes.withLock({ $0 += 1; return $0 }) == 1 else { return }
                await withCheckedContinuation { continuation in hung.withLock { $0 = continuation } }
            }
        }
        // Generous: the whole suite starting at once has kept the executor from tests for 11 s.
        let deadline = ContinuousClock.now + .seconds(60)
        while passes.withLock({ $0 }) < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        loop.cancel()
        try await loop.value
        hung.withLock { $0 }?.resume()

        #expect(passes.withLock { $0 } >= 2, "no pass ran after the hung one")
        // (A starved executor may make a later pass miss the limit too: at least the hung one.)
        let failures = capture.lines.filter { $0.message == "sweep failed" }
        #expect(failures.first?.metadata["error"]?.contains("no answer within 1.0 seconds") == true, "\(capture.lines)")
    }

    /// Passes that finish are neither cut short nor logged.
    @Test func passesWithinTheLimitRunQuietly() async throws {
        let capture = LogCapture()
        let passes = Mutex(0)
        let loop = Task {
            try await repeatUntilShutdown(every: .milliseconds(10), limit: .seconds(30), logger: capture.logger(), failure: "sweep failed") {
                try await Task.sleep(for: .milliseconds(20))
                passes.withLock { $0 += 1 }
            }
        }
        // Generous: the whole suite starting at once has kept the executor from tests for 11 s.
        let deadline = ContinuousClock.now + .seconds(60)
        while passes.withLock({ $0 }) < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        loop.cancel()
        try await loop.value
        #expect(passes.withLock { $0 } >= 2)
        #expect(capture.lines.isEmpty, "\(capture.lines)")
    }
}
