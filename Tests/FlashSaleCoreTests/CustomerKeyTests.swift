import Testing
@testable import FlashSaleCore

@Suite("CustomerKey.email")
struct CustomerKeyTests {
    @Test("canonical forms", arguments: [
        ("a@example.com", "a@example.com"),
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob@example.org  ", "bob@example.org"),
        // Gmail: dots and +tags ignored, googlemail.com is gmail.com.
        ("john.doe@gmail.com", "johndoe@gmail.com"),
        ("J.O.H.N.Doe@Gmail.Com", "johndoe@gmail.com"),
        ("john.doe+shoes@gmail.com", "johndoe@gmail.com"),
        ("johndoe+a+b@gmail.com", "johndoe@gmail.com"),
        ("john.doe@googlemail.com", "johndoe@gmail.com"),
        ("John.Doe+X@GoogleMail.com", "johndoe@gmail.com"),
        // Elsewhere: +tags stripped, dots kept.
        ("first.last+promo@example.com", "first.last@example.com"),
        ("first.last@example.com", "first.last@example.com"),
        ("First.Last+@Sub.Example.co.uk", "first.last@sub.example.co.uk"),
        ("x@mail-server.example", "x@mail-server.example"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ])
    func canonical(raw: String, expected: String) {
        #expect(CustomerKey.email(raw) == expected)
    }

    @Test("invalid addresses give nil", arguments: [
        "", "   ", "plainaddress", "@example.com", "a@", "a@@example.com", "a@b@example.com",
        "a@localhost", "a@.example.com", "a@example.com.", "a b@example.com", "a@exa mple.com",
        "a@example .com", "a\t@example.com", "<a@example.com>", "a,b@example.com", "a;b@example.com",
        "a@exam_ple.com", "a@example.com/x", "+tag@example.com", "+tag@gmail.com", "...@gmail.com",
        ".+x@googlemail.com", "john..doe@gmail.com", "john.doe.@gmail.com", ".john@gmail.com",
        "\"quoted\"@example.com", "a@[192.0.2.1]", "a@example.123", "a@-example.com", "a@example-.com",
        "a\u{0}b@example.com", "a@example.com\u{0}", "a\u{200B}b@example.com", "ab@example.com\n", "\r\nab@example.com",
        "ab@example.com\t", "ab@example.com\u{85}", "ab@example.com\u{2028}",
    ])
    func invalid(raw: String) {
        #expect(CustomerKey.email(raw) == nil)
    }

    @Test("overlong addresses give nil; the limits themselves are accepted")
    func lengthLimits() {
        let local64 = String(repeating: "a", count: 64)
        #expect(CustomerKey.email("\(local64)@example.com") == "\(local64)@example.com")
        #expect(CustomerKey.email("\(local64)a@example.com") == nil, "local part over 64")
        // 254 bytes in all is the longest address (labels of at most 63 bytes).
        let label = String(repeating: "d", count: 61)
        let domain189 = "\(label).\(label).\(label).com"
        let at254 = "\(local64)@\(domain189)"
        #expect(at254.utf8.count == 254)
        #expect(CustomerKey.email(at254) == at254)
        #expect(CustomerKey.email("\(local64)@d\(domain189)") == nil, "255 bytes")
        #expect(CustomerKey.email(String(repeating: "x", count: 10_000) + "@example.com") == nil)
    }

    @Test("property: every Gmail spelling of one mailbox has one key")
    func gmailSpellings() {
        var rng = SplitMix64(seed: 0x6A11)
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        for _ in 0..<300 {
            let mailbox = String((0..<Int.random(in: 1...20, using: &rng)).map { _ in rng.element(of: letters) })
            let expected = "\(mailbox)@gmail.com"
            var spelled = ""
            // Dots between letters only: RFC 5321's dot-string has no leading, trailing or double dot.
            for ch in mailbox {
                if !spelled.isEmpty, rng.bool(0.3) { spelled += "." }
                spelled += rng.bool() ? ch.uppercased() : String(ch)
            }
            if rng.bool() { spelled += "+" + String((0..<Int.random(in: 0...8, using: &rng)).map { _ in rng.element(of: letters) }) }
            let domain = rng.bool() ? "gmail.com" : "googlemail.com"
            let raw = spelled + "@" + (rng.bool() ? domain.uppercased() : domain)
            #expect(CustomerKey.email(raw) == expected, "\(raw)")
        }
    }

    @Test("property: outside Gmail, dots and case of the mailbox survive and +tags do not")
    func otherDomains() {
        var rng = SplitMix64(seed: 0xD07)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        for _ in 0..<300 {
            var mailbox = String(rng.element(of: letters))
            for _ in 0..<Int.random(in: 0...12, using: &rng) { mailbox += rng.bool(0.2) ? "." + String(rng.element(of: letters)) : String(rng.element(of: letters)) }
            let domain = rng.element(of: ["example.com", "shop.example.org", "gmail.co.uk", "mail.gmail.com"])
            let tag = rng.bool() ? "+" + String(rng.element(of: letters)) : ""
            let key = CustomerKey.email(mailbox.uppercased() + tag + "@" + domain)
            #expect(key == "\(mailbox)@\(domain)")
        }
    }

    @Test("property: a key is its own canonical form")
    func idempotent() {
        var rng = SplitMix64(seed: 5)
        let chars = Array("abcXYZ.+-_0123456789")
        for _ in 0..<300 {
            let local = String((0..<Int.random(in: 1...15, using: &rng)).map { _ in rng.element(of: chars) })
            let domain = rng.element(of: ["gmail.com", "googlemail.com", "Example.com", "a.b.c"])
            guard let key = CustomerKey.email("\(local)@\(domain)") else { continue }
            #expect(CustomerKey.email(key) == key, "\(local)@\(domain)")
            #expect(key == key.lowercased())
            #expect(!key.contains("+"))
        }
    }
}
