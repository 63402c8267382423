import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird

/// `POST /api/v1/sales/{id}/reservations` and `DELETE /api/v1/reservations/{id}`.
struct ReservationController: Sendable {
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let engine: InventoryEngine
    let idempotency: IdempotencyGuard
    let metrics: ShopMetrics
    /// Where new reservations go for checkout to find without a read.
    let recent: RecentReservations

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sales/:id/reservations", use: reserve)
        group.delete("reservations/:id", use: cancel)
    }

    @Sendable func reserve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try IdempotencyGuard.key(in: request)
        let saleID = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await catalog.sale(saleID) else { throw APIError.saleNotFound }
        let now = Date()
        guard let pass = waitingRoom.pass(in: request, sale: sale, now: now), pass.isAdmitted else {
            throw APIError.notAdmitted
        }
        let body = try await request.collectBody(limit: context.maxUploadSize)
        return JSONResponse.stored(try await reserve(body: body, key: key, pass: pass, sale: sale, now: now))
    }

    /// Reserves for an admitted pass under an idempotency key; the checkout page's form
    /// comes through here too, so both answer a replay alike.
    func reserve(body: Data, key: String, pass: QueuePass, sale: Sale, now: Date) async throws -> StoredResponse {
        // Keys are scoped to the endpoint, the sale and the shopper's pass.
        let claim = IdempotencyClaim(
            scope: "reservations:\(sale.id.lowercased):\(pass.visitorID.lowercased)", key: key, body: body)
        return try await CheckoutPriority.run {
            try await idempotency.run(claim) { () async throws -> IdempotencyGuard.Answer in
                let attempt = try Self.attempt(from: body, claim: claim, pass: pass, sale: sale, now: now)
                let answer = try await engine.reserve(attempt, knownAvailable: sale.inventory.available)
                metrics.reservation(saleID: sale.id, outcome: Self.label(answer.outcome))
                if case .reserved = answer.outcome { waitingRoom.reserved(pass: pass, saleID: sale.id, now: Date()) }
                if let held = answer.held { recent.add(held, now: Date()) }
                return .init(response: answer.outcome.response, recorded: answer.recorded)
            }
        }
    }

    /// Every check that needs no store, in the order the contract implies.
    static func attempt(
        from body: Data, claim: IdempotencyClaim, pass: QueuePass, sale: Sale, now: Date
    ) throws(APIError) -> ReservationAttempt {
        let request = try JSONCoding.decodeBody(ReservationBody.self, from: body)
        guard let customerKey = CustomerKey.email(try EmailAddress(request.email)) else {
            throw .validation("email must be a valid email address")
        }
        guard request.quantity >= 1 else { throw .validation("quantity must be at least 1") }
        switch sale.status(at: now) {
        case .ended: throw .saleEnded
        case .paused: throw .salePaused
        case .scheduled: throw .notAdmitted
        case .live, .soldOut: break
        }
        guard request.quantity <= sale.perCustomerLimit else { throw .limitExceeded }
        // Never hold units past the end of the sale.
        let expiresAt = min(now.addingTimeInterval(TimeInterval(sale.reservationTTLSeconds)), sale.endsAt)
        return ReservationAttempt(
            saleID: sale.id, passID: pass.visitorID, email: request.email.trimmingCharacters(in: .whitespacesAndNewlines),
            customerKey: customerKey, quantity: request.quantity, amountCents: request.quantity * sale.priceCents,
            perCustomerLimit: sale.perCustomerLimit, expiresAt: expiresAt, idempotency: claim)
    }

    static func label(_ outcome: ReservationOutcome) -> String {
        switch outcome {
        case .reserved: "reserved"
        case .rejected(let error): error.code
        case .replayed: "replayed"
        }
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .reservationNotFound)
        let store = engine.store
        switch try await CheckoutPriority.run({ try await store.cancelReservation(id: id, now: Date()) }) {
        case .released(let saleID, let units):
            engine.unitsReturned(saleID: saleID, units: units)
            context.logger.info("reservation cancelled", metadata: ["reservation": "\(id.lowercased)", "units": "\(units)"])
            return Response(status: .noContent)
        case .alreadyReleased:
            return Response(status: .noContent)
        case .paid:
            throw APIError.reservationClosed
        case .notFound:
            throw APIError.reservationNotFound
        }
    }
}
