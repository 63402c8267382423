import FlashSaleCore
import Foundation
import GRDB

extension SQLiteStore {
    public func putAccessRule(_ rule: AccessRule) async throws -> AccessRule {
        try await commits.write { db in
            let createdAt = try Int64.fetchOne(
                db,
                sql: """
                    INSERT INTO access_rules (list, cidr, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (list, cidr) DO UPDATE SET
                        reason = excluded.reason, expires_at = excluded.expires_at
                    RETURNING created_at
                    """,
                arguments: [rule.list.rawValue, rule.cidr.description, rule.reason, rule.createdAt.ms, rule.expiresAt?.ms])
            try Self.bumpAccessListVersion(db)
            var stored = rule
            if let createdAt { stored.createdAt = Date(ms: createdAt) }
            return stored
        }
    }

    public func removeAccessRule(list: AccessRule.List, cidr: CIDR) async throws -> Bool {
        try await commits.write { db in
            try db.execute(
                sql: "DELETE FROM access_rules WHERE list = ? AND cidr = ?", arguments: [list.rawValue, cidr.description])
            guard db.changesCount > 0 else { return false }
            try Self.bumpAccessListVersion(db)
            return true
        }
    }

    public func accessRules(now: Date) async throws -> [AccessRule] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT list, cidr, reason, created_at, expires_at FROM access_rules WHERE expires_at IS NULL OR expires_at > ?",
                arguments: [now.ms]
            ).map { row in
                guard let list = AccessRule.List(rawValue: row["list"]), let cidr = CIDR(row["cidr"] as String) else {
                    throw StoreError.corruptRow("access rule \(row)")
                }
                let expires: Int64? = row["expires_at"]
                return AccessRule(
                    list: list, cidr: cidr, reason: row["reason"], createdAt: Date(ms: row["created_at"]), expiresAt: expires.map(Date.init(ms:)))
            }
        }
    }

    public func accessListVersion() async throws -> Int64 {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT version FROM access_list_version WHERE id = 1") ?? 0 }
    }

    /// SQLite has no notifications: nodes on one file poll `accessListVersion`.
    public func listen(to feed: ChangeFeed, _ changed: @escaping @Sendable () async -> Void) async throws {}
    public var cluster: (any ClusterStore)? { nil }

    static func bumpAccessListVersion(_ db: Database) throws {
        try db.execute(sql: "UPDATE access_list_version SET version = version + 1 WHERE id = 1")
    }
}
