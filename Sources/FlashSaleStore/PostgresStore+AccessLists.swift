import FlashSaleCore
import Foundation
import PostgresNIO

extension PostgresStore {
    public func putAccessRule(_ rule: AccessRule) async throws -> AccessRule {
        try await transaction { conn in
            var stored = rule
            let rows = try await conn.query(
                """
                INSERT INTO access_rules (list, cidr, reason, created_at, expires_at)
                VALUES (\(rule.list.rawValue), \(rule.cidr.description), \(rule.reason), \(rule.createdAt), \(rule.expiresAt))
                ON CONFLICT (list, cidr) DO UPDATE SET
                    reason = excluded.reason, expires_at = excluded.expires_at
                RETURNING created_at
                """, logger: logger)
            for try await createdAt in rows.decode(Date.self) { stored.createdAt = createdAt }
            try await Self.bumpAccessListVersion(conn, logger: logger)
            return stored
        }
    }

    public func removeAccessRule(list: AccessRule.List, cidr: CIDR) async throws -> Bool {
        try await transaction { conn in
            var removed = false
            let rows = try await conn.query(
                "DELETE FROM access_rules WHERE list = \(list.rawValue) AND cidr = \(cidr.description) RETURNING cidr", logger: logger)
            for try await _ in rows { removed = true }
            if removed { try await Self.bumpAccessListVersion(conn, logger: logger) }
            return removed
        }
    }

    public func accessRules(now: Date) async throws -> [AccessRule] {
        let rows = try await backgroundClient.query(
            """
            SELECT list, cidr, reason, created_at, expires_at FROM access_rules
            WHERE expires_at IS NULL OR expires_at > \(now)
            """, logger: logger)
        var rules: [AccessRule] = []
        for try await (listText, cidrText, reason, createdAt, expiresAt) in rows.decode((String, String, String, Date, Date?).self) {
            guard let list = AccessRule.List(rawValue: listText), let cidr = CIDR(cidrText) else {
                throw StoreError.corruptRow("access rule \(listText) \(cidrText)")
            }
            rules.append(AccessRule(list: list, cidr: cidr, reason: reason, createdAt: createdAt, expiresAt: expiresAt))
        }
        return rules
    }

    public func accessListVersion() async throws -> Int64 {
        var version: Int64 = 0
        for try await (value) in try await backgroundClient.query("SELECT version FROM access_list_version WHERE id = 1", logger: logger)
            .decode(Int64.self)
        {
            version = value
        }
        return version
    }

    /// Holds one pooled connection in LISTEN for as long as the caller's task runs.
    public func listen(to feed: ChangeFeed, _ changed: @escaping @Sendable () async -> Void) async throws {
        try await backgroundClient.withConnection { conn in
            for try await _ in try await conn.listen(feed.rawValue) {
                await changed()
            }
        }
    }

    public var cluster: (any ClusterStore)? { self }

    /// Moves the version and notifies every listening node; the notification is delivered
    /// when the transaction commits, never for one that rolls back.
    static func bumpAccessListVersion(_ conn: PostgresConnection, logger: Logger) async throws {
        try await conn.query(
            """
            WITH bumped AS (UPDATE access_list_version SET version = version + 1 WHERE id = 1 RETURNING version)
            SELECT pg_notify(\(ChangeFeed.accessLists.rawValue), version::text) FROM bumped
            """, logger: logger
        ).drain()
    }
}
