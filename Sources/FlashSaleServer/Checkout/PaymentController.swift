import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `POST /api/v1/reservations/{id}/payment` and `GET /api/v1/orders/{id}`.
struct PaymentController: Sendable {
    let checkout: CheckoutService

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("reservations/:id/payment", use: pay)
        group.get("orders/:id", use: order)
    }

    @Sendable func pay(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try IdempotencyGuard.key(in: request)
        let id = try context.uuidParameter("id", notFound: .reservationNotFound)
        let body = try await request.collectBody(limit: context.maxUploadSize)
        return JSONResponse.stored(try await checkout.pay(reservationID: id, key: key, body: body, client: context.clientAddress))
    }

    @Sendable func order(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .orderNotFound)
        // A declined attempt never became an order.
        guard let payment = try await checkout.store.payment(id: id), payment.status != .declined else {
            throw APIError.orderNotFound
        }
        var headers: HTTPFields = [:]
        headers[.cacheControl] = "no-store"
        return try JSONResponse.encode(OrderView(payment: payment), headers: headers)
    }
}

/// The order of API.md: what the shopper's money did, plus the reservation it paid.
struct OrderView: Encodable {
    let payment: PaymentRecord

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", status, amountCents = "amount_cents", currency, saleID = "sale_id", email
        case createdAt = "created_at", reservationID = "reservation_id", quantity
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(payment.id.lowercased, forKey: .orderID)
        try c.encode(payment.orderStatus, forKey: .status)
        try c.encode(payment.amountCents, forKey: .amountCents)
        try c.encode(payment.currency, forKey: .currency)
        try c.encode(payment.saleID.lowercased, forKey: .saleID)
        try c.encode(payment.email, forKey: .email)
        try c.encode(payment.createdAt, forKey: .createdAt)
        try c.encode(payment.reservationID.lowercased, forKey: .reservationID)
        try c.encode(payment.quantity, forKey: .quantity)
    }
}
