import Foundation
import Testing
@testable import FlashSaleCore

@Suite("JSONCoding: NewSale bodies, error mapping and encoding")
struct JSONCodingTests {
    static let fullBody = """
        {"sku": "SNKR-RED-42", "name": "Red sneaker", "price_cents": 12900, "currency": "EUR",
         "quantity": 500, "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T19:00:00.250Z",
         "per_customer_limit": 2, "reservation_ttl_seconds": 300, "admission_rate_per_second": 20}
        """
    static let minimalBody = """
        {"sku": "A-1", "name": "A", "price_cents": 100, "quantity": 3,
         "starts_at": "2026-12-01T18:00:00Z", "ends_at": "2026-12-01T19:00:00Z"}
        """

    static func decodeError(_ text: String) -> APIError? {
        do {
            _ = try JSONCoding.decodeBody(NewSale.self, from: Data(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    /// `body` with the value of `key` replaced by the raw JSON `value`.
    static func replacing(_ key: String, with value: String, in body: String = minimalBody) throws -> String {
        var object = try #require(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        object.removeValue(forKey: key)
        let rest = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        return "{\"\(key)\": \(value), " + rest.dropFirst()
    }

    @Test("every field decodes, with snake_case keys and fractional timestamps")
    func fullDecode() throws {
        let sale = try JSONCoding.decodeBody(NewSale.self, from: Data(Self.fullBody.utf8))
        #expect(sale.sku == "SNKR-RED-42")
        #expect(sale.name == "Red sneaker")
        #expect(sale.priceCents == 12_900)
        #expect(sale.currency == "EUR")
        #expect(sale.quantity == 500)
        #expect(sale.startsAt == Fixtures.saleStart)
        #expect(Fixtures.milliseconds(sale.endsAt) == 1_796_151_600_250)
        #expect(sale.perCustomerLimit == 2)
        #expect(sale.reservationTTLSeconds == 300)
        #expect(sale.admissionRatePerSecond == 20)
        try sale.validate()
    }

    @Test("optional fields take the contract's defaults")
    func defaults() throws {
        let sale = try JSONCoding.decoder().decode(NewSale.self, from: Data(Self.minimalBody.utf8))
        #expect(sale.currency == "USD")
        #expect(sale.perCustomerLimit == 1)
        #expect(sale.reservationTTLSeconds == 600)
        #expect(sale.admissionRatePerSecond == 50)
        #expect(sale.endsAt.timeIntervalSince(sale.startsAt) == 3600)
    }

    @Test("an explicit null in an optional field is a wrong type, not the default (issue 13 §3)",
        arguments: ["currency", "per_customer_limit", "reservation_ttl_seconds", "admission_rate_per_second"])
    func nullOptionals(field: String) throws {
        let body = try Self.replacing(field, with: "null")
        #expect {
            try JSONCoding.decodeBody(NewSale.self, from: Data(body.utf8))
        } throws: { error in
            (error as? APIError)?.status == 422 && (error as? APIError)?.message.contains(field) == true
        }
    }

    @Test("timestamps with offsets are normalised to UTC")
    func offsets() throws {
        let body = try Self.replacing("starts_at", with: "\"2026-12-01T19:00:00+01:00\"")
        let sale = try JSONCoding.decodeBody(NewSale.self, from: Data(body.utf8))
        #expect(sale.startsAt == Fixtures.saleStart)
    }

    @Test("malformed JSON is 400 invalid_json", arguments: [
        "", "{", "}", "nul", "{\"sku\": }", "{\"sku\": \"A\"", "not json at all", "{'sku': 'A'}",
        "\u{FEFF}\u{0}", "{\"sku\": \"A\"} trailing",
    ])
    func malformed(text: String) throws {
        let error = try #require(Self.decodeError(text))
        #expect(error.status == 400)
        #expect(error.code == "invalid_json")
    }

    @Test("a body of the wrong shape is 422", arguments: ["[]", "[1, 2]", "\"sale\"", "42", "true", "null"])
    func wrongShape(text: String) throws {
        let error = try #require(Self.decodeError(text))
        #expect(error.status == 422, "\(text): \(error)")
        #expect(error.code == "validation_failed")
    }

    @Test("a missing required key is 422 naming the key",
          arguments: ["sku", "name", "price_cents", "quantity", "starts_at", "ends_at"])
    func missingKey(key: String) throws {
        var object = try #require(JSONSerialization.jsonObject(with: Data(Self.minimalBody.utf8)) as? [String: Any])
        object.removeValue(forKey: key)
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = try #require(Self.decodeError(String(decoding: data, as: UTF8.self)))
        #expect(error.status == 422)
        #expect(error.code == "validation_failed")
        #expect(error.message == "\(key) is required")
    }

    @Test("a value of the wrong type is 422 naming the key", arguments: [
        ("price_cents", "\"12900\""), ("quantity", "true"), ("sku", "42"), ("name", "[\"x\"]"),
        ("starts_at", "1796148000"), ("per_customer_limit", "\"1\""), ("currency", "{}"),
        ("quantity", "null"), ("sku", "null"), ("starts_at", "\"tomorrow\""), ("ends_at", "\"2026-12-01\""),
    ])
    func wrongType(key: String, value: String) throws {
        let error = try #require(Self.decodeError(try Self.replacing(key, with: value)))
        #expect(error.status == 422, "\(key) = \(value): \(error)")
        #expect(error.code == "validation_failed")
        #expect(error.message.contains(key), "\(error.message)")
    }

    /// `1.5` and `1e30` are valid JSON but not integers: the body is readable, the value is wrong.
    @Test("a valid JSON number that is not an Int is 422, not 400", arguments: [
        ("quantity", "1.5"), ("price_cents", "1e30"), ("quantity", "-0.5"),
    ])
    func numberNotAnInt(key: String, value: String) throws {
        let error = try #require(Self.decodeError(try Self.replacing(key, with: value)))
        #expect(error.status == 422, "\(key) = \(value): \(error)")
        #expect(error.code == "validation_failed")
    }

    @Test("APIError bodies are valid JSON for any message")
    func errorBody() throws {
        var rng = SplitMix64(seed: 0xE220)
        let pieces = ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "🎉", "\u{2028}", "/", "a", " "]
        for _ in 0..<300 {
            let message = (0..<Int.random(in: 0...20, using: &rng)).map { _ in rng.element(of: pieces) }.joined()
            let error = APIError(status: 409, code: "sold_out", message: message)
            let decoded = try #require(error.decodedBody, "\(message.debugDescription)")
            #expect(decoded == ["error": "sold_out", "message": message])
        }
        #expect(String(decoding: APIError.soldOut.body, as: UTF8.self)
            == #"{"error":"sold_out","message":"Every unit of this sale is sold or held."}"#)
    }

    @Test("receipts encode as sorted snake_case keys, lowercase ids and Z timestamps")
    func receiptEncoding() throws {
        let receipt = ReservationReceipt(
            reservationID: UUID(uuidString: "6F0E8C1A-3B7D-4C2E-9A51-0D4B2F8E7C13")!,
            saleID: UUID(uuidString: "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9")!,
            quantity: 2, expiresAt: Fixtures.saleStart.addingTimeInterval(600), amountCents: 25_800)
        let text = String(decoding: try JSONCoding.encoder().encode(receipt), as: UTF8.self)
        #expect(text == #"{"amount_cents":25800,"expires_at":"2026-12-01T18:10:00Z","quantity":2,"#
            + #""reservation_id":"6f0e8c1a-3b7d-4c2e-9a51-0d4b2f8e7c13","sale_id":"0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"}"#)
        let back = try JSONCoding.decoder().decode(ReservationReceipt.self, from: Data(text.utf8))
        #expect(back == receipt)
    }

    @Test("SalePatch decodes either field and knows when it is empty")
    func salePatch() throws {
        let decoder = JSONCoding.decoder()
        let empty = try decoder.decode(SalePatch.self, from: Data("{}".utf8))
        #expect(empty.isEmpty)
        let pause = try decoder.decode(SalePatch.self, from: Data(#"{"paused": true}"#.utf8))
        #expect(pause.paused == true && pause.endsAt == nil && !pause.isEmpty)
        let move = try decoder.decode(SalePatch.self, from: Data(#"{"ends_at": "2026-12-01T18:00:00Z"}"#.utf8))
        #expect(move.endsAt == Fixtures.saleStart && move.paused == nil)
    }

    @Test("ReservationBody defaults quantity to 1")
    func reservationBody() throws {
        let body = try JSONCoding.decodeBody(ReservationBody.self, from: Data(#"{"email": "a@example.com"}"#.utf8))
        #expect(body.email == "a@example.com")
        #expect(body.quantity == 1)
        let error = #expect(throws: APIError.self) {
            try JSONCoding.decodeBody(ReservationBody.self, from: Data(#"{"quantity": 2}"#.utf8))
        }
        #expect(error?.status == 422)
    }
}
