import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `GET /api/v1/admin/audit` (behind the admin token): the operator's actions, newest first.
/// `?limit=` (1…500, 100), `sale_id=` (one sale's), `before=` (an entry id: the page after
/// it) → `{"entries": [entry, ...]}`; a value that does not parse is 422.
struct AuditController: Sendable {
    let store: any AuditStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("audit", use: list)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let filter = try AuditFilter(request.uri.queryParameters)
        let entries = try await store.auditEntries(limit: filter.limit, saleID: filter.saleID, before: filter.before)
        return try JSONResponse.encode(["entries": entries.map(AuditEntryView.init)])
    }
}

/// The list's query parameters.
struct AuditFilter: Equatable {
    var limit = 100
    var saleID: UUID?
    var before: Int64?

    static let limits = 1...500

    init(_ query: Parameters) throws(APIError) {
        limit = try query.limit(in: Self.limits, fallback: limit)
        saleID = try query.saleID()
        if let text = query.get("before") {
            guard let id = Int64(text), id > 0 else { throw .validation("before must be the id of an entry (a positive whole number)") }
            before = id
        }
    }
}

/// An entry as the API shows it; `sale_id`, `before` and `after` are null where there is none.
struct AuditEntryView: Encodable {
    let entry: AuditEntry

    enum CodingKeys: String, CodingKey {
        case id, at, action, subject, saleID = "sale_id", actor, before, after
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entry.id, forKey: .id)
        try c.encode(entry.at, forKey: .at)
        try c.encode(entry.action.rawValue, forKey: .action)
        try c.encode(entry.subject, forKey: .subject)
        try c.encode(entry.saleID?.lowercased, forKey: .saleID)
        try c.encode(entry.actor.rawValue, forKey: .actor)
        try c.encode(entry.before, forKey: .before)
        try c.encode(entry.after, forKey: .after)
    }
}
