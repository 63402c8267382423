import ServiceLifecycle
import Synchronization
import Testing

@testable import FlashSaleServer

/// The store's background loops wait for the migration: one that ran beside it deadlocked
/// with its DDL and the node exited (`AfterMigration`).
@Suite struct AfterMigrationTests {
    final class Recorder: Service, Sendable {
        let started = Mutex(false)
        func run() async throws { started.withLock { $0 = true } }
    }

    @Test func aLoopStartsOnlyOnceTheStoreIsMigrated() async throws {
        let readiness = Readiness()
        let loop = Recorder()
        let running = Task { try await AfterMigration(readiness: readiness, service: loop).run() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!loop.started.withLock { $0 }, "the loop started before the migration ended")
        readiness.markMigrated()
        try await running.value
        #expect(loop.started.withLock { $0 })
    }

    @Test func aLoopNeverStartsWhenTheNodeStopsFirst() async throws {
        let loop = Recorder()
        let running = Task { try await AfterMigration(readiness: Readiness(), service: loop).run() }
        try await Task.sleep(for: .milliseconds(100))
        running.cancel()
        try await running.value
        #expect(!loop.started.withLock { $0 })
    }
}
