import FlashSaleCore
import FlashSaleStore
import Foundation
import Testing

/// The audit record behaves alike on every store. Stores may be shared with other tests
/// (one PostgreSQL database), so each test reads back only the entries of a sale id of its own.
@Suite struct AuditConformanceTests {
    static func entry(
        _ action: AuditEntry.Action, saleID: UUID, at: Date = Date(), before: JSONObject? = nil, after: JSONObject? = nil
    ) -> AuditEntry {
        AuditEntry(at: at, action: action, subject: saleID.lowercased, saleID: saleID, actor: .adminToken, before: before, after: after)
    }

    @Test(arguments: StoreKind.enabled) func entriesReadBackAsAppended(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let saleID = UUID()
            let at = Date(timeIntervalSince1970: 1_796_140_800.125)
            let before: JSONObject = [
                "paused": .bool(false), "price_cents": .integer(12_900), "name": .string("Red \"sneaker\" ✓"),
                "ratio": .number(0.5), "ends_at": .null, "tags": .array([.string("a"), .integer(1)]),
                "queue": .object(["joined": .integer(9_007_199_254_740_993)]),
            ]
            var after = before
            after["paused"] = .bool(true)
            let stored = try await store.appendAudit(Self.entry(.saleUpdated, saleID: saleID, at: at, before: before, after: after))
            #expect(stored.id > 0)

            let read = try #require(try await store.auditEntries(limit: 10, saleID: saleID, before: nil).first)
            #expect(read.id == stored.id)
            #expect(abs(read.at.timeIntervalSince(at)) < 0.001)
            #expect(read.action == .saleUpdated && read.subject == saleID.lowercased && read.saleID == saleID)
            #expect(read.actor == .adminToken)
            #expect(read.before == before, "every kind of JSON value reads back as written, whole numbers past 2^53 too")
            #expect(read.after == after)
        }
    }

    @Test(arguments: StoreKind.enabled) func entriesWithoutSaleOrViews(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let cidr = "10.\(Int.random(in: 0...255)).\(Int.random(in: 0...255)).0/24"
            let removed = try await store.appendAudit(
                AuditEntry(
                    at: Date(timeIntervalSince1970: 1_796_140_801), action: .accessRuleRemoved, subject: cidr,
                    actor: AuditEntry.Actor(rawValue: "console"),
                    before: ["list": .string("block"), "cidr": .string(cidr)]))
            let read = try #require(try await store.auditEntries(limit: 50, saleID: nil, before: removed.id + 1).first)
            #expect(read == removed, "nil sale, nil after and another actor read back as nil and as given")
            #expect(read.saleID == nil && read.after == nil && read.actor == .console)
        }
    }

    @Test(arguments: StoreKind.enabled) func newestFirstFilteredAndPaged(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let saleID = UUID()
            let other = UUID()
            var mine: [AuditEntry] = []
            for action in [AuditEntry.Action.saleCreated, .saleUpdated, .orderCancelled, .saleUpdated] {
                mine.append(try await store.appendAudit(Self.entry(action, saleID: saleID)))
                _ = try await store.appendAudit(Self.entry(.saleUpdated, saleID: other))
            }
            #expect(mine.map(\.id) == mine.map(\.id).sorted() && Set(mine.map(\.id)).count == 4, "ids increase")

            let all = try await store.auditEntries(limit: 100, saleID: saleID, before: nil)
            #expect(all.map(\.id) == mine.reversed().map(\.id), "one sale's entries, newest first")
            #expect(all.map(\.action) == [.saleUpdated, .orderCancelled, .saleUpdated, .saleCreated])

            let first = try await store.auditEntries(limit: 3, saleID: saleID, before: nil)
            #expect(first.map(\.id) == Array(all.prefix(3)).map(\.id))
            let next = try await store.auditEntries(limit: 3, saleID: saleID, before: first.last?.id)
            #expect(next.map(\.id) == [mine[0].id], "the cursor pages on to the oldest")

            let unfiltered = try await store.auditEntries(limit: 2, saleID: nil, before: nil)
            #expect(unfiltered.count == 2 && unfiltered[0].id > unfiltered[1].id)
        }
    }

    /// Nodes append at once: every entry is kept, each with an id of its own.
    @Test(arguments: StoreKind.enabled) func concurrentAppendsAreAllKept(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let saleID = UUID()
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<20 { group.addTask { try await store.appendAudit(Self.entry(.saleUpdated, saleID: saleID)).id } }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 20)
            #expect(try await store.auditEntries(limit: 500, saleID: saleID, before: nil).map(\.id) == ids.sorted(by: >))
        }
    }
}
