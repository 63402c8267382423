import Foundation
@testable import FlashSaleCore

/// Test helpers on the seeded generator, so property tests are deterministic: the same
/// seed always replays the same cases.
extension SplitMix64 {
    /// A UUID drawn from this generator (not RFC 4122 shaped, which nothing here needs).
    mutating func uuid() -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: .min ... .max, using: &self) }
        return UUID(bytes: bytes)
    }

    mutating func bool(_ probability: Double = 0.5) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    mutating func element<C: Collection>(of collection: C) -> C.Element {
        collection.randomElement(using: &self)!
    }
}

/// Dates used throughout: a fixed instant with whole milliseconds, far from the epoch.
enum Fixtures {
    /// 2026-12-01T18:00:00Z
    static let saleStart = Date(timeIntervalSince1970: 1_796_148_000)
    static let saleEnd = saleStart.addingTimeInterval(3600)

    static func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func sale(
        id: UUID = UUID(), startsAt: Date = saleStart, endsAt: Date = saleEnd, available: Int = 100,
        reserved: Int = 0, sold: Int = 0, perCustomerLimit: Int = 1, ttl: Int = 600, rate: Int = 50,
        paused: Bool = false
    ) -> Sale {
        Sale(
            id: id, sku: "SNKR-RED-42", name: "Red sneaker", priceCents: 12_900, currency: "USD",
            quantity: available + reserved + sold, startsAt: startsAt, endsAt: endsAt,
            perCustomerLimit: perCustomerLimit, reservationTTLSeconds: ttl, admissionRatePerSecond: rate,
            paused: paused, createdAt: startsAt.addingTimeInterval(-86_400),
            inventory: Inventory(available: available, reserved: reserved, sold: sold))
    }

    static func newSale() -> NewSale {
        NewSale(
            sku: "SNKR-RED-42", name: "Red sneaker", priceCents: 12_900, currency: "USD", quantity: 500,
            startsAt: saleStart, endsAt: saleEnd, perCustomerLimit: 1, reservationTTLSeconds: 600,
            admissionRatePerSecond: 50)
    }
}

extension APIError {
    /// The decoded `{"error", "message"}` body, to check the rendering is valid JSON.
    var decodedBody: [String: String]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: String]
    }
}
