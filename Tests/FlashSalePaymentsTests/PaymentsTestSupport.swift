import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import FlashSalePayments

/// A card that is good for years, with the given number.
func card(_ number: String = CardRules.succeeds, expYear: Int = 2099, cvc: String = "123") -> PaymentCard {
    PaymentCard(number: number, expMonth: 12, expYear: expYear, cvc: cvc)
}

func chargeRequest(_ number: String = CardRules.succeeds, amountCents: Int = 12_900, reference: String = "order-1") -> ChargeRequest {
    ChargeRequest(amountCents: amountCents, currency: "USD", card: card(number), reference: reference)
}

/// A fresh path in the temporary directory, removed when the test is done with it.
func withTemporaryLedger(_ body: (String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("psp-ledger-\(UUID().uuidString).jsonl").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await body(path)
}

/// An answer of the provider's router: status and the top level of its JSON body.
struct PSPReply: Sendable {
    var status: HTTPResponse.Status
    var text: String
    var fields: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    subscript(field: String) -> String? { fields[field] as? String }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = nil, body: String? = nil) async throws -> PSPReply {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            PSPReply(status: $0.status, text: String(buffer: $0.body))
        }
    }
}

/// The JSON body of a charge, as a client would send it.
func chargeJSON(number: String = CardRules.succeeds, amount: String = "12900", reference: String = "order-1") -> String {
    """
    {"amount_cents": \(amount), "currency": "USD", "reference": "\(reference)",
     "card": {"number": "\(number)", "exp_month": 12, "exp_year": 2099, "cvc": "123"}}
    """
}
