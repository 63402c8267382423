import Foundation

/// The shopper's body for `POST /api/v1/sales/{id}/reservations`.
public struct ReservationBody: Sendable, Decodable {
    public var email: String
    public var quantity: Int

    enum CodingKeys: String, CodingKey { case email, quantity }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        email = try c.decode(String.self, forKey: .email)
        quantity = try c.decodeIfPresent(Int.self, forKey: .quantity) ?? 1
    }
}

/// One reservation that has passed every check the server can make without the store,
/// waiting for the inventory engine to commit it.
public struct ReservationAttempt: Sendable {
    public var reservationID: UUID
    public var saleID: UUID
    /// The visitor id of the admitted pass: one live reservation per pass.
    public var passID: UUID
    public var email: String
    public var customerKey: String
    public var quantity: Int
    public var amountCents: Int
    public var perCustomerLimit: Int
    public var expiresAt: Date
    public var idempotency: IdempotencyClaim

    public init(
        reservationID: UUID = UUID(), saleID: UUID, passID: UUID, email: String, customerKey: String, quantity: Int,
        amountCents: Int, perCustomerLimit: Int, expiresAt: Date, idempotency: IdempotencyClaim
    ) {
        self.reservationID = reservationID
        self.saleID = saleID
        self.passID = passID
        self.email = email
        self.customerKey = customerKey
        self.quantity = quantity
        self.amountCents = amountCents
        self.perCustomerLimit = perCustomerLimit
        self.expiresAt = expiresAt
        self.idempotency = idempotency
    }

    /// The 201 body of a committed reservation.
    public var receipt: ReservationReceipt {
        ReservationReceipt(
            reservationID: reservationID, saleID: saleID, quantity: quantity, expiresAt: expiresAt,
            amountCents: amountCents)
    }
}

public struct ReservationReceipt: Sendable, Codable, Equatable {
    public var reservationID: UUID
    public var saleID: UUID
    public var quantity: Int
    public var expiresAt: Date
    public var amountCents: Int

    enum CodingKeys: String, CodingKey {
        case reservationID = "reservation_id", saleID = "sale_id", quantity, expiresAt = "expires_at"
        case amountCents = "amount_cents"
    }

    public init(reservationID: UUID, saleID: UUID, quantity: Int, expiresAt: Date, amountCents: Int) {
        self.reservationID = reservationID
        self.saleID = saleID
        self.quantity = quantity
        self.expiresAt = expiresAt
        self.amountCents = amountCents
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reservationID.lowercased, forKey: .reservationID)
        try c.encode(saleID.lowercased, forKey: .saleID)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(expiresAt, forKey: .expiresAt)
        try c.encode(amountCents, forKey: .amountCents)
    }
}

/// How the engine answered one attempt; each becomes the stored response of its key.
public enum ReservationOutcome: Sendable, Equatable {
    case reserved(ReservationReceipt)
    case rejected(APIError)
    /// The key was already used: the stored response of the first request (or 422/409).
    case replayed(StoredResponse)

    public var response: StoredResponse {
        switch self {
        case .reserved(let receipt):
            // Encoding a plain struct of strings and integers cannot fail.
            StoredResponse(status: 201, body: try! JSONCoding.encoder().encode(receipt))
        case .rejected(let error): StoredResponse(error)
        case .replayed(let stored): stored
        }
    }
}

extension UUID {
    /// The textual id used on the wire and in both stores.
    public var lowercased: String { uuidString.lowercased() }
}
