import Foundation
import GRDB
import Testing

@testable import FlashSaleStore

/// The SQLite store's group commit: writes waiting while the writer is busy share one
/// transaction, a write that throws is undone alone, and nothing is reported before it is
/// committed.
@Suite struct GroupCommitTests {
    private static func fileStore() throws -> (SQLiteStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("groupcommit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try SQLiteStore(path: directory.appendingPathComponent("store.sqlite").path), directory)
    }

    @Test func waitingWritesShareATransactionAndAFailingOneIsUndoneAlone() async throws {
        let (store, directory) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.writer.write { db in try db.execute(sql: "CREATE TABLE numbers (n INTEGER NOT NULL)") }
        struct Refused: Error {}

        // Hold the writer, so that every write below queues behind it.
        let release = DispatchSemaphore(value: 0)
        let held = Task { try await store.writer.write { _ in release.wait() } }
        let writes = 100
        let results = Task {
            await withTaskGroup(of: (Int, Bool).self) { group in
                for n in 0..<writes {
                    group.addTask {
                        do {
                            try await store.commits.write { db in
                                try db.execute(sql: "INSERT INTO numbers (n) VALUES (?)", arguments: [n])
                                // Every fifth write fails after its insert: the insert must go too.
                                if n % 5 == 0 { throw Refused() }
                            }
                            return (n, true)
                        } catch {
                            return (n, false)
                        }
                    }
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
        }
        // Guarded wait (not a claim about speed): every write but the first group is queued.
        let deadline = Date().addingTimeInterval(60)
        while store.commits.statistics.waiting + store.commits.statistics.writes < writes, Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        release.signal()
        try await held.value
        let outcome = await results.value

        #expect(outcome.count == writes)
        #expect(outcome.allSatisfy { n, succeeded in succeeded == (n % 5 != 0) })
        let stored = try await store.writer.read { db in try Int.fetchAll(db, sql: "SELECT n FROM numbers ORDER BY n") }
        #expect(stored == (0..<writes).filter { $0 % 5 != 0 })
        // One group already taken when the writer was held, one for everything queued behind it.
        let statistics = store.commits.statistics
        #expect(statistics.writes == writes && statistics.groups <= 2, "\(statistics)")
    }

    @Test func aLoneWriteIsDurableWhenItReturns() async throws {
        let (store, directory) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.writer.write { db in try db.execute(sql: "CREATE TABLE numbers (n INTEGER NOT NULL)") }
        let value = try await store.commits.write { db in
            try db.execute(sql: "INSERT INTO numbers (n) VALUES (7)")
            return db.lastInsertedRowID
        }
        #expect(value == 1)
        // A second connection to the file sees it: it was committed, not merely written.
        let reopened = try DatabaseQueue(path: directory.appendingPathComponent("store.sqlite").path)
        #expect(try await reopened.read { db in try Int.fetchOne(db, sql: "SELECT n FROM numbers") } == 7)
    }

    /// The per-customer check of every payment is two index probes, not a read of every
    /// payment of the sale (issue 15: that made a drop's payments quadratic).
    @Test func thePaymentLimitCheckProbesTheCardAndAddressIndexes() async throws {
        let (store, directory) = try Self.fileStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.migrate()
        let plan = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteStore.customerUnitsSQL, arguments: ["s", "c", "a", "r"])
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING INDEX payments_card (sale_id=? AND card_fingerprint=?)") }, "\(plan)")
        #expect(plan.contains { $0.contains("USING INDEX payments_address (sale_id=? AND address_key=?)") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN payments") }, "\(plan)")
    }
}
