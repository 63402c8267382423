import FlashSaleCore
import Foundation
import GRDB
import PostgresNIO

/// Work waiting for the background services: what the operator's backlog gauges show.
public struct Backlog: Sendable, Equatable {
    /// Outbox messages not yet delivered.
    public var outboxDepth: Int
    /// When the oldest of them was queued; nil when there is none.
    public var outboxOldest: Date?
    /// Payment attempts whose outcome the reconciler must still find: `unknown`, or
    /// `pending` since before the cutoff (a crash between the charge and its record).
    public var unresolvedPayments: Int

    public init(outboxDepth: Int, outboxOldest: Date?, unresolvedPayments: Int) {
        self.outboxDepth = outboxDepth
        self.outboxOldest = outboxOldest
        self.unresolvedPayments = unresolvedPayments
    }
}

extension SQLiteStore {
    public func backlog(unresolvedBefore cutoff: Date) async throws -> Backlog {
        try await writer.read { db in
            let depth = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") ?? 0
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
            let unresolved = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM payments WHERE status IN ('pending', 'unknown') AND (status = 'unknown' OR updated_at < ?)",
                arguments: [cutoff.ms]) ?? 0
            return Backlog(outboxDepth: depth, outboxOldest: oldest.map(Date.init(ms:)), unresolvedPayments: unresolved)
        }
    }
}

extension PostgresStore {
    public func backlog(unresolvedBefore cutoff: Date) async throws -> Backlog {
        var backlog = Backlog(outboxDepth: 0, outboxOldest: nil, unresolvedPayments: 0)
        for try await (depth, oldest) in try await backgroundClient.query(
            "SELECT COUNT(*)::int, MIN(created_at) FROM outbox WHERE status = 'pending'", logger: logger
        ).decode((Int, Date?).self) {
            backlog.outboxDepth = depth
            backlog.outboxOldest = oldest
        }
        for try await count in try await backgroundClient.query(
            """
            SELECT COUNT(*)::int FROM payments
            WHERE status IN ('pending', 'unknown') AND (status = 'unknown' OR updated_at < \(cutoff))
            """, logger: logger
        ).decode(Int.self) {
            backlog.unresolvedPayments = count
        }
        return backlog
    }
}
