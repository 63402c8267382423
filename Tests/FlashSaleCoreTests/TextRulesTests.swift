import Foundation
import Testing

@testable import FlashSaleCore

@Suite("Text fields and email addresses (issue 13 §3)")
struct TextRulesTests {
    @Test("internationalised domains take their A-label form", arguments: [
        ("ana@bücher.example", "ana@xn--bcher-kva.example"),
        ("ana@BÜCHER.example", "ana@xn--bcher-kva.example"),
        ("ana@xn--bcher-kva.example", "ana@xn--bcher-kva.example"),
        ("ana@Example.COM", "ana@example.com"),
        ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
    ])
    func domains(raw: String, expected: String) throws {
        #expect(try EmailAddress(raw).normalized == expected)
    }

    @Test("NFKC and case folding make one spelling of a local part")
    func folding() throws {
        let plain = try EmailAddress("strasse@example.com")
        #expect(try EmailAddress("STRASSE@example.com") == plain)
        #expect(try EmailAddress("ＳＴＲＡＳＳＥ@example.com") == plain, "full-width letters")
        #expect(try EmailAddress("straße@example.com") == plain, "ß folds to ss")
        #expect(try EmailAddress("e\u{301}lise@example.com") == EmailAddress("\u{E9}lise@example.com"), "composed accent")
    }

    @Test("refusals say which rule failed", arguments: [
        ("a\u{0}b@example.com", "control"),
        (String(repeating: "a", count: 65) + "@example.com", "before @"),
        ("a..b@example.com", "before @"),
        ("a@exa_mple.com", "domain"),
        ("a@" + String(repeating: "x", count: 64) + ".com", "domain"),
        ("no-at-sign", "valid email"),
    ])
    func refusals(raw: String, words: String) {
        #expect {
            try EmailAddress(raw)
        } throws: { error in
            guard let error = error as? APIError else { return false }
            return error.status == 422 && error.message.contains(words)
        }
    }

    @Test("text fields refuse control characters and overlong values")
    func textFields() throws {
        try TextField.check("Ana Lima", field: "name", maxLength: 200)
        try TextField.check("", field: "reason", maxLength: 10, allowEmpty: true)
        for bad in ["a\u{0}b", "tab\there", "new\nline", "\u{7F}", "\u{85}", "a\u{2028}b", "   ", String(repeating: "x", count: 11)] {
            #expect(throws: APIError.self, "\(bad.debugDescription)") { try TextField.check(bad, field: "name", maxLength: 10) }
        }
    }

    @Test("shipping addresses: every line is checked, and one door has one key")
    func shipping() throws {
        let good = ShippingAddress(name: "Ana", line1: "12 Main Street", city: "Lisbon", postalCode: "1000-001", country: "PT")
        try good.validate()
        for bad in [
            ShippingAddress(name: "A\u{0}", line1: "x", city: "y", postalCode: "1", country: "PT"),
            ShippingAddress(name: "A", line1: "x\u{1B}", city: "y", postalCode: "1", country: "PT"),
            ShippingAddress(name: "A", line1: "x", city: "y\r", postalCode: "1", country: "PT"),
            ShippingAddress(name: "A", line1: "x", city: "y", postalCode: String(repeating: "1", count: 17), country: "PT"),
        ] {
            #expect(throws: APIError.self) { try bad.validate() }
        }
        let fullWidth = ShippingAddress(name: "Ana", line1: "１２ ＭＡＩＮ ＳＴ", city: "Lisbon", postalCode: "1000-001", country: "PT")
        #expect(fullWidth.customerKey == good.customerKey)
    }

    @Test("an explicit null in an optional field is a wrong type; an absent one takes the default")
    func nulls() throws {
        #expect(throws: APIError.self) { try JSONCoding.decodeBody(ReservationBody.self, from: Data(#"{"email":"a@b.co","quantity":null}"#.utf8)) }
        #expect(try JSONCoding.decodeBody(ReservationBody.self, from: Data(#"{"email":"a@b.co"}"#.utf8)).quantity == 1)
        #expect(throws: APIError.self) { try JSONCoding.decodeBody(SalePatch.self, from: Data(#"{"paused":null}"#.utf8)) }
        #expect(throws: APIError.self) { try JSONCoding.decodeBody(NewAccessRule.self, from: Data(#"{"cidr":"10.0.0.0/8","reason":null}"#.utf8)) }
    }
}
