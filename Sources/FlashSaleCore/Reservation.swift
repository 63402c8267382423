import Foundation

/// The shopper's body for `POST /api/v1/sales/{id}/reservations`.
public struct ReservationBody: Sendable, Decodable {
    public var email: String
    public var quantity: Int

    enum CodingKeys: String, CodingKey { case email, quantity }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        email = try c.decode(String.self, forKey: .email)
        quantity = try c.decodeOptional(Int.self, forKey: .quantity) ?? 1
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
        reservationID: UUID = .timeOrdered(), saleID: UUID, passID: UUID, email: String, customerKey: String, quantity: Int,
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

    /// The held reservation this attempt is stored as when a batch commits it at `createdAt`.
    public func held(createdAt: Date) -> ReservationRecord {
        ReservationRecord(
            id: reservationID, saleID: saleID, passID: passID, email: email, customerKey: customerKey, quantity: quantity,
            amountCents: amountCents, status: .held, createdAt: createdAt, expiresAt: expiresAt)
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

    /// The 201 body, written directly: it is rendered for every reservation inside the
    /// committing transaction, where a JSONEncoder's cost is paid under the sale's lock.
    /// Same bytes as `JSONCoding.encoder()` would produce (sorted keys).
    public var json: Data {
        Data(
            ("{\"amount_cents\":\(amountCents),\"expires_at\":\"\(Timestamp.format(expiresAt))\",\"quantity\":\(quantity),"
                + "\"reservation_id\":\"\(reservationID.lowercased)\",\"sale_id\":\"\(saleID.lowercased)\"}").utf8)
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
            StoredResponse(status: 201, body: receipt.json)
        case .rejected(let error): StoredResponse(error)
        case .replayed(let stored): stored
        }
    }
}

extension UUID {
    /// The textual id used on the wire and in both stores (8-4-4-4-12 lowercase hex),
    /// written directly: `uuidString` goes through a formatted string and a case change.
    public var lowercased: String {
        let hex = Hex.encode(bytes)
        let digits = Array(hex.utf8)
        var output = [UInt8]()
        output.reserveCapacity(36)
        for (index, digit) in digits.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { output.append(0x2D) }
            output.append(digit)
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits. New
    /// rows land at the right edge of the primary-key B-tree instead of on random pages,
    /// which keeps a batch's writes to a few pages.
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        // The random bits of a version 4 UUID: one call into the system's generator.
        var bytes = UUID().bytes
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(bytes: bytes)
    }
}

/// A reservation as stored.
public struct ReservationRecord: Sendable, Equatable {
    public enum Status: String, Sendable {
        case held, paid, cancelled, expired
    }
    public var id: UUID
    public var saleID: UUID
    public var passID: UUID
    public var email: String
    public var customerKey: String
    public var quantity: Int
    public var amountCents: Int
    public var status: Status
    public var createdAt: Date
    public var expiresAt: Date

    public init(
        id: UUID, saleID: UUID, passID: UUID, email: String, customerKey: String, quantity: Int, amountCents: Int,
        status: Status, createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.saleID = saleID
        self.passID = passID
        self.email = email
        self.customerKey = customerKey
        self.quantity = quantity
        self.amountCents = amountCents
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
