import FlashSaleCore
import FlashSalePayments
import FlashSaleStore
import Foundation
import Logging
import Tracing

/// Paying for a reservation: the attempt is stored before the provider is called, the
/// provider is called with a key derived from the attempt, and its answer is settled in
/// one transaction with everything it implies. The API endpoint and the checkout page
/// both come through here; the reconciler finishes what a crash or a timeout left open.
final class CheckoutService: Sendable {
    let store: any Store
    /// The sale's price terms and limit, from the cache the reservation path reads too
    /// (one database round trip fewer per payment; an operator's change reaches it at once).
    let catalog: SaleCatalog
    /// The reservations this node committed, read instead of the store when there.
    let recentReservations: RecentReservations
    let provider: any PaymentProvider
    let idempotency: IdempotencyGuard
    let metrics: ShopMetrics
    let logger: Logger
    private let secret: String
    private let watch = ResellerWatch()
    /// Tells the inventory engine that a released reservation's units are back.
    private let unitsReturned: @Sendable (_ saleID: UUID, _ units: Int) -> Void

    init(
        store: any Store, catalog: SaleCatalog, recentReservations: RecentReservations,
        provider: any PaymentProvider, idempotency: IdempotencyGuard, secret: String, metrics: ShopMetrics, logger: Logger,
        unitsReturned: @escaping @Sendable (UUID, Int) -> Void = { _, _ in }
    ) {
        self.store = store
        self.catalog = catalog
        self.recentReservations = recentReservations
        self.provider = provider
        self.idempotency = idempotency
        self.secret = secret
        self.metrics = metrics
        self.logger = logger
        self.unitsReturned = unitsReturned
    }

    static func scope(reservationID: UUID) -> String { "payment:\(reservationID.lowercased)" }

    /// `POST /api/v1/reservations/{id}/payment` under `key`: the response to give, which a
    /// retry with the same key and body gets again.
    /// - Parameter client: the shield's client address, for the reseller checks (nil in
    ///   in-process tests).
    func pay(reservationID: UUID, key: String, body: Data, client: [UInt8]?) async throws -> StoredResponse {
        let claim = IdempotencyClaim(scope: Self.scope(reservationID: reservationID), key: key, body: body)
        return try await CheckoutPriority.run {
            try await self.pay(claim: claim, reservationID: reservationID, body: body, client: client)
        }
    }

    private func pay(claim: IdempotencyClaim, reservationID: UUID, body: Data, client: [UInt8]?) async throws -> StoredResponse {
        try await idempotency.exclusive(claim) {
            let now = Date()
            let request: PaymentBody
            do {
                request = try JSONCoding.decodeBody(PaymentBody.self, from: body)
                try request.validate(now: now)
            } catch {
                // A retry replays its answer even if its body would be refused today (a
                // card expired since). A payment's first try reads no attempt here: the
                // begin below finds one under its locks, one round trip fewer (issue 15).
                guard let existing = try await store.payment(scope: claim.scope, key: claim.key) else { throw error }
                return try await retry(existing, claim: claim, body: body)
            }
            var found = recentReservations.record(id: reservationID, now: now)
            if found == nil { found = try await store.reservation(id: reservationID) }
            guard let reservation = found else { throw APIError.reservationNotFound }
            guard let sale = try await catalog.sale(reservation.saleID) else { throw APIError.reservationNotFound }
            let postal = request.shipping.postal
            let fingerprint = request.card.fingerprint(secret: secret)
            let flags = resellerFlags(
                saleID: sale.id, reservation: reservation, fingerprint: fingerprint, building: postal.buildingKey, client: client, now: now)
            let payment = PaymentRecord(
                id: .timeOrdered(), reservationID: reservation.id, saleID: sale.id, status: .pending, email: reservation.email,
                quantity: reservation.quantity, amountCents: reservation.amountCents, currency: sale.currency,
                cardFingerprint: fingerprint, addressKey: postal.doorKey,
                chargeID: nil, idempotency: claim, response: nil, createdAt: now, updatedAt: now, flags: flags)
            let begun = try await store.traced("begin_payment") {
                try await store.beginPayment(payment, perCustomerLimit: sale.perCustomerLimit, now: now)
            }
            switch begun {
            case .refused(let refusal):
                metrics.payment(saleID: sale.id, outcome: refusal.code)
                if refusal.code == APIError.limitExceeded.code { try await release(reservation) }
                throw refusal
            case .existing(let existing):
                return try await retry(existing, claim: claim, body: body)
            case .started(let started):
                return try await charge(started, card: request.card, reservation: reservation)
            }
        }
    }

    /// The reseller flags of a payment attempt (`RiskScore.payment` over `ResellerWatch`),
    /// empty below the flag threshold.
    private func resellerFlags(
        saleID: UUID, reservation: ReservationRecord, fingerprint: String, building: String, client: [UInt8]?, now: Date
    ) -> [String] {
        let attempt = ResellerWatch.Attempt(
            customer: reservation.customerKey, cardFingerprint: fingerprint, building: building,
            emailDomain: String(reservation.customerKey.split(separator: "@").last ?? ""),
            network: client.map(ClientLimits.network(of:)))
        let signals = watch.assess(saleID: saleID, attempt: attempt, secondsToPay: now.timeIntervalSince(reservation.createdAt))
        let score = RiskScore.payment(signals)
        let flags = score.flags()
        if !flags.isEmpty {
            logger.info(
                "payment flagged", metadata: ["reservation": "\(reservation.id.lowercased)", "flags": "\(flags)", "score": "\(score)"])
        }
        return flags
    }

    /// A payment refused for the per-customer limit releases its reservation at once: the
    /// customer's card or door has had its share, and holding the units until expiry would
    /// keep them from shoppers who have not (a reseller farm would hold one per fake name).
    private func release(_ reservation: ReservationRecord) async throws {
        guard case .released(let saleID, let units) = try await store.cancelReservation(id: reservation.id, now: Date()) else { return }
        unitsReturned(saleID, units)
        logger.info("reservation released: payment over the per-customer limit", metadata: ["reservation": "\(reservation.id.lowercased)"])
    }

    /// The same key again: a settled attempt replays its answer; an open one asks the
    /// provider again with the attempt's own key, which cannot charge twice.
    private func retry(_ payment: PaymentRecord, claim: IdempotencyClaim, body: Data) async throws -> StoredResponse {
        guard payment.idempotency.fingerprint == claim.fingerprint else { throw APIError.idempotencyKeyReused }
        guard payment.isUnresolved else { return Self.response(for: payment) }
        let request = try JSONCoding.decodeBody(PaymentBody.self, from: body)
        return try await charge(payment, card: request.card, reservation: nil)
    }

    /// Charges the begun `payment` and settles it; `reservation` is the one it was begun on
    /// (nil on a retry), for the store's `SettlementHint`.
    private func charge(_ payment: PaymentRecord, card: CardDetails, reservation: ReservationRecord?) async throws -> StoredResponse {
        let request = ChargeRequest(
            amountCents: payment.amountCents, currency: payment.currency,
            card: card,
            reference: payment.id.lowercased)
        let result: ChargeResult
        do {
            let outcome = try await withSpanWhenTracing("payment.charge") { span in
                span.attributes["flashsale.payment_id"] = payment.id.lowercased
                return try await chargeUnlessUnsent(request, key: payment.providerKey)
            }
            switch outcome {
            case .succeeded(let chargeID): result = .charged(chargeID: chargeID)
            case .declined(let reason): result = .declined(reason: reason)
            }
        } catch PaymentProviderError.notSent(let message), PaymentProviderError.unreachable(let message) {
            // It never reached the provider (even after the retries, when waiting for a
            // connection): nothing was charged, and the shopper hears so now rather than
            // after the reconciler's grace.
            logger.warning("payment not sent to the provider", metadata: ["payment": "\(payment.id.lowercased)", "reason": "\(message)"])
            result = .notCharged
        } catch PaymentProviderError.rejected(_, let message) {
            // The provider refused the request itself: nothing was charged.
            logger.warning("provider rejected a charge", metadata: ["payment": "\(payment.id.lowercased)", "reason": "\(message)"])
            result = .notCharged
        } catch {
            logger.warning("payment outcome unknown", metadata: ["payment": "\(payment.id.lowercased)", "error": "\(error)"])
            result = .unknown
        }
        return Self.response(for: try await settle(payment, result, hint: reservation.map { SettlementHint(payment: payment, reservation: $0) }))
    }

    /// Delays before each new try of a call that waited too long for a pooled connection
    /// (seconds): a queue behind held connections drains once they time out. A provider
    /// that refuses connections is not tried again (`.unreachable`).
    static let unsentRetryDelays: [Double] = [0.05, 0.25, 0.5]

    /// The charge, tried again (same key, so at most one charge) while the request never
    /// reached the provider; a call that was sent is never repeated here (its outcome is
    /// for the reconciler).
    private func chargeUnlessUnsent(_ request: ChargeRequest, key: String) async throws -> ChargeOutcome {
        for delay in Self.unsentRetryDelays {
            do {
                return try await provider.charge(request, idempotencyKey: key)
            } catch PaymentProviderError.notSent {
                try await Task.sleep(for: .seconds(delay))
            }
        }
        return try await provider.charge(request, idempotencyKey: key)
    }

    /// Applies the provider's answer; the reconciler settles through here too.
    func settle(_ payment: PaymentRecord, _ result: ChargeResult, hint: SettlementHint? = nil) async throws -> PaymentRecord {
        let settled = try await store.traced("settle_payment") {
            try await store.settlePayment(id: payment.id, result: result, now: Date(), hint: hint)
        }
        guard let settled else {
            throw StoreError.corruptRow("payment \(payment.id.lowercased) vanished")
        }
        if settled.status != payment.status {
            metrics.payment(saleID: settled.saleID, outcome: settled.status.rawValue)
            if settled.status == .paid { for flag in settled.flags { metrics.orderFlagged(flag: flag) } }
            logger.info(
                "payment settled",
                metadata: [
                    "payment": "\(settled.id.lowercased)", "status": "\(settled.status.rawValue)",
                    "reservation": "\(settled.reservationID.lowercased)",
                ])
        }
        return settled
    }

    /// The settled answer, or 202 with the order id while the outcome is not known.
    static func response(for payment: PaymentRecord) -> StoredResponse {
        payment.response ?? PaymentPlanner.orderResponse(payment, status: 202)
    }
}
