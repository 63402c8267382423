import Crypto
import Foundation

/// The card of a payment request, as the shopper typed it, and as it is sent to the
/// provider (`FlashSalePayments.PaymentCard` is this type). The number leaves the process
/// only towards the provider; the shop stores a keyed fingerprint of it and nothing else.
public struct CardDetails: Sendable, Codable, Equatable {
    public var number: String
    public var expMonth: Int
    public var expYear: Int
    public var cvc: String

    enum CodingKeys: String, CodingKey { case number, expMonth = "exp_month", expYear = "exp_year", cvc }

    public init(number: String, expMonth: Int, expYear: Int, cvc: String) {
        self.number = number
        self.expMonth = expMonth
        self.expYear = expYear
        self.cvc = cvc
    }

    /// Format checks the provider would refuse anyway, answered as a 422 before any call.
    public func validate(now: Date) throws(APIError) {
        guard Self.isWellFormedNumber(number), Self.luhnValid(number) else {
            throw .validation("card.number must be a valid card number")
        }
        guard (1...12).contains(expMonth), (2000...2100).contains(expYear) else {
            throw .validation("card.exp_month must be 1-12 and card.exp_year a four-digit year")
        }
        guard !Self.isExpired(month: expMonth, year: expYear, now: now) else { throw .validation("the card has expired") }
        guard Self.isValidCVC(cvc) else { throw .validation("card.cvc must be 3 or 4 digits") }
    }

    // MARK: Card rules, shared by the shop's validation and the provider simulator's

    /// 12 to 19 ASCII digits, no spaces or dashes.
    public static func isWellFormedNumber(_ number: String) -> Bool {
        (12...19).contains(number.utf8.count) && number.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// The Luhn check digit test of ISO/IEC 7812 (digits only; anything else fails).
    public static func luhnValid(_ number: String) -> Bool {
        var sum = 0
        for (index, byte) in number.utf8.reversed().enumerated() {
            guard (0x30...0x39).contains(byte) else { return false }
            var digit = Int(byte - 0x30)
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return !number.isEmpty && sum % 10 == 0
    }

    /// 3 or 4 ASCII digits.
    public static func isValidCVC(_ cvc: String) -> Bool {
        (3...4).contains(cvc.utf8.count) && cvc.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// A card is good through the last day of its expiry month (UTC); an impossible month
    /// or year counts as expired.
    public static func isExpired(month: Int, year: Int, now: Date) -> Bool {
        guard (1...12).contains(month), (1000...9999).contains(year) else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.dateComponents([.year, .month], from: now)
        guard let thisYear = today.year, let thisMonth = today.month else { return true }
        return (year, month) < (thisYear, thisMonth)
    }

    /// HMAC-SHA256 of the number under the shop's secret: equal for the same card, useless
    /// for recovering it (the numbers are few enough that a bare hash could be reversed).
    public func fingerprint(secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("card:" + number).utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return String(Hex.encode(Data(mac)).prefix(32))
    }

    /// `digits` followed by its Luhn check digit: card numbers for simulations and tests.
    public static func withCheckDigit(_ digits: String) -> String {
        for check in 0...9 where luhnValid(digits + String(check)) { return digits + String(check) }
        return digits
    }
}

public struct ShippingAddress: Sendable, Codable, Equatable {
    public var name: String
    public var line1: String
    public var city: String
    public var postalCode: String
    public var country: String

    enum CodingKeys: String, CodingKey { case name, line1, city, postalCode = "postal_code", country }

    public init(name: String, line1: String, city: String, postalCode: String, country: String) {
        self.name = name
        self.line1 = line1
        self.city = city
        self.postalCode = postalCode
        self.country = country
    }

    /// Postal codes run to 10 characters (a US ZIP+4, Iran's ten digits); 16 leaves room
    /// for spaces and a country prefix ("GB-", "D-").
    public static let maxPostalCodeLength = 16

    public func validate() throws(APIError) {
        for (field, value, limit) in [
            ("name", name, 200), ("line1", line1, 200), ("city", city, 200), ("postal_code", postalCode, Self.maxPostalCodeLength),
        ] {
            try TextField.check(value, field: "shipping.\(field)", maxLength: limit)
        }
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .validation("shipping.country must be a two-letter country code")
        }
    }

    public var customerKey: String { postal.doorKey }

    /// The address as `PostalAddress` reads it (door and building keys).
    public var postal: PostalAddress { PostalAddress(line1: line1, postalCode: postalCode, country: country) }
}

/// `POST /api/v1/reservations/{id}/payment`.
public struct PaymentBody: Sendable, Decodable, Equatable {
    public var card: CardDetails
    public var shipping: ShippingAddress

    public func validate(now: Date) throws(APIError) {
        try card.validate(now: now)
        try shipping.validate()
    }
}
