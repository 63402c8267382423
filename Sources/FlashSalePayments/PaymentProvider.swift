import FlashSaleCore
import Foundation

/// A payment card as the shopper typed it: the shop's own card type, so the card the
/// shop validated is the card it sends. JSON: `number`, `exp_month`, `exp_year`, `cvc`.
public typealias PaymentCard = CardDetails

/// One charge to make. JSON: `amount_cents`, `currency`, `card`, `reference`.
public struct ChargeRequest: Codable, Sendable, Equatable {
    public var amountCents: Int
    /// ISO 4217 code in capitals, such as `USD`.
    public var currency: String
    public var card: PaymentCard
    /// The shop's own name for what is paid for (an order or reservation id).
    public var reference: String

    public init(amountCents: Int, currency: String, card: PaymentCard, reference: String) {
        self.amountCents = amountCents
        self.currency = currency
        self.card = card
        self.reference = reference
    }

    enum CodingKeys: String, CodingKey {
        case currency, card, reference
        case amountCents = "amount_cents"
    }
}

/// The provider's definite answer to a charge.
public enum ChargeOutcome: Sendable, Equatable {
    case succeeded(chargeID: String)
    /// Nothing was charged. `reason` is `card_declined`, `insufficient_funds` or `invalid_card`.
    case declined(reason: String)
}

/// A successful charge as the provider keeps it.
public struct ProviderCharge: Codable, Sendable, Equatable {
    public var id: String
    public var idempotencyKey: String
    public var amountCents: Int
    public var currency: String
    public var reference: String
    public var cardLast4: String
    public var createdAt: Date
    public var refunded: Bool

    public init(
        id: String, idempotencyKey: String, amountCents: Int, currency: String, reference: String, cardLast4: String,
        createdAt: Date, refunded: Bool
    ) {
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.amountCents = amountCents
        self.currency = currency
        self.reference = reference
        self.cardLast4 = cardLast4
        self.createdAt = createdAt
        self.refunded = refunded
    }

    enum CodingKeys: String, CodingKey {
        case id, currency, reference, refunded
        case idempotencyKey = "idempotency_key"
        case amountCents = "amount_cents"
        case cardLast4 = "card_last4"
        case createdAt = "created_at"
    }
}

/// A refund of the whole amount of one charge.
public struct ProviderRefund: Codable, Sendable, Equatable {
    public var id: String
    public var chargeID: String
    public var idempotencyKey: String
    public var amountCents: Int
    public var createdAt: Date

    public init(id: String, chargeID: String, idempotencyKey: String, amountCents: Int, createdAt: Date) {
        self.id = id
        self.chargeID = chargeID
        self.idempotencyKey = idempotencyKey
        self.amountCents = amountCents
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case chargeID = "charge_id"
        case idempotencyKey = "idempotency_key"
        case amountCents = "amount_cents"
        case createdAt = "created_at"
    }
}

/// Every successful charge and every refund, oldest first. Declines are not in it.
public struct ProviderLedger: Codable, Sendable, Equatable {
    public var charges: [ProviderCharge]
    public var refunds: [ProviderRefund]

    public init(charges: [ProviderCharge], refunds: [ProviderRefund]) {
        self.charges = charges
        self.refunds = refunds
    }
}

/// Failures that are not a decline.
public enum PaymentProviderError: Error, Equatable {
    /// A timeout, a 5xx or a lost connection: the charge may or may not exist. Look it up
    /// by its idempotency key (or retry with the same key) before deciding anything.
    case unknownOutcome(String)
    /// The request waited too long for a pooled connection and never left the shop: nothing
    /// can have been charged, and a retry a moment later may go through.
    case notSent(String)
    /// The provider could not be reached (connection refused, connect timeout): nothing can
    /// have been charged, and retrying at once would only wait again.
    case unreachable(String)
    /// The provider refused the request itself (a 4xx other than a decline): nothing happened.
    /// `message` reads `code: sentence`, such as `already_refunded: This charge was already refunded.`
    case rejected(status: Int, message: String)
}

/// What the shop needs of a payment provider. Every call is safe to retry with the same
/// idempotency key: the provider does the work at most once per key.
public protocol PaymentProvider: Sendable {
    /// Charges the card, or replays the answer already given for `idempotencyKey`.
    func charge(_ request: ChargeRequest, idempotencyKey: String) async throws -> ChargeOutcome
    /// The successful charge made with `idempotencyKey`; nil when there is none (never
    /// attempted, failed before charging, or declined).
    func charge(idempotencyKey: String) async throws -> ProviderCharge?
    /// Refunds the whole charge, or replays the refund already made for `idempotencyKey`.
    func refund(chargeID: String, idempotencyKey: String) async throws -> ProviderRefund
    /// Every charge and refund, for reconciliation.
    func ledger() async throws -> ProviderLedger
}
