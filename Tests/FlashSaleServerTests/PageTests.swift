import FlashSaleCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// The browser pages through the real router: what each shows, and the checkout form
/// going through the reservation endpoint's own logic.
@Suite struct PageTests {
    @Test func indexListsLiveAndUpcomingSalesButNotEndedOnes() async throws {
        try await withApp { client, _ in
            let live = try await client.createSale(["name": "Live <sneaker>"])
            let upcoming = try await client.createSale([
                "name": "Upcoming boot", "starts_at": Timestamp.format(Date().addingTimeInterval(600)),
            ])
            let page = try await client.send(.get, "/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains("href=\"/sales/\(live)\""))
            #expect(page.text.contains("href=\"/sales/\(upcoming)\""))
            #expect(page.text.contains("Live &lt;sneaker&gt;"), "names are HTML-escaped")
            #expect(!page.text.contains("Live <sneaker>"))
            #expect(page.text.contains("name=\"viewport\""))
        }
    }

    @Test func salePageShowsPriceAvailabilityAndCountdown() async throws {
        try await withApp { client, _ in
            let id = try await client.createSale([
                "price_cents": 4_999, "quantity": 7, "starts_at": Timestamp.format(Date().addingTimeInterval(90)),
            ])
            let page = try await client.send(.get, "/sales/\(id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("49.99 USD"))
            #expect(page.text.contains("7 of 7 available"))
            #expect(page.text.contains("id=\"countdown\""))
            #expect(page.text.contains("0:01:3") || page.text.contains("0:01:2"))
            #expect(page.text.contains("href=\"/sales/\(id)/checkout\""))
        }
    }

    @Test(arguments: ["/sales/\(UUID().uuidString.lowercased())", "/sales/not-a-uuid/checkout"])
    func unknownSalesAreHTML404sForBrowsersAndJSONForOthers(_ path: String) async throws {
        try await withApp { client, _ in
            let page = try await client.send(.get, path, headers: Self.browser)
            #expect(page.status == .notFound)
            #expect(page.text.contains("No such sale"))
            let api = try await client.send(.get, path)
            #expect(api.status == .notFound && api.error == "sale_not_found", "\(api.text)")
        }
    }

    @Test func waitingPagePollsWithScriptAndRefreshesWithout() async throws {
        try await withApp { client, _ in
            let id = try await client.createSale(["starts_at": Timestamp.format(Date().addingTimeInterval(60))])
            let page = try await client.send(.get, "/sales/\(id)/checkout")
            #expect(page.status == .ok)
            #expect(page.text.contains("data-status=\"not_started\""))
            #expect(page.text.contains("<noscript><meta http-equiv=\"refresh\" content=\""))
            #expect(page.text.contains("fetch(url"))
            #expect(page.text.contains("/api/v1/sales/\(id)/queue"))
            #expect(page.text.contains("<progress id=\"progress\""))
            // The page is a join: the pass comes back in both cookies.
            let cookies = page.headers[values: .setCookie]
            #expect(cookies.contains { $0.hasPrefix("queue_pass=") })
            #expect(cookies.contains { $0.hasPrefix(WaitingRoom.saleCookie(UUID(uuidString: id)!) + "=") })
        }
    }

    @Test func admittedShopperGetsTheFormAndItPaysOnceUnderItsKeys() async throws {
        try await withApp { client, store in
            let id = try await client.createSale(["quantity": 3])
            let pass = try await client.admittedPass(id)
            let cookie: HTTPFields = [.cookie: "queue_pass=\(pass)"]
            let form = try await client.send(.get, "/sales/\(id)/checkout", headers: cookie)
            #expect(form.status == .ok)
            #expect(form.text.contains("id=\"checkout-form\""))
            #expect(form.text.contains("button.disabled = true"))
            let key = try #require(Self.hidden("reservation_key", in: form.text))
            let paymentKey = try #require(Self.hidden("idempotency_key", in: form.text))
            #expect(IdempotencyKey.isValid(key) && key != paymentKey)

            var headers = cookie
            headers[.contentType] = "application/x-www-form-urlencoded"
            headers[.accept] = "text/html"
            let body =
                "reservation_key=\(key)&idempotency_key=\(paymentKey)&email=Ann.Lee%2Bsale%40Example.com&quantity=1"
                + "&card_number=4242+4242+4242+4242&exp_month=12&exp_year=2030&cvc=123&ship_name=Ann+Lee"
                + "&ship_line1=1+Main+St&ship_city=Springfield&ship_postal_code=12345&ship_country=us"
            let first = try await client.execute(uri: "/sales/\(id)/checkout", method: .post, headers: headers, body: .init(string: body)) {
                Reply(status: $0.status, headers: $0.headers, body: $0.body)
            }
            #expect(first.status == .created, "\(first.text)")
            // A second click (or a resubmitted form) replays instead of reserving again.
            let again = try await client.execute(uri: "/sales/\(id)/checkout", method: .post, headers: headers, body: .init(string: body)) {
                Reply(status: $0.status, headers: $0.headers, body: $0.body)
            }
            #expect(again.status == .created)
            #expect(first.text.contains("data-status=\"paid\""))
            let order = try #require(Self.span("order-id", in: first.text))
            #expect(Self.span("order-id", in: again.text) == order)
            let sale = try #require(try await store.sale(id: UUID(uuidString: id)!))
            #expect(sale.inventory == Inventory(available: 2, reserved: 0, sold: 1))
        }
    }

    @Test func aDeclinedCardShowsTheFormAgainWithTheSameReservation() async throws {
        try await withApp { client, store in
            let id = try await client.createSale(["quantity": 3])
            let pass = try await client.admittedPass(id)
            let headers: HTTPFields = [.cookie: "queue_pass=\(pass)", .contentType: "application/x-www-form-urlencoded", .accept: "text/html"]
            func submit(card: String, paymentKey: String) async throws -> Reply {
                let body = "reservation_key=r1&idempotency_key=\(paymentKey)&email=a%40example.com&quantity=1&card_number=\(card)"
                    + "&exp_month=12&exp_year=2030&cvc=123&ship_name=A&ship_line1=B&ship_city=C&ship_postal_code=D&ship_country=US"
                return try await client.execute(uri: "/sales/\(id)/checkout", method: .post, headers: headers, body: .init(string: body)) {
                    Reply(status: $0.status, headers: $0.headers, body: $0.body)
                }
            }
            let declined = try await submit(card: "4000000000000002", paymentKey: "p1")
            #expect(declined.status.code == 402 && declined.text.contains("id=\"checkout-form\""))
            #expect(Self.hidden("reservation_key", in: declined.text) == "r1", "the same reservation is kept")
            let nextKey = try #require(Self.hidden("idempotency_key", in: declined.text))
            #expect(nextKey != "p1", "a new payment key for the next attempt")
            let paid = try await submit(card: "4242424242424242", paymentKey: nextKey)
            #expect(paid.status == .created && paid.text.contains("data-status=\"paid\""))
            #expect(try await store.sale(id: UUID(uuidString: id)!)?.inventory == Inventory(available: 2, reserved: 0, sold: 1))
        }
    }

    @Test func refusedFormComesBackWithTheReason() async throws {
        try await withApp { client, _ in
            let id = try await client.createSale()
            let pass = try await client.admittedPass(id)
            let headers: HTTPFields = [.cookie: "queue_pass=\(pass)", .contentType: "application/x-www-form-urlencoded", .accept: "text/html"]
            let body = "reservation_key=k1&idempotency_key=k2&email=not-an-email&quantity=1&card_number=4242424242424242"
                + "&exp_month=12&exp_year=2030&cvc=123&ship_name=A&ship_line1=B&ship_city=C&ship_postal_code=D&ship_country=US"
            let reply = try await client.execute(uri: "/sales/\(id)/checkout", method: .post, headers: headers, body: .init(string: body)) {
                Reply(status: $0.status, headers: $0.headers, body: $0.body)
            }
            #expect(reply.status == .unprocessableContent)
            #expect(reply.text.contains("id=\"error\""))
            #expect(reply.text.contains("email must be a valid email address"))
            #expect(reply.text.contains("value=\"not-an-email\""), "what the shopper typed comes back")
        }
    }

    @Test func aClientThatIsNotABrowserGetsTheContractsJSONErrors() async throws {
        try await withApp { client, _ in
            let id = try await client.createSale()
            let pass = try await client.admittedPass(id)
            let headers: HTTPFields = [.cookie: "queue_pass=\(pass)", .contentType: "application/x-www-form-urlencoded"]
            let missingKeys = try await client.execute(
                uri: "/sales/\(id)/checkout", method: .post, headers: headers, body: .init(string: "email=a%40b.com")
            ) { Reply(status: $0.status, headers: $0.headers, body: $0.body) }
            #expect(missingKeys.status == .badRequest && missingKeys.error == "idempotency_key_required", "\(missingKeys.text)")
            let body = "reservation_key=k1&idempotency_key=k2&email=not-an-email&quantity=1&card_number=4242424242424242"
                + "&exp_month=12&exp_year=2030&cvc=123&ship_name=A&ship_line1=B&ship_city=C&ship_postal_code=D&ship_country=US"
            let refused = try await client.execute(uri: "/sales/\(id)/checkout", method: .post, headers: headers, body: .init(string: body)) {
                Reply(status: $0.status, headers: $0.headers, body: $0.body)
            }
            #expect(refused.status == .unprocessableContent && refused.error == "validation_failed", "\(refused.text)")
        }
    }

    @Test func formWithoutAnAdmittedPassGoesBackToTheWaitingPage() async throws {
        try await withApp { client, _ in
            let id = try await client.createSale()
            let reply = try await client.execute(
                uri: "/sales/\(id)/checkout", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: .init(string: "email=a%40b.com")
            ) { Reply(status: $0.status, headers: $0.headers, body: $0.body) }
            #expect(reply.status == .seeOther)
            #expect(reply.headers[.location] == "/sales/\(id)/checkout")
        }
    }

    @Test func endedSaleSaysSoOnTheCheckoutPage() async throws {
        try await withApp { client, _ in
            let id = try await client.createSale()
            let patch = #"{"ends_at": "\#(Timestamp.format(Date().addingTimeInterval(-1)))"}"#
            #expect(try await client.send(.patch, "/api/v1/admin/sales/\(id)", headers: adminAuth, json: patch).status == .ok)
            let page = try await client.send(.get, "/sales/\(id)/checkout")
            #expect(page.status == .ok)
            #expect(page.text.contains("data-status=\"ended\""))
            #expect(!page.text.contains("http-equiv=\"refresh\""), "nothing to wait for")
        }
    }

    @Test func aBrowserWaitingInTwoSalesKeepsBothPlaces() async throws {
        try await withApp { client, _ in
            let first = try await client.createSale()
            let second = try await client.createSale()
            let firstPass = try #require(try await client.join(first)["pass"])
            let secondPass = try #require(try await client.join(second)["pass"])
            // The shared cookie now holds the second sale's pass; the first sale's own cookie
            // still holds its place.
            let cookies = "queue_pass=\(secondPass); \(WaitingRoom.saleCookie(UUID(uuidString: first)!))=\(firstPass)"
            let poll = try await client.send(.get, "/api/v1/sales/\(first)/queue", headers: [.cookie: cookies])
            let signer = PassSigner(secret: ServerConfig.testing.secret)
            #expect(signer.verify(try #require(poll["pass"]))?.visitorID == signer.verify(firstPass)?.visitorID)
        }
    }

    @Test func urlencodedFieldsDecodePlusAndPercent() {
        let fields = CheckoutForm.fields(Data("a=1+2%2B3&b=&c&a=ignored&e=%E2%82%AC".utf8))
        #expect(fields == ["a": "1 2+3", "b": "", "c": "", "e": "€"])
    }

    /// What a browser sends with a navigation or a form post.
    static let browser: HTTPFields = [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]

    static func hidden(_ name: String, in html: String) -> String? {
        capture(#"name="\#(name)" value="([^"]+)""#, in: html)
    }

    static func span(_ id: String, in html: String) -> String? {
        capture(#"id="\#(id)">([^<]+)<"#, in: html)
    }

    static func capture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }
}
