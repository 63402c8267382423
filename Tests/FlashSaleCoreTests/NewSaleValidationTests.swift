import Foundation
import Testing
@testable import FlashSaleCore

@Suite("NewSale.validate")
struct NewSaleValidationTests {
    /// The error `validate()` throws, or nil when the sale is accepted.
    static func error(_ sale: NewSale) -> APIError? {
        do {
            try sale.validate()
            return nil
        } catch {
            return error
        }
    }

    static func mutated(_ change: (inout NewSale) -> Void) -> NewSale {
        var sale = Fixtures.newSale()
        change(&sale)
        return sale
    }

    /// A rule broken, and a word its message must name.
    struct Broken: Sendable, CustomTestStringConvertible {
        var label: String
        var field: String
        var change: @Sendable (inout NewSale) -> Void
        var testDescription: String { label }
    }

    static let broken: [Broken] = [
        Broken(label: "empty sku", field: "sku") { $0.sku = "" },
        Broken(label: "blank sku", field: "sku") { $0.sku = "   " },
        Broken(label: "sku with leading space", field: "sku") { $0.sku = " SKU-1" },
        Broken(label: "sku with trailing newline", field: "sku") { $0.sku = "SKU-1\n" },
        Broken(label: "sku of 65 characters", field: "sku") { $0.sku = String(repeating: "S", count: 65) },
        Broken(label: "empty name", field: "name") { $0.name = "" },
        Broken(label: "blank name", field: "name") { $0.name = " \t\n" },
        Broken(label: "name of 201 characters", field: "name") { $0.name = String(repeating: "n", count: 201) },
        Broken(label: "negative price", field: "price_cents") { $0.priceCents = -1 },
        Broken(label: "price above the maximum", field: "price_cents") { $0.priceCents = NewSale.maxPriceCents + 1 },
        Broken(label: "price Int.max", field: "price_cents") { $0.priceCents = .max },
        Broken(label: "lowercase currency", field: "currency") { $0.currency = "usd" },
        Broken(label: "two-letter currency", field: "currency") { $0.currency = "US" },
        Broken(label: "four-letter currency", field: "currency") { $0.currency = "USDT" },
        Broken(label: "currency with a digit", field: "currency") { $0.currency = "US1" },
        Broken(label: "currency with a symbol", field: "currency") { $0.currency = "U$D" },
        Broken(label: "non-ASCII currency", field: "currency") { $0.currency = "ÜSD" },
        Broken(label: "empty currency", field: "currency") { $0.currency = "" },
        Broken(label: "zero quantity", field: "quantity") { $0.quantity = 0 },
        Broken(label: "negative quantity", field: "quantity") { $0.quantity = -5 },
        Broken(label: "quantity above the maximum", field: "quantity") { $0.quantity = NewSale.maxQuantity + 1 },
        Broken(label: "ends_at equal to starts_at", field: "ends_at") { $0.endsAt = $0.startsAt },
        Broken(label: "ends_at before starts_at", field: "ends_at") { $0.endsAt = $0.startsAt.addingTimeInterval(-1) },
        Broken(label: "zero per-customer limit", field: "per_customer_limit") { $0.perCustomerLimit = 0 },
        Broken(label: "negative per-customer limit", field: "per_customer_limit") { $0.perCustomerLimit = -1 },
        Broken(label: "per-customer limit 1001", field: "per_customer_limit") { $0.perCustomerLimit = 1_001 },
        Broken(label: "zero TTL", field: "reservation_ttl_seconds") { $0.reservationTTLSeconds = 0 },
        Broken(label: "TTL above a day", field: "reservation_ttl_seconds") { $0.reservationTTLSeconds = 86_401 },
        Broken(label: "zero admission rate", field: "admission_rate_per_second") { $0.admissionRatePerSecond = 0 },
        Broken(label: "negative admission rate", field: "admission_rate_per_second") { $0.admissionRatePerSecond = -1 },
        Broken(label: "admission rate above a million", field: "admission_rate_per_second") {
            $0.admissionRatePerSecond = 1_000_001
        },
    ]

    @Test("a good sale passes")
    func goodSale() {
        #expect(Self.error(Fixtures.newSale()) == nil)
    }

    @Test("each broken rule is a 422 validation_failed naming the field", arguments: broken)
    func brokenRule(_ rule: Broken) throws {
        let error = try #require(Self.error(Self.mutated(rule.change)))
        #expect(error.status == 422)
        #expect(error.code == "validation_failed")
        #expect(error.message.contains(rule.field), "\(error.message)")
        #expect(error.decodedBody?["error"] == "validation_failed")
    }

    @Test("boundary values are accepted", arguments: [
        ("sku of 1", { @Sendable (s: inout NewSale) in s.sku = "S" }),
        ("sku of 64", { @Sendable (s: inout NewSale) in s.sku = String(repeating: "S", count: 64) }),
        ("sku with an inner space", { @Sendable (s: inout NewSale) in s.sku = "RED SNKR" }),
        ("name of 200", { @Sendable (s: inout NewSale) in s.name = String(repeating: "n", count: 200) }),
        ("free", { @Sendable (s: inout NewSale) in s.priceCents = 0 }),
        ("maximum price", { @Sendable (s: inout NewSale) in s.priceCents = NewSale.maxPriceCents }),
        ("EUR", { @Sendable (s: inout NewSale) in s.currency = "EUR" }),
        ("quantity 1", { @Sendable (s: inout NewSale) in s.quantity = 1 }),
        ("maximum quantity", { @Sendable (s: inout NewSale) in s.quantity = NewSale.maxQuantity }),
        ("one millisecond long", { @Sendable (s: inout NewSale) in s.endsAt = s.startsAt.addingTimeInterval(0.001) }),
        ("limit 1000", { @Sendable (s: inout NewSale) in s.perCustomerLimit = 1_000 }),
        ("TTL 1", { @Sendable (s: inout NewSale) in s.reservationTTLSeconds = 1 }),
        ("TTL a day", { @Sendable (s: inout NewSale) in s.reservationTTLSeconds = 86_400 }),
        ("rate 1", { @Sendable (s: inout NewSale) in s.admissionRatePerSecond = 1 }),
        ("rate a million", { @Sendable (s: inout NewSale) in s.admissionRatePerSecond = 1_000_000 }),
    ] as [(String, @Sendable (inout NewSale) -> Void)])
    func boundaries(label: String, change: @Sendable (inout NewSale) -> Void) {
        #expect(Self.error(Self.mutated(change)) == nil, "\(label)")
    }

    @Test("the first broken rule is the one reported")
    func firstProblemWins() throws {
        let sale = Self.mutated {
            $0.sku = ""
            $0.quantity = 0
            $0.admissionRatePerSecond = 0
        }
        let error = try #require(Self.error(sale))
        #expect(error.message.contains("sku"))
        #expect(!error.message.contains("quantity"))
    }

    @Test("the memberwise initializer's defaults are the contract's")
    func defaults() {
        let sale = NewSale(sku: "A", name: "B", priceCents: 1, quantity: 1, startsAt: Fixtures.saleStart, endsAt: Fixtures.saleEnd)
        #expect(sale.currency == "USD")
        #expect(sale.perCustomerLimit == 1)
        #expect(sale.reservationTTLSeconds == 600)
        #expect(sale.admissionRatePerSecond == 50)
        #expect(Self.error(sale) == nil)
    }
}
