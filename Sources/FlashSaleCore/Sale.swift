import Foundation

/// A flash sale as the operator defined it, plus its live inventory counts.
public struct Sale: Sendable, Equatable {
    public var id: UUID
    public var sku: String
    public var name: String
    public var priceCents: Int
    public var currency: String
    public var quantity: Int
    public var startsAt: Date
    public var endsAt: Date
    public var perCustomerLimit: Int
    public var reservationTTLSeconds: Int
    public var admissionRatePerSecond: Int
    public var paused: Bool
    public var createdAt: Date
    public var inventory: Inventory

    public init(
        id: UUID, sku: String, name: String, priceCents: Int, currency: String, quantity: Int,
        startsAt: Date, endsAt: Date, perCustomerLimit: Int, reservationTTLSeconds: Int,
        admissionRatePerSecond: Int, paused: Bool, createdAt: Date, inventory: Inventory
    ) {
        self.id = id
        self.sku = sku
        self.name = name
        self.priceCents = priceCents
        self.currency = currency
        self.quantity = quantity
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.perCustomerLimit = perCustomerLimit
        self.reservationTTLSeconds = reservationTTLSeconds
        self.admissionRatePerSecond = admissionRatePerSecond
        self.paused = paused
        self.createdAt = createdAt
        self.inventory = inventory
    }

    /// The shopper-facing status at `now`. Held units keep a sale `live` (they may come back).
    public func status(at now: Date) -> SaleStatus {
        if now >= endsAt { return .ended }
        if paused { return .paused }
        if now < startsAt { return .scheduled }
        if inventory.available == 0 && inventory.reserved == 0 { return .soldOut }
        return .live
    }
}

extension Sale {
    /// This sale with `available` as counted right now (the inventory engine's gate on this
    /// node) instead of as cached: units that went since the cache was read count as held,
    /// units that came back leave the held count, so the total stays the quantity.
    public func withLiveAvailable(_ live: Int?) -> Sale {
        guard let live, live != inventory.available else { return self }
        var copy = self
        copy.inventory.reserved = max(0, inventory.reserved + inventory.available - max(0, live))
        copy.inventory.available = max(0, live)
        return copy
    }
}

/// Where every unit of a sale is. `available + reserved + sold == quantity` always holds.
public struct Inventory: Sendable, Equatable, Codable {
    public var available: Int
    public var reserved: Int
    public var sold: Int

    public init(available: Int, reserved: Int, sold: Int) {
        self.available = available
        self.reserved = reserved
        self.sold = sold
    }

    public var total: Int { available + reserved + sold }
}

public enum SaleStatus: String, Sendable, Codable {
    case scheduled
    case live
    case soldOut = "sold_out"
    case ended
    case paused
}

/// The operator's request to create a sale, validated before it reaches a store.
public struct NewSale: Sendable, Equatable, Codable {
    public var sku: String
    public var name: String
    public var priceCents: Int
    public var currency: String
    public var quantity: Int
    public var startsAt: Date
    public var endsAt: Date
    public var perCustomerLimit: Int
    public var reservationTTLSeconds: Int
    public var admissionRatePerSecond: Int

    public init(
        sku: String, name: String, priceCents: Int, currency: String = "USD", quantity: Int,
        startsAt: Date, endsAt: Date, perCustomerLimit: Int = 1, reservationTTLSeconds: Int = 600,
        admissionRatePerSecond: Int = 50
    ) {
        self.sku = sku
        self.name = name
        self.priceCents = priceCents
        self.currency = currency
        self.quantity = quantity
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.perCustomerLimit = perCustomerLimit
        self.reservationTTLSeconds = reservationTTLSeconds
        self.admissionRatePerSecond = admissionRatePerSecond
    }

    enum CodingKeys: String, CodingKey {
        case sku, name, priceCents = "price_cents", currency, quantity, startsAt = "starts_at", endsAt = "ends_at"
        case perCustomerLimit = "per_customer_limit", reservationTTLSeconds = "reservation_ttl_seconds"
        case admissionRatePerSecond = "admission_rate_per_second"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sku = try c.decode(String.self, forKey: .sku)
        name = try c.decode(String.self, forKey: .name)
        priceCents = try c.decode(Int.self, forKey: .priceCents)
        currency = try c.decodeOptional(String.self, forKey: .currency) ?? "USD"
        quantity = try c.decode(Int.self, forKey: .quantity)
        startsAt = try c.decode(Date.self, forKey: .startsAt)
        endsAt = try c.decode(Date.self, forKey: .endsAt)
        perCustomerLimit = try c.decodeOptional(Int.self, forKey: .perCustomerLimit) ?? 1
        reservationTTLSeconds = try c.decodeOptional(Int.self, forKey: .reservationTTLSeconds) ?? 600
        admissionRatePerSecond = try c.decodeOptional(Int.self, forKey: .admissionRatePerSecond) ?? 50
    }

    /// Upper bounds keep arithmetic (price × quantity, rates, TTLs in dates) far from overflow.
    public static let maxQuantity = 10_000_000
    public static let maxPriceCents = 100_000_000_00
    public static let maxAdmissionRate = 1_000_000

    /// Checks every field; the first problem found is reported as a 422.
    public func validate() throws(APIError) {
        let trimmedSKU = sku.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmedSKU.isEmpty, sku.count <= 64, trimmedSKU == sku, !TextField.hasControlCharacters(sku) else {
            throw .validation("sku must be 1–64 characters without surrounding spaces or control characters")
        }
        try TextField.check(name, field: "name", maxLength: 200)
        guard (0...Self.maxPriceCents).contains(priceCents) else {
            throw .validation("price_cents must be between 0 and \(Self.maxPriceCents)")
        }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw .validation("currency must be a three-letter ISO 4217 code such as USD")
        }
        guard (1...Self.maxQuantity).contains(quantity) else {
            throw .validation("quantity must be between 1 and \(Self.maxQuantity)")
        }
        guard endsAt > startsAt else { throw .validation("ends_at must be after starts_at") }
        guard (1...1_000).contains(perCustomerLimit) else {
            throw .validation("per_customer_limit must be between 1 and 1000")
        }
        guard (1...86_400).contains(reservationTTLSeconds) else {
            throw .validation("reservation_ttl_seconds must be between 1 and 86400")
        }
        guard (1...Self.maxAdmissionRate).contains(admissionRatePerSecond) else {
            throw .validation("admission_rate_per_second must be between 1 and \(Self.maxAdmissionRate)")
        }
    }
}

/// The operator's change to a sale: pause or resume, or move the end.
public struct SalePatch: Sendable, Equatable, Codable {
    public var paused: Bool?
    /// A new opening; accepted only while the sale has not started (moving it brings the
    /// early birds' draw into the new opening second: `AdmissionController`).
    public var startsAt: Date?
    public var endsAt: Date?
    /// A new admission rate, applied by every node at its next catalog refresh.
    public var admissionRatePerSecond: Int?

    public init(paused: Bool? = nil, startsAt: Date? = nil, endsAt: Date? = nil, admissionRatePerSecond: Int? = nil) {
        self.paused = paused
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.admissionRatePerSecond = admissionRatePerSecond
    }

    enum CodingKeys: String, CodingKey {
        case paused, startsAt = "starts_at", endsAt = "ends_at", admissionRatePerSecond = "admission_rate_per_second"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        paused = try c.decodeOptional(Bool.self, forKey: .paused)
        startsAt = try c.decodeOptional(Date.self, forKey: .startsAt)
        endsAt = try c.decodeOptional(Date.self, forKey: .endsAt)
        admissionRatePerSecond = try c.decodeOptional(Int.self, forKey: .admissionRatePerSecond)
    }

    public var isEmpty: Bool { paused == nil && startsAt == nil && endsAt == nil && admissionRatePerSecond == nil }

    /// How far in the past a new `starts_at` may lie (seconds): enough for "now" sent by a
    /// slow client, not enough for a wrong year.
    public static let startsAtSlack: TimeInterval = 60

    /// Checks the patch against the sale it changes, at `now`: 422 when the window would
    /// close before it opens or the rate is out of range (the bounds of `NewSale`), 409 when
    /// `starts_at` moves after the sale has started (its line is already formed).
    public func validate(against sale: Sale, now: Date) throws(APIError) {
        if let startsAt, startsAt != sale.startsAt {
            guard now < sale.startsAt else { throw .saleAlreadyStarted }
            // "Open now" arrives a moment late; a start long past is a typo, not an intent.
            guard startsAt >= now.addingTimeInterval(-Self.startsAtSlack) else {
                throw .validation("starts_at must not be more than a minute in the past")
            }
        }
        if let rate = admissionRatePerSecond, !(1...NewSale.maxAdmissionRate).contains(rate) {
            throw .validation("admission_rate_per_second must be between 1 and \(NewSale.maxAdmissionRate)")
        }
        guard (endsAt ?? sale.endsAt) > (startsAt ?? sale.startsAt) else {
            throw .validation("ends_at must be after starts_at")
        }
    }
}
