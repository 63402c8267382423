import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `/admin`: the operator's live dashboard (API.md "Browser pages"), server-rendered like
/// the shop's pages and kept live by `GET /api/v1/admin/events`.
///
/// Without the admin token (the bearer header, or the session cookie that signing in sets)
/// every route answers the sign-in page and no sales data. The forms change state only with
/// a valid session, the session's anti-forgery token, and (when the browser sends one) an
/// `Origin` of this host; they call `OperatorActions`, as the JSON API does, and answer
/// 303 back to the dashboard, or the dashboard with the error beside what caused it.
struct ConsoleController: Sendable {
    let session: ConsoleSession
    let adminToken: [UInt8]
    let actions: OperatorActions
    let store: any Store
    let hub: EventsHub
    let renderer: PageRenderer

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("admin") { request, context in try await page(request, context: context) }
        router.post("admin/sign-in", use: signIn)
        router.post("admin/sign-out") { request, context in
            try await form(request, context: context) { _, _ in
                if let current = session.session(in: request, now: Date()) { session.revoke(current) }
                return Response(status: .seeOther, headers: [.location: "/admin", .setCookie: ConsoleSession.clearCookie])
            }
        }
        router.post("admin/sales") { request, context in
            try await form(request, context: context) { fields, actor in
                do {
                    let sale = try await actions.createSale(try ConsoleForms.newSale(fields), by: actor, logger: context.logger)
                    return Self.back(to: sale.id)
                } catch let error as APIError {
                    return try await page(request, context: context, status: .init(code: error.status), problem: .init(error, newSale: fields))
                }
            }
        }
        router.post("admin/sales/:id/:action") { request, context in
            try await form(request, context: context) { fields, actor in
                let id = try? context.uuidParameter("id", notFound: .saleNotFound)
                do {
                    guard let id, let sale = try await store.sale(id: id) else { throw APIError.saleNotFound }
                    let patch = try ConsoleForms.patch(action: context.parameters.get("action") ?? "", fields: fields, sale: sale, now: Date())
                    _ = try await actions.updateSale(id: id, patch: patch, by: actor, logger: context.logger)
                    return Self.back(to: id)
                } catch let error as APIError {
                    return try await page(request, context: context, status: .init(code: error.status), problem: .init(error, saleID: id))
                }
            }
        }
        router.post("admin/blocklist") { request, context in
            try await form(request, context: context) { fields, actor in
                do {
                    let new = NewAccessRule(cidr: fields["cidr"] ?? "", reason: fields["reason"].flatMap { $0.isEmpty ? nil : $0 })
                    _ = try await actions.addRule(new, on: .block, own: context.clientAddress, by: actor, logger: context.logger)
                    return Self.back(to: "blocklist")
                } catch let error as APIError {
                    return try await page(request, context: context, status: .init(code: error.status), problem: .init(error, section: "blocklist"))
                }
            }
        }
        router.post("admin/blocklist/remove") { request, context in
            try await form(request, context: context) { fields, actor in
                do {
                    try await actions.removeRule(fields["cidr"] ?? "", from: .block, by: actor, logger: context.logger)
                    return Self.back(to: "blocklist")
                } catch let error as APIError {
                    return try await page(request, context: context, status: .init(code: error.status), problem: .init(error, section: "blocklist"))
                }
            }
        }
        router.post("admin/orders/:id/cancel") { request, context in
            try await form(request, context: context) { _, actor in
                do {
                    let id = try context.uuidParameter("id", notFound: .orderNotFound)
                    _ = try await actions.cancelOrder(id: id, by: actor, logger: context.logger)
                    return Self.back(to: "orders")
                } catch let error as APIError {
                    return try await page(request, context: context, status: .init(code: error.status), problem: .init(error, section: "orders"))
                }
            }
        }
    }

    // MARK: - Signing in

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let fields = try await ConsoleForms.fields(request, context: context)
        guard Self.sameOrigin(request) else { return signInPage(error: "This form was sent from another site.", status: .forbidden) }
        guard AdminAuthMiddleware<AppRequestContext>.constantTimeEqual(Array((fields["token"] ?? "").utf8), adminToken) else {
            context.logger.notice("console sign-in refused")
            return signInPage(error: "That is not the admin token.", status: .unauthorized)
        }
        let (value, _) = session.issue(now: Date())
        context.logger.notice("console signed in")
        return Response(status: .seeOther, headers: [.location: "/admin", .setCookie: ConsoleSession.setCookie(value)])
    }

    private func signInPage(error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var view: [String: Any] = ["title": "Operator sign-in"]
        if let error { view["error"] = error }
        return renderer.render("console-sign-in", view, status: status)
    }

    /// How the request proved it is the operator: nil when it did not.
    private func operatorSession(_ request: Request) -> Authenticated? {
        if AdminAuthMiddleware<AppRequestContext>.isAuthorized(request, token: adminToken) { return .bearer }
        return session.session(in: request, now: Date()).map { .cookie($0) }
    }

    enum Authenticated {
        case bearer
        case cookie(ConsoleSession.Session)

        /// Who the audit records.
        var actor: AuditEntry.Actor {
            switch self {
            case .bearer: .adminToken
            case .cookie: .console
            }
        }
    }

    /// Runs a form's action for the operator: a bearer header (a script, not ambient), or
    /// a session cookie with the session's anti-forgery token and a same-site `Origin`.
    private func form(
        _ request: Request, context: AppRequestContext, _ action: ([String: String], AuditEntry.Actor) async throws -> Response
    ) async throws -> Response {
        guard let who = operatorSession(request) else { return signInPage(status: .unauthorized) }
        let fields = try await ConsoleForms.fields(request, context: context)
        if case .cookie(let current) = who {
            guard Self.sameOrigin(request), session.isValidFormToken(fields["csrf"] ?? "", for: current) else {
                context.logger.notice("console form refused: anti-forgery check failed")
                return renderer.render(
                    "message",
                    ["title": "Form expired", "headline": "This form has expired", "detail": "Reload the dashboard and try again."],
                    status: .forbidden)
            }
        }
        return try await action(fields, who.actor)
    }

    /// `Origin`, when the browser sends it, must name this host (OWASP: verifying origin
    /// with standard headers); `SameSite=Strict` already keeps the cookie off other sites.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    private static func back(to id: UUID) -> Response { back(to: "sale-\(id.lowercased)") }

    private static func back(to anchor: String) -> Response {
        Response(status: .seeOther, headers: [.location: "/admin#\(anchor)"])
    }

    // MARK: - The dashboard

    /// What went wrong with a form, shown beside what caused it.
    struct Problem {
        var message: String
        var saleID: UUID?
        var section: String?
        var newSale: [String: String]?
        var field: String?

        init(_ error: APIError, saleID: UUID? = nil, section: String? = nil, newSale: [String: String]? = nil) {
            message = error.message
            self.saleID = saleID
            self.section = section ?? (newSale != nil ? "new-sale" : nil)
            self.newSale = newSale
            // Validation messages start with the field at fault ("quantity must be ...").
            field = error.message.split(separator: " ").first.map(String.init)
        }
    }

    private func page(
        _ request: Request, context: AppRequestContext, status: HTTPResponse.Status = .ok, problem: Problem? = nil
    ) async throws -> Response {
        guard let who = operatorSession(request) else { return signInPage() }
        let token: String? =
            switch who {
            case .bearer: nil
            case .cookie(let current): session.formToken(for: current)
            }
        let now = Date()
        let event = try await hub.stats.snapshot(now: now)
        let sales = try await store.allSales()
        let rules = try await store.accessRules(now: now).filter { $0.list == .block }.sorted { $0.createdAt > $1.createdAt }
        let flagged = try await store.orders(flagged: true, saleID: nil, limit: 50)
        let audit = try await store.auditEntries(limit: 30, saleID: nil, before: nil)
        let view = ConsoleView(
            event: event, sales: sales, history: hub.history(), rules: rules, flagged: flagged, audit: audit, csrf: token, problem: problem,
            lottery: actions.waitingRoom.lottery(for:), now: now)
        return renderer.render("console", view.context, status: status, headers: [.cacheControl: "no-store"])
    }
}
