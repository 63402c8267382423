import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `/api/v1/admin`: the operator's sales API, behind the admin bearer token. Changes go
/// through `OperatorActions`, as the dashboard's do.
struct AdminController: Sendable {
    let store: any Store
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let actions: OperatorActions

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sales", use: create)
        group.get("sales", use: list)
        group.get("sales/:id", use: show)
        group.patch("sales/:id", use: update)
        group.get("sales/:id/stats", use: stats)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (new, _) = try await request.decodeJSON(NewSale.self, context: context)
        let sale = try await actions.createSale(new, by: context.actor, logger: context.logger)
        var headers: HTTPFields = [:]
        headers[.location] = "/api/v1/admin/sales/\(sale.id.lowercased)"
        return try JSONResponse.encode(actions.adminView(of: sale, now: Date()), status: .created, headers: headers)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let now = Date()
        let sales = try await store.allSales()
        return try JSONResponse.encode(["sales": sales.map { actions.adminView(of: $0, now: now) }])
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await store.sale(id: id) else { throw APIError.saleNotFound }
        return try JSONResponse.encode(actions.adminView(of: sale, now: Date()))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        let (patch, _) = try await request.decodeJSON(SalePatch.self, context: context)
        let sale = try await actions.updateSale(id: id, patch: patch, by: context.actor, logger: context.logger)
        return try JSONResponse.encode(actions.adminView(of: sale, now: Date()))
    }

    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await store.sale(id: id) else { throw APIError.saleNotFound }
        // The rate as this node applies it: its catalog's copy of the sale.
        let queue = waitingRoom.figures(for: catalog.entry(id)?.sale ?? sale, now: Date())
        let payments = try await store.paymentCounts(saleID: id)
        return try JSONResponse.encode(SaleStatsView(sale: sale, payments: payments, queue: queue))
    }
}
