import FlashSaleCore
import Foundation
import PostgresNIO

extension PostgresStore {
    public func appendAudit(_ entry: AuditEntry) async throws -> AuditEntry {
        let before = try entry.before.map(JSONCoding.text)
        let after = try entry.after.map(JSONCoding.text)
        let rows = try await client.query(
            """
            INSERT INTO audit_entries (created_at, action, subject, sale_id, actor, before_view, after_view)
            VALUES (\(entry.at), \(entry.action.rawValue), \(entry.subject), \(entry.saleID), \(entry.actor.rawValue),
                \(before)::jsonb, \(after)::jsonb)
            RETURNING id
            """, logger: logger)
        var stored = entry
        for try await id in rows.decode(Int64.self) { stored.id = id }
        guard stored.id > 0 else { throw StoreError.corruptRow("the audit insert returned no id") }
        return stored
    }

    public func auditEntries(limit: Int, saleID: UUID?, before: Int64?) async throws -> [AuditEntry] {
        var sql = "SELECT id, created_at, action, subject, sale_id, actor, before_view::text, after_view::text FROM audit_entries WHERE true"
        var bindings = PostgresBindings()
        if let saleID {
            bindings.append(saleID)
            sql += " AND sale_id = $\(bindings.count)"
        }
        if let before {
            bindings.append(before)
            sql += " AND id < $\(bindings.count)"
        }
        bindings.append(limit)
        sql += " ORDER BY id DESC LIMIT $\(bindings.count)"
        var entries: [AuditEntry] = []
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        for try await (id, at, actionText, subject, saleID, actor, before, after) in rows.decode(
            (Int64, Date, String, String, UUID?, String, String?, String?).self)
        {
            guard let action = AuditEntry.Action(rawValue: actionText) else { throw StoreError.corruptRow("audit action \(actionText)") }
            func object(_ text: String?) throws -> JSONObject? { try text.map { try JSONCoding.parseObject(Data($0.utf8)) } }
            entries.append(
                AuditEntry(
                    id: id, at: at, action: action, subject: subject, saleID: saleID, actor: AuditEntry.Actor(rawValue: actor),
                    before: try object(before), after: try object(after)))
        }
        return entries
    }
}
