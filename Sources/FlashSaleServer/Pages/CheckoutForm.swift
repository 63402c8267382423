import FlashSaleCore
import Foundation

/// The checkout page's form, read from an `application/x-www-form-urlencoded` body and
/// turned into the JSON bodies of the API, so the page and API clients go through the
/// same endpoints' logic (and the same idempotency records).
struct CheckoutForm: Sendable {
    var reservationKey: String
    var paymentKey: String
    var email: String
    var quantity: Int
    var card: CardDetails
    var shipping: ShippingAddress

    /// Reads the form; a missing or malformed field is a validation error naming it.
    init(body: Data) throws(APIError) {
        let fields = Self.fields(body)
        func text(_ name: String) -> String { fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
        func number(_ name: String, label: String) throws(APIError) -> Int {
            guard let value = Int(text(name)) else { throw .validation("\(label) must be a number") }
            return value
        }
        reservationKey = text("reservation_key")
        paymentKey = text("idempotency_key")
        guard IdempotencyKey.isValid(reservationKey), IdempotencyKey.isValid(paymentKey) else {
            throw .idempotencyKeyRequired
        }
        email = text("email")
        quantity = try number("quantity", label: "quantity")
        card = CardDetails(
            number: text("card_number").filter { !$0.isWhitespace && $0 != "-" },
            expMonth: try number("exp_month", label: "the card's expiry month"),
            expYear: try number("exp_year", label: "the card's expiry year"), cvc: text("cvc"))
        shipping = ShippingAddress(
            name: text("ship_name"), line1: text("ship_line1"), city: text("ship_city"),
            postalCode: text("ship_postal_code"), country: text("ship_country").uppercased())
    }

    /// `{"email", "quantity"}` with sorted keys: the same form gives the same bytes, so a
    /// resubmitted form replays its reservation instead of tripping `idempotency_key_reused`.
    var reservationBody: Data {
        struct Body: Encodable { let email: String, quantity: Int }
        return (try? JSONCoding.encoder().encode(Body(email: email, quantity: quantity))) ?? Data()
    }

    /// `{"card", "shipping"}` of the payment endpoint.
    var paymentBody: Data {
        struct Body: Encodable { let card: CardDetails, shipping: ShippingAddress }
        return (try? JSONCoding.encoder().encode(Body(card: card, shipping: shipping))) ?? Data()
    }

    /// Name/value pairs of a urlencoded body (`+` is a space); the first of a repeated name wins.
    static func fields(_ body: Data) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}
