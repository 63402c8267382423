import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `/api/v1/admin/orders` (behind the admin token): the orders the bot and reseller checks
/// flagged, and the operator's cancel, which refunds an order through the outbox and puts
/// its units back on sale.
struct AdminOrdersController: Sendable {
    let store: any Store
    let engine: InventoryEngine

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
        switch try await store.cancelOrder(id: id, now: Date()) {
        case .cancelled(let saleID, let units, let payment):
            // As after DELETE /api/v1/reservations/{id}: waiting shoppers can be admitted for
            // these units now, not at the next catalog refresh.
            engine.unitsReturned(saleID: saleID, units: units)
            context.logger.notice(
                "order cancelled by the operator; refund queued",
                metadata: [
                    "order": "\(id.lowercased)", "sale": "\(saleID.lowercased)", "units": "\(units)",
                    "flags": "\(payment.flags.joined(separator: ","))",
                ])
            return try JSONResponse.encode(AdminOrderView(payment: payment))
        case .alreadyCancelled(let payment):
            return try JSONResponse.encode(AdminOrderView(payment: payment))
        case .notCancellable(let payment):
            throw payment.status == .declined ? APIError.orderNotFound : APIError.orderNotCancellable
        case .notFound:
            throw APIError.orderNotFound
        }
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
        if let text = query.get("sale_id") {
            guard let id = UUID(uuidString: text) else { throw .validation("sale_id must be a sale id (a UUID)") }
            saleID = id
        }
        if let text = query.get("limit") {
            guard let limit = Int(text), Self.limits.contains(limit) else {
                throw .validation("limit must be a whole number from \(Self.limits.lowerBound) to \(Self.limits.upperBound)")
            }
            self.limit = limit
        }
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
