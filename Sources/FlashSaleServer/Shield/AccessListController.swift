import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `/api/v1/admin/blocklist` and `/api/v1/admin/allowlist` (behind the admin token):
/// `POST {"cidr", "reason", "expires_at"}` → 201 with the rule, `GET` → every active rule,
/// `DELETE /{cidr}` → 204 (the CIDR percent-encoded, `203.0.113.0%2F24`, or as two path
/// segments, `203.0.113.0/24`). A change applies on this node at once and on every other
/// node within `ShieldSettings.accessListRefresh` (at once on PostgreSQL, by NOTIFY).
struct AccessListController: Sendable {
    let store: any Store
    let actions: OperatorActions

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        for list in AccessRule.List.allCases {
            let path = RouterPath(stringLiteral: Self.path(list))
            group.post(path) { request, context in try await add(request, context: context, list: list) }
            group.get(path) { _, _ in try await show(list) }
            group.delete(RouterPath(stringLiteral: "\(Self.path(list))/:address")) { _, context in
                try await remove(list, text: context.parameters.get("address") ?? "", context: context)
            }
            group.delete(RouterPath(stringLiteral: "\(Self.path(list))/:address/:length")) { _, context in
                let text = "\(context.parameters.get("address") ?? "")/\(context.parameters.get("length") ?? "")"
                return try await remove(list, text: text, context: context)
            }
        }
    }

    static func path(_ list: AccessRule.List) -> String { list == .block ? "blocklist" : "allowlist" }

    private func add(_ request: Request, context: AppRequestContext, list: AccessRule.List) async throws -> Response {
        let (body, _) = try await request.decodeJSON(NewAccessRule.self, context: context)
        let stored = try await actions.addRule(body, on: list, own: context.clientAddress, by: context.actor, logger: context.logger)
        return try JSONResponse.encode(AccessRuleView(stored), status: .created)
    }

    private func show(_ list: AccessRule.List) async throws -> Response {
        let rules = try await store.accessRules(now: Date()).filter { $0.list == list }.sorted { $0.createdAt < $1.createdAt }
        return try JSONResponse.encode([Self.path(list): rules.map(AccessRuleView.init)])
    }

    private func remove(_ list: AccessRule.List, text: String, context: AppRequestContext) async throws -> Response {
        try await actions.removeRule(text, from: list, by: context.actor, logger: context.logger)
        return Response(status: .noContent)
    }
}

/// A rule as the admin API shows it.
struct AccessRuleView: Encodable {
    let list: String
    let cidr: String
    let reason: String
    let createdAt: Date
    let expiresAt: Date?

    init(_ rule: AccessRule) {
        list = rule.list.rawValue
        cidr = rule.cidr.description
        reason = rule.reason
        createdAt = rule.createdAt
        expiresAt = rule.expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case list, cidr, reason, createdAt = "created_at", expiresAt = "expires_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(list, forKey: .list)
        try c.encode(cidr, forKey: .cidr)
        try c.encode(reason, forKey: .reason)
        try c.encode(createdAt, forKey: .createdAt)
        // Always present: null for a rule that lasts until removed.
        try c.encode(expiresAt, forKey: .expiresAt)
    }
}
