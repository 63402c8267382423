import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// `/admin`: sign-in, the session cookie, the anti-forgery checks, and the forms' effects,
/// read back through the JSON API.
@Suite struct ConsoleTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Signs in through the form; answers the `Cookie` header value and the forms' token.
    static func signIn(_ client: any TestClientProtocol) async throws -> (cookie: String, csrf: String) {
        let reply = try await client.post("/admin/sign-in", form: "token=\(adminToken)")
        #expect(reply.status == .seeOther)
        let setCookie = try #require(reply.headers[.setCookie])
        let cookie = String(try #require(setCookie.split(separator: ";").first))
        let page = try await client.send(.get, "/admin", headers: [.cookie: cookie])
        let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1)
        return (cookie, String(csrf))
    }

    @Test func withoutTheTokenEveryRouteAnswersTheSignInPageAndNoData() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale(["name": "Secret sneaker"])
            let session = ConsoleSession(secret: ServerConfig.testing.secret, adminToken: adminToken)
            let expired = session.issue(now: Date().addingTimeInterval(-ConsoleSession.lifetime - 1)).value
            let forged = session.issue(now: Date()).value.dropLast(2) + "AA"
            let other = ConsoleSession(secret: "another deployment", adminToken: adminToken).issue(now: Date()).value
            for cookie in [nil, expired, String(forged), other] {
                let headers: HTTPFields = cookie.map { [.cookie: "\(ConsoleSession.cookieName)=\($0)"] } ?? [:]
                let page = try await client.send(.get, "/admin", headers: headers)
                #expect(page.status == .ok)
                #expect(page.text.contains("action=\"/admin/sign-in\""))
                #expect(!page.text.contains(sale) && !page.text.contains("Secret sneaker"))
                let events = try await client.send(.get, "/api/v1/admin/events", headers: headers)
                #expect(events.status == .unauthorized)
            }
            // A form without a session changes nothing.
            let pause = try await client.post("/admin/sales/\(sale)/pause", form: "csrf=x")
            #expect(pause.status == .unauthorized)
            #expect(try await store.sale(id: UUID(uuidString: sale)!)?.paused == false)
        }
    }

    @Test func signingInSetsASignedHttpOnlyStrictCookieThatOpensReadsButNotJSONChanges() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["name": "Red sneaker"])
            let signInPage = try await client.send(.get, "/admin")
            #expect(!signInPage.text.contains("sign-in-error"), "no error before a try")
            let huge = try await client.post("/admin/sign-in", form: "token=" + String(repeating: "A", count: 70_000))
            #expect(huge.status == .contentTooLarge)
            let wrong = try await client.post("/admin/sign-in", form: "token=guess")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(wrong.text.contains("not the admin token"))

            let reply = try await client.post("/admin/sign-in", form: "token=\(adminToken)")
            #expect(reply.status == .seeOther && reply.headers[.location] == "/admin")
            let setCookie = try #require(reply.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age=43200", "Path=/"] { #expect(setCookie.contains(attribute)) }
            let (cookie, csrf) = try await Self.signIn(client)
            let page = try await client.send(.get, "/admin", headers: [.cookie: cookie])
            #expect(page.text.contains("id=\"sale-\(sale)\"") && page.text.contains("Red sneaker"))
            #expect(!csrf.isEmpty)
            // Reads of the JSON API open to the session; changes need the bearer header.
            #expect(try await client.send(.get, "/api/v1/admin/sales/\(sale)", headers: [.cookie: cookie]).status == .ok)
            let change = try await client.send(
                .patch, "/api/v1/admin/sales/\(sale)", headers: [.cookie: cookie], json: #"{"paused": true}"#)
            #expect(change.status == .unauthorized)

            let out = try await client.post("/admin/sign-out", form: "csrf=\(csrf)", cookie: cookie)
            #expect(out.status == .seeOther)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            // The signed-out cookie opens nothing any more, even if a copy was kept.
            let after = try await client.send(.get, "/admin", headers: [.cookie: cookie])
            #expect(after.text.contains("action=\"/admin/sign-in\"") && !after.text.contains(sale))
            #expect(try await client.post("/admin/sales/\(sale)/pause", form: "csrf=\(csrf)", cookie: cookie).status == .unauthorized)
        }
    }

    @Test func formsNeedTheSessionsTokenAndThisSitesOrigin() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale()
            let id = UUID(uuidString: sale)!
            let (cookie, csrf) = try await Self.signIn(client)
            let missing = try await client.post("/admin/sales/\(sale)/pause", form: "", cookie: cookie)
            #expect(missing.status == .forbidden)
            let otherSession = ConsoleSession(secret: ServerConfig.testing.secret, adminToken: adminToken)
            let stolen = otherSession.formToken(for: otherSession.issue(now: Date()).session)
            #expect(try await client.post("/admin/sales/\(sale)/pause", form: "csrf=\(stolen)", cookie: cookie).status == .forbidden)
            let crossSite = try await client.post(
                "/admin/sales/\(sale)/pause", form: "csrf=\(csrf)", cookie: cookie, extra: [.origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden)
            #expect(try await store.sale(id: id)?.paused == false)

            let paused = try await client.post("/admin/sales/\(sale)/pause", form: "csrf=\(csrf)", cookie: cookie)
            #expect(paused.status == .seeOther && paused.headers[.location] == "/admin#sale-\(sale)")
            #expect(try await store.sale(id: id)?.paused == true)
            _ = try await client.post("/admin/sales/\(sale)/resume", form: "csrf=\(csrf)", cookie: cookie)
            #expect(try await store.sale(id: id)?.paused == false)

            #expect(try await client.post("/admin/sales/\(sale)/rate", form: "csrf=\(csrf)&admission_rate_per_second=80", cookie: cookie).status == .seeOther)
            #expect(try await store.sale(id: id)?.admissionRatePerSecond == 80)
            let zero = try await client.post("/admin/sales/\(sale)/rate", form: "csrf=\(csrf)&admission_rate_per_second=0", cookie: cookie)
            #expect(zero.status == .unprocessableContent)
            #expect(zero.text.contains("admission_rate_per_second must be between 1"))

            let endsAt = try #require(try await store.sale(id: id)?.endsAt)
            #expect(try await client.post("/admin/sales/\(sale)/extend", form: "csrf=\(csrf)&minutes=30", cookie: cookie).status == .seeOther)
            let extended = try #require(try await store.sale(id: id)?.endsAt)
            #expect(abs(extended.timeIntervalSince(endsAt) - 1_800) < 1)

            #expect(try await client.post("/admin/sales/\(sale)/end", form: "csrf=\(csrf)", cookie: cookie).status == .seeOther)
            let ended = try #require(try await store.sale(id: id))
            #expect(ended.status(at: Date()) == .ended)

            // Each change is in the audit, by the console, and the dashboard lists them.
            let entries = try await store.auditEntries(limit: 50, saleID: id, before: nil)
            #expect(entries.filter { $0.action == .saleUpdated }.count == 5)
            #expect(entries.allSatisfy { $0.action != .saleUpdated || $0.actor == .console })
            let page = try await client.send(.get, "/admin", headers: [.cookie: cookie])
            #expect(page.text.contains("admission_rate_per_second: 1000 → 80"))
            #expect(page.text.contains("paused: false → true"))
        }
    }

    @Test func endingASaleThatHasNotOpenedEndsItAndPausingTwiceRecordsOnce() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale([
                "starts_at": Timestamp.format(Date().addingTimeInterval(3_600)), "ends_at": Timestamp.format(Date().addingTimeInterval(7_200)),
            ])
            let id = UUID(uuidString: sale)!
            let (cookie, csrf) = try await Self.signIn(client)
            #expect(try await client.post("/admin/sales/\(sale)/end", form: "csrf=\(csrf)", cookie: cookie).status == .seeOther)
            #expect(try await store.sale(id: id)?.status(at: Date()) == .ended)
            _ = try await client.post("/admin/sales/\(sale)/pause", form: "csrf=\(csrf)", cookie: cookie)
            _ = try await client.post("/admin/sales/\(sale)/pause", form: "csrf=\(csrf)", cookie: cookie)
            let updates = try await store.auditEntries(limit: 50, saleID: id, before: nil).filter { $0.action == .saleUpdated }
            #expect(updates.count == 2, "the end and one pause: \(updates.map(\.after))")
        }
    }

    @Test func theNewSaleFormShowsTheAPIsErrorsBesideTheFieldsAndKeepsWhatWasTyped() async throws {
        try await withApp { client, store in
            let (cookie, csrf) = try await Self.signIn(client)
            var fields = [
                "csrf": csrf, "sku": "FORM-SKU-1", "name": "Form sneaker", "price_cents": "4200", "currency": "usd", "quantity": "0",
                "starts_at": ConsoleView.localTime(Date().addingTimeInterval(600)),
                "ends_at": ConsoleView.localTime(Date().addingTimeInterval(4_200)), "per_customer_limit": "1",
                "reservation_ttl_seconds": "600", "admission_rate_per_second": "25",
            ]
            func encoded() -> String {
                fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                    .joined(separator: "&")
            }
            let refused = try await client.post("/admin/sales", form: encoded(), cookie: cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains(#"id="error-quantity">quantity must be between 1"#))
            #expect(refused.text.contains(#"value="FORM-SKU-1""#))
            #expect(try await store.allSales().isEmpty)

            fields["quantity"] = "40"
            let created = try await client.post("/admin/sales", form: encoded(), cookie: cookie)
            #expect(created.status == .seeOther)
            let sale = try #require(try await store.allSales().first)
            #expect(sale.sku == "FORM-SKU-1" && sale.quantity == 40 && sale.currency == "USD" && sale.admissionRatePerSecond == 25)
            #expect(created.headers[.location] == "/admin#sale-\(sale.id.lowercased)")
        }
    }

    @Test func theBlocklistFormAddsAndRemovesNetworks() async throws {
        try await withApp { client, store in
            let (cookie, csrf) = try await Self.signIn(client)
            let cidr = "203.0.113.0/24".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let added = try await client.post("/admin/blocklist", form: "csrf=\(csrf)&cidr=\(cidr)&reason=bot+farm", cookie: cookie)
            #expect(added.status == .seeOther)
            let rules = try await store.accessRules(now: Date())
            #expect(rules.map(\.cidr.description) == ["203.0.113.0/24"] && rules.first?.reason == "bot farm")
            let page = try await client.send(.get, "/admin", headers: [.cookie: cookie])
            #expect(page.text.contains("203.0.113.0/24") && page.text.contains("bot farm"))
            let bad = try await client.post("/admin/blocklist", form: "csrf=\(csrf)&cidr=300.1.1.1%2F8", cookie: cookie)
            #expect(bad.status == .unprocessableContent && bad.text.contains("cidr must be"))
            let removed = try await client.post("/admin/blocklist/remove", form: "csrf=\(csrf)&cidr=\(cidr)", cookie: cookie)
            #expect(removed.status == .seeOther)
            #expect(try await store.accessRules(now: Date()).isEmpty)
        }
    }

    @Test func aBearerTokenSeesTheDashboardWithoutForms() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let page = try await client.send(.get, "/admin", headers: adminAuth)
            #expect(page.status == .ok && page.text.contains("data-sale-id=\"\(sale)\""))
            #expect(!page.text.contains("name=\"csrf\""))
        }
    }

    @Test func aRateChangedOnOneNodeIsAppliedByTheOtherWithinOneSecond() async throws {
        let store = try SQLiteStore(path: nil)
        var config = ServerConfig.testing
        config.nodeCount = 2
        let first = try await buildApplication(config, store: store)
        config.nodeIndex = 1
        let second = try await buildApplication(config, store: store)
        try await first.test(.router) { one in
            try await second.test(.router) { two in
                let sale = try await one.createSale(["admission_rate_per_second": 40])
                func appliedRate() async throws -> Int? {
                    let stats = try await two.stats(sale)
                    return (stats.json["queue"] as? [String: Any])?["admission_rate_per_second"] as? Int
                }
                // The other node has taken the sale into its catalog (its sale list is the
                // catalog's), so that its stats show the catalog's rate, not the store's.
                let seen = ContinuousClock.now
                while try await !two.send(.get, "/api/v1/sales").text.contains(sale), ContinuousClock.now - seen < .seconds(5) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await appliedRate() == 40)

                // Three changes: a busy test machine may delay one, not every one.
                var took: [Duration] = []
                for rate in [90, 120, 150] {
                    let patched = try await one.send(
                        .patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"admission_rate_per_second": \#(rate)}"#)
                    #expect(patched.status == .ok)
                    let start = ContinuousClock.now
                    while try await appliedRate() != rate, ContinuousClock.now - start < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
                    took.append(ContinuousClock.now - start)
                    #expect(try await appliedRate() == rate)
                }
                #expect(took.min()! <= .seconds(1), "the other node applied the new rates after \(took)")
                #expect(took.allSatisfy { $0 <= .seconds(3) }, "\(took)")
            }
        }
    }
}

extension TestClientProtocol {
    /// A form post as a browser sends it, with the session cookie when given.
    func post(_ uri: String, form: String, cookie: String? = nil, extra: HTTPFields = [:]) async throws -> Reply {
        var headers = ConsoleTests.form
        if let cookie { headers[.cookie] = cookie }
        headers.append(contentsOf: extra)
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: form)) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
    }
}
