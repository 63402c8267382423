import Foundation

/// One payment attempt on a reservation: stored `pending` before the provider is called,
/// so a crash at any point leaves a row for the reconciler. Its id is also the order id.
///
/// ```
/// pending ─► paid ─────────────────────────► (order)
///    │  └──► refunding ─► refunded           (charged, but the reservation could not take it)
///    ├─► declined                            (the card was refused: the reservation stays held)
///    ├─► failed                              (the provider never charged)
///    └─► unknown ─► paid | refunding | failed  (timeout: the reconciler asks the provider)
/// ```
public struct PaymentRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case pending, unknown, declined, failed, paid, refunding, refunded
    }

    public var id: UUID
    public var reservationID: UUID
    public var saleID: UUID
    public var status: Status
    public var email: String
    public var quantity: Int
    public var amountCents: Int
    public var currency: String
    public var cardFingerprint: String
    public var addressKey: String
    public var chargeID: String?
    /// The shopper's `Idempotency-Key`, scoped, and the fingerprint of the body it came with.
    public var idempotency: IdempotencyClaim
    /// The answer given to the shopper once the attempt is settled.
    public var response: StoredResponse?
    public var createdAt: Date
    public var updatedAt: Date
    /// Why the bot and reseller checks flagged this order (`shared_card`, `address_cluster`,
    /// `email_cluster`, `fast_checkout`, `address_farm`, …): machine codes, sorted, each
    /// once; empty when nothing was flagged. Stored with the attempt by `beginPayment`.
    public var flags: [String]

    public init(
        id: UUID, reservationID: UUID, saleID: UUID, status: Status, email: String, quantity: Int, amountCents: Int,
        currency: String, cardFingerprint: String, addressKey: String, chargeID: String?, idempotency: IdempotencyClaim,
        response: StoredResponse?, createdAt: Date, updatedAt: Date, flags: [String] = []
    ) {
        self.id = id
        self.reservationID = reservationID
        self.saleID = saleID
        self.status = status
        self.email = email
        self.quantity = quantity
        self.amountCents = amountCents
        self.currency = currency
        self.cardFingerprint = cardFingerprint
        self.addressKey = addressKey
        self.chargeID = chargeID
        self.idempotency = idempotency
        self.response = response
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.flags = Array(Set(flags)).sorted()
    }

    /// The provider's idempotency key: derived from the attempt, so every retry of this
    /// attempt (by the shopper or the reconciler) is the same charge at the provider.
    public var providerKey: String { "flashsale-payment-\(id.lowercased)" }

    /// The attempt as stored by `beginPayment`.
    public func started(at now: Date) -> PaymentRecord {
        var started = self
        started.status = .pending
        started.createdAt = now
        started.updatedAt = now
        return started
    }

    /// Whether the provider has been asked and no answer is recorded yet.
    public var isUnresolved: Bool { status == .pending || status == .unknown }

    /// Statuses of attempts that are orders for the operator: charged (paid, refunding,
    /// refunded) or possibly charged (pending, unknown). Declined and failed attempts took
    /// no money.
    public static let orderStatuses: [Status] = [.pending, .unknown, .paid, .refunding, .refunded]

    /// `GET /api/v1/orders/{id}`'s status: what the shopper's money did.
    public var orderStatus: String {
        switch status {
        case .paid: "paid"
        case .refunded: "refunded"
        case .pending, .unknown, .refunding: "pending"
        case .declined, .failed: "failed"
        }
    }
}

/// What the provider said about a charge.
public enum ChargeResult: Sendable, Equatable {
    case charged(chargeID: String)
    case declined(reason: String)
    /// No answer (timeout, connection lost): the charge may exist.
    case unknown
    /// The provider confirmed there is no charge with this attempt's key.
    case notCharged
}

/// The pure decisions of checkout, shared by both stores: they read the facts inside
/// their transaction and apply what these functions decide.
public enum PaymentPlanner {
    /// What the store knows about a reservation when a payment starts.
    public struct Facts: Sendable {
        public var reservation: ReservationRecord?
        public var perCustomerLimit: Int
        /// Another attempt on this reservation is with the provider right now.
        public var attemptInFlight: Bool
        /// Units bought or being bought on this sale with the same card / address, on
        /// other reservations.
        public var cardUnits: Int
        public var addressUnits: Int

        public init(reservation: ReservationRecord?, perCustomerLimit: Int, attemptInFlight: Bool, cardUnits: Int, addressUnits: Int) {
            self.reservation = reservation
            self.perCustomerLimit = perCustomerLimit
            self.attemptInFlight = attemptInFlight
            self.cardUnits = cardUnits
            self.addressUnits = addressUnits
        }
    }

    /// Nil when the provider may be called; otherwise the refusal.
    public static func refusal(_ facts: Facts, now: Date) -> APIError? {
        guard let reservation = facts.reservation else { return .reservationNotFound }
        switch reservation.status {
        case .paid: return .alreadyPaid
        case .cancelled, .expired: return .reservationExpired
        case .held: break
        }
        if reservation.expiresAt <= now { return .reservationExpired }
        if facts.attemptInFlight { return .paymentInProgress }
        let limit = facts.perCustomerLimit
        if facts.cardUnits + reservation.quantity > limit || facts.addressUnits + reservation.quantity > limit {
            return .limitExceeded
        }
        return nil
    }

    /// A charge exists: nil when the reservation can become the order, otherwise why the
    /// charge must be refunded.
    public static func refundReason(for reservation: ReservationRecord?, now: Date) -> APIError? {
        guard let reservation else { return .reservationExpired }
        switch reservation.status {
        case .paid: return .alreadyPaid
        case .cancelled, .expired: return .reservationExpired
        case .held: return reservation.expiresAt <= now ? .reservationExpired : nil
        }
    }

    /// The 201 of a paid order, and the 202 of an attempt whose outcome is not known yet.
    public static func orderResponse(_ payment: PaymentRecord, status: Int) -> StoredResponse {
        let body = OrderReceipt(
            orderID: payment.id.lowercased, status: payment.orderStatus, amountCents: payment.amountCents,
            reservationID: payment.reservationID.lowercased)
        return StoredResponse(status: status, body: (try? JSONCoding.encoder().encode(body)) ?? Data())
    }
}

/// The body of `POST /api/v1/reservations/{id}/payment` when an order exists or may.
public struct OrderReceipt: Sendable, Codable, Equatable {
    public var orderID: String
    public var status: String
    public var amountCents: Int
    public var reservationID: String

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", status, amountCents = "amount_cents", reservationID = "reservation_id"
    }
}

/// Counts of one sale's payments for the stats endpoint.
public struct PaymentCounts: Sendable, Equatable {
    public var orders = 0
    public var succeeded = 0
    public var declined = 0
    public var unknown = 0
    public var refunded = 0
    /// No charge was made: the provider said so, or the call never reached it.
    public var failed = 0

    public init() {}

    public mutating func add(_ status: PaymentRecord.Status, count: Int) {
        switch status {
        case .paid:
            orders += count
            succeeded += count
        case .refunding, .refunded:
            succeeded += count
            refunded += count
        case .declined: declined += count
        case .pending, .unknown: unknown += count
        case .failed: failed += count
        }
    }
}

/// How a provider's answer changes an attempt; both stores apply these steps inside
/// their settling transaction.
public enum PaymentSettlement {
    public enum Step: Sendable, Equatable {
        /// A new status and, when final, the response the shopper's key replays.
        case record(PaymentRecord.Status, StoredResponse?)
        /// A charge exists: the order when `payable` and the reservation still holds,
        /// otherwise a refund.
        case charged(chargeID: String, payable: Bool)
    }

    /// Nil when the answer changes nothing (the attempt is settled already).
    public static func step(for payment: PaymentRecord, result: ChargeResult) -> Step? {
        switch (payment.status, result) {
        case (.pending, .charged(let id)), (.unknown, .charged(let id)):
            return .charged(chargeID: id, payable: true)
        case (.failed, .charged(let id)), (.declined, .charged(let id)):
            // A charge turned up for an attempt the shopper was told failed: give it back.
            return .charged(chargeID: id, payable: false)
        case (.pending, .declined(let reason)), (.unknown, .declined(let reason)):
            return .record(.declined, StoredResponse(APIError.paymentDeclined(reason)))
        case (.pending, .notCharged), (.unknown, .notCharged):
            return .record(.failed, StoredResponse(APIError.paymentFailed))
        case (.pending, .unknown), (.unknown, .unknown):
            return .record(.unknown, nil)
        default:
            return nil
        }
    }

    /// Applies `step` to `payment` as far as it goes without the reservation: a recorded
    /// outcome's status and response (answers nil), or a charge's id (answers the charge,
    /// whose `refusal` then decides between the order and a refund).
    public static func begin(_ step: Step, on payment: inout PaymentRecord) -> ChargeStart? {
        switch step {
        case .record(let status, let response):
            payment.status = status
            payment.response = response
            return nil
        case .charged(let chargeID, let payable):
            payment.chargeID = chargeID
            return ChargeStart(payable: payable)
        }
    }

    /// A charge to settle (`begin`): whether it may become the order.
    public struct ChargeStart: Sendable, Equatable {
        public var payable: Bool

        /// Why the charge is refunded, given its reservation as read; nil: it becomes the order.
        public func refusal(reservation: ReservationRecord?, now: Date) -> APIError? {
            payable ? PaymentPlanner.refundReason(for: reservation, now: now) : .paymentFailed
        }
    }

    /// The attempt after its charge: paid with the 201, or refunding with the refusal
    /// (an earlier answer to the shopper, if any, stands).
    public static func apply(refusal: APIError?, to payment: inout PaymentRecord) {
        if let refusal {
            payment.status = .refunding
            payment.response = payment.response ?? StoredResponse(refusal)
        } else {
            payment.status = .paid
            payment.response = PaymentPlanner.orderResponse(payment, status: 201)
        }
    }
}
