import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `/api/v1/admin/orders` (behind the admin token): the orders the bot and reseller checks
/// flagged, and the operator's cancel, which refunds an order through the outbox and puts
/// its units back on sale.
struct AdminOrdersController: Sendable {
    let store: any Store
    let actions: OperatorActions

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("orders", use: list)
        group.post("orders/:id/cancel", use: cancel)
    }

    /// `?flagged=true|false` (false or absent: every order), `sale_id`, `limit` (1…1,000,
    /// 100) → `{"orders": [order, ...]}`, newest first; a value that does not parse is 422.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let filter = try OrderFilter(request.uri.queryParameters)
        let orders = try await store.orders(flagged: filter.flagged, saleID: filter.saleID, limit: filter.limit)
        return try JSONResponse.encode(["orders": orders.map(AdminOrderView.init)])
    }

    /// 200 with the order, also when it was cancelled before (no second refund); 404 for an
    /// unknown id or a declined attempt (no order, as `GET /api/v1/orders/{id}` says); 409
    /// `order_not_cancellable` while its payment is unresolved or when it took no money.
    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .orderNotFound)
        let payment = try await actions.cancelOrder(id: id, by: context.actor, logger: context.logger)
        return try JSONResponse.encode(AdminOrderView(payment: payment))
    }
}

/// The list's query parameters.
struct OrderFilter: Equatable {
    var flagged = false
    var saleID: UUID?
    var limit = 100

    static let limits = 1...1_000

    init(_ query: Parameters) throws(APIError) {
        if let text = query.get("flagged") {
            switch text {
            case "true": flagged = true
            case "false": flagged = false
            default: throw .validation("flagged must be true or false")
            }
        }
        saleID = try query.saleID()
        limit = try query.limit(in: Self.limits, fallback: limit)
    }
}

/// An order as the operator reviews it: the shopper's `OrderView` plus the reasons it was
/// flagged and the attempt's own status (a cancelled order is `refunding` until the
/// provider confirms the refund; the shopper sees `pending`).
struct AdminOrderView: Encodable {
    let payment: PaymentRecord

    enum CodingKeys: String, CodingKey {
        case flags, paymentStatus = "payment_status"
    }

    func encode(to encoder: any Encoder) throws {
        try OrderView(payment: payment).encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(payment.flags, forKey: .flags)
        try c.encode(payment.status.rawValue, forKey: .paymentStatus)
    }
}
