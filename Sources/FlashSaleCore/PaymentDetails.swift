import Crypto
import Foundation

/// The card of a payment request. The number leaves the process only towards the
/// provider; the shop stores a keyed fingerprint of it and nothing else.
public struct CardDetails: Sendable, Decodable, Equatable {
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
        guard (12...19).contains(number.count), number.allSatisfy(\.isASCIIDigit), Self.luhn(number) else {
            throw .validation("card.number must be a valid card number")
        }
        guard (1...12).contains(expMonth), (2000...2100).contains(expYear) else {
            throw .validation("card.exp_month must be 1-12 and card.exp_year a four-digit year")
        }
        let today = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now)
        guard (expYear, expMonth) >= (today.year ?? 0, today.month ?? 0) else { throw .validation("the card has expired") }
        guard (3...4).contains(cvc.count), cvc.allSatisfy(\.isASCIIDigit) else {
            throw .validation("card.cvc must be 3 or 4 digits")
        }
    }

    /// HMAC-SHA256 of the number under the shop's secret: equal for the same card, useless
    /// for recovering it (the numbers are few enough that a bare hash could be reversed).
    public func fingerprint(secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("card:" + number).utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return String(Hex.encode(Data(mac)).prefix(32))
    }

    /// `digits` followed by its Luhn check digit: card numbers for simulations and tests.
    public static func withCheckDigit(_ digits: String) -> String {
        for check in 0...9 where luhn(digits + String(check)) { return digits + String(check) }
        return digits
    }

    static func luhn(_ digits: String) -> Bool {
        var sum = 0
        for (index, char) in digits.reversed().enumerated() {
            guard var digit = char.wholeNumberValue else { return false }
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }
}

public struct ShippingAddress: Sendable, Decodable, Equatable {
    public var name: String
    public var line1: String
    public var city: String
    public var postalCode: String
    public var country: String

    enum CodingKeys: String, CodingKey { case name, line1, city, postalCode = "postal_code", country }

    public func validate() throws(APIError) {
        for (field, value) in [("name", name), ("line1", line1), ("city", city), ("postal_code", postalCode)] {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 200 else { throw .validation("shipping.\(field) must be 1-200 characters") }
        }
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .validation("shipping.country must be a two-letter country code")
        }
    }

    public var customerKey: String { CustomerKey.address(line1: line1, postalCode: postalCode, country: country) }
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

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
