import FlashSaleCore
import Foundation
import GRDB

extension SQLiteStore {
    public func appendAudit(_ entry: AuditEntry) async throws -> AuditEntry {
        let arguments: StatementArguments = [
            entry.at.ms, entry.action.rawValue, entry.subject, entry.saleID?.lowercased, entry.actor.rawValue,
            try entry.before.map(JSONCoding.text), try entry.after.map(JSONCoding.text),
        ]
        let id = try await commits.write { db in
            try Int64.fetchOne(
                db,
                sql: """
                    INSERT INTO audit_entries (created_at, action, subject, sale_id, actor, before_view, after_view)
                    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                arguments: arguments)
        }
        guard let id else { throw StoreError.corruptRow("the audit insert returned no id") }
        var stored = entry
        stored.id = id
        return stored
    }

    public func auditEntries(limit: Int, saleID: UUID?, before: Int64?) async throws -> [AuditEntry] {
        var conditions = ["1"]
        var arguments = StatementArguments()
        if let saleID {
            conditions.append("sale_id = ?")
            arguments += [saleID.lowercased]
        }
        if let before {
            conditions.append("id < ?")
            arguments += [before]
        }
        arguments += [limit]
        let sql = "SELECT * FROM audit_entries WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?"
        return try await writer.read { [arguments] db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.auditEntry) }
    }

    static func auditEntry(_ row: Row) throws -> AuditEntry {
        guard let action = AuditEntry.Action(rawValue: row["action"]) else { throw StoreError.corruptRow("audit entry \(row)") }
        let saleText: String? = row["sale_id"]
        func object(_ column: String) throws -> JSONObject? {
            try (row[column] as String?).map { try JSONCoding.parseObject(Data($0.utf8)) }
        }
        return AuditEntry(
            id: row["id"], at: Date(ms: row["created_at"]), action: action, subject: row["subject"], saleID: saleText.flatMap(UUID.init),
            actor: AuditEntry.Actor(rawValue: row["actor"]), before: try object("before_view"), after: try object("after_view"))
    }
}
