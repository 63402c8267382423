import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `/api/v1/admin`: the operator's sales API, behind the admin bearer token.
struct AdminController: Sendable {
    let store: any Store
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sales", use: create)
        group.get("sales", use: list)
        group.get("sales/:id", use: show)
        group.patch("sales/:id", use: update)
        group.get("sales/:id/stats", use: stats)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (new, _) = try await request.decodeJSON(NewSale.self, context: context)
        try new.validate()
        let now = Date()
        let sale = try await store.createSale(new, id: UUID(), now: now)
        catalog.install(sale, now: now)
        context.logger.info("sale created", metadata: ["sale": "\(sale.id.lowercased)", "sku": "\(sale.sku)"])
        var headers: HTTPFields = [:]
        headers[.location] = "/api/v1/admin/sales/\(sale.id.lowercased)"
        return try JSONResponse.encode(AdminSaleView(sale: sale, now: now, lottery: waitingRoom.lottery(for: sale.id)), status: .created, headers: headers)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let now = Date()
        let sales = try await store.allSales()
        return try JSONResponse.encode(["sales": sales.map { AdminSaleView(sale: $0, now: now, lottery: waitingRoom.lottery(for: $0.id)) }])
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await store.sale(id: id) else { throw APIError.saleNotFound }
        return try JSONResponse.encode(AdminSaleView(sale: sale, now: Date(), lottery: waitingRoom.lottery(for: sale.id)))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        let (patch, _) = try await request.decodeJSON(SalePatch.self, context: context)
        guard !patch.isEmpty else { throw APIError.validation("send at least one of paused, starts_at, ends_at, admission_rate_per_second") }
        let now = Date()
        guard let sale = try await store.updateSale(id: id, patch: patch, now: now) else { throw APIError.saleNotFound }
        catalog.install(sale, now: now)
        context.logger.info(
            "sale updated", metadata: ["sale": "\(id.lowercased)", "paused": "\(sale.paused)", "ends_at": "\(sale.endsAt)"])
        return try JSONResponse.encode(AdminSaleView(sale: sale, now: now, lottery: waitingRoom.lottery(for: sale.id)))
    }

    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await store.sale(id: id) else { throw APIError.saleNotFound }
        // The rate as this node applies it: its catalog's copy of the sale.
        let queue = waitingRoom.figures(for: catalog.entry(id)?.sale ?? sale, now: Date())
        let payments = try await store.paymentCounts(saleID: id)
        let view = SaleStatsView(
            saleID: id.lowercased, quantity: sale.quantity, available: sale.inventory.available,
            reserved: sale.inventory.reserved, sold: sale.inventory.sold,
            orders: payments.orders,
            queue: QueueFiguresView(figures: queue),
            payments: .init(
                succeeded: payments.succeeded, declined: payments.declined, unknown: payments.unknown,
                refunded: payments.refunded, failed: payments.failed))
        return try JSONResponse.encode(view)
    }
}
