import FlashSaleCore
import FlashSalePayments
import FlashSaleStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// Every operator action leaves exactly one audit entry, and nothing else leaves one,
/// through the real router and store.
@Suite struct AuditApiTests {
    @Test func auditNeedsTheToken() async throws {
        try await withApp { client, _ in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"]] {
                let reply = try await client.send(.get, "/api/v1/admin/audit", headers: headers)
                #expect(reply.status == .unauthorized && reply.error == "unauthorized", "\(reply.text)")
            }
        }
    }

    /// The dashboard's forms go through the same actions and are recorded as `console`;
    /// its signed-in session may read the audit too.
    @Test func dashboardActionsAreRecordedAsTheConsole() async throws {
        try await withApp { client, _ in
            let (cookie, csrf) = try await ConsoleTests.signIn(client)
            let cidr = "203.0.113.0/24".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let added = try await client.post("/admin/blocklist", form: "csrf=\(csrf)&cidr=\(cidr)&reason=bot+farm", cookie: cookie)
            #expect(added.status == .seeOther, "\(added.text)")
            let reply = try await client.send(.get, "/api/v1/admin/audit", headers: [.cookie: cookie])
            #expect(reply.status == .ok, "\(reply.text)")
            let entry = try #require((reply.json["entries"] as? [[String: Any]])?.first)
            #expect(entry["action"] as? String == "access_rule.added" && entry["actor"] as? String == "console")
            #expect((entry["after"] as? [String: Any])?["reason"] as? String == "bot farm")
        }
    }

    @Test func salesCreatedAndChangedAreRecorded() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 7])
            let created = try #require(try await client.audit("sale_id=\(sale)").first)
            #expect(created["action"] as? String == "sale.created" && created["subject"] as? String == sale)
            #expect(created["sale_id"] as? String == sale && created["actor"] as? String == "admin_token")
            #expect(created["before"] is NSNull && (created["id"] as? Int ?? 0) > 0)
            let after = try #require(created["after"] as? [String: Any])
            #expect(after["id"] as? String == sale && after["quantity"] as? Int == 7 && after["paused"] as? Bool == false)
            let at = try #require((created["at"] as? String).flatMap(Timestamp.parse))
            #expect(abs(at.timeIntervalSinceNow) < 60)

            let patched = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"paused": true}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            let entries = try await client.audit("sale_id=\(sale)")
            #expect(entries.map { $0["action"] as? String } == ["sale.updated", "sale.created"], "newest first")
            let updated = try #require(entries.first)
            #expect((updated["before"] as? [String: Any])?["paused"] as? Bool == false)
            #expect((updated["after"] as? [String: Any])?["paused"] as? Bool == true)
            #expect((updated["after"] as? [String: Any])?["status"] as? String == "paused")
        }
    }

    @Test func refusedSaleChangesLeaveNoEntry() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let sku = try #require(try await client.send(.get, "/api/v1/admin/sales/\(sale)", headers: adminAuth)["sku"])
            let count = try await client.audit().count
            let refusals: [(HTTPRequest.Method, String, String, HTTPResponse.Status)] = [
                (.post, "/api/v1/admin/sales", saleJSON(["quantity": 0]), .unprocessableContent),
                (.post, "/api/v1/admin/sales", saleJSON(["sku": sku]), .conflict),
                (.patch, "/api/v1/admin/sales/\(sale)", "{}", .unprocessableContent),
                (.patch, "/api/v1/admin/sales/\(sale)", #"{"ends_at": "2000-01-01T00:00:00Z"}"#, .unprocessableContent),
                (.patch, "/api/v1/admin/sales/\(UUID())", #"{"paused": true}"#, .notFound),
            ]
            for (method, uri, json, status) in refusals {
                let reply = try await client.send(method, uri, headers: adminAuth, json: json)
                #expect(reply.status == status, "\(uri) \(json): \(reply.text)")
            }
            #expect(try await client.audit().count == count)
        }
    }

    @Test func accessRulesAddedReplacedAndRemovedAreRecorded() async throws {
        try await withApp { client, _ in
            let cidr = "203.0.113.0/24"
            let add = try await client.send(
                .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "\#(cidr)", "reason": "flood"}"#)
            #expect(add.status == .created, "\(add.text)")
            let replace = try await client.send(
                .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "\#(cidr)", "reason": "flood, again"}"#)
            #expect(replace.status == .created, "\(replace.text)")
            let allow = try await client.send(.post, "/api/v1/admin/allowlist", headers: adminAuth, json: #"{"cidr": "2001:db8::/32"}"#)
            #expect(allow.status == .created, "\(allow.text)")
            let remove = try await client.send(.delete, "/api/v1/admin/blocklist/203.0.113.0%2F24", headers: adminAuth)
            #expect(remove.status == .noContent, "\(remove.text)")

            let entries = try await client.audit()
            #expect(entries.count == 4)
            #expect(
                entries.map { $0["action"] as? String }
                    == ["access_rule.removed", "access_rule.added", "access_rule.added", "access_rule.added"])
            #expect(entries.map { $0["subject"] as? String } == [cidr, "2001:db8::/32", cidr, cidr])
            #expect(entries.allSatisfy { $0["sale_id"] is NSNull && $0["actor"] as? String == "admin_token" })
            func view(_ index: Int, _ side: String) -> [String: Any]? { entries[index][side] as? [String: Any] }
            #expect(view(0, "before")?["list"] as? String == "block" && view(0, "before")?["reason"] as? String == "flood, again")
            #expect(entries[0]["after"] is NSNull)
            #expect(view(1, "after")?["list"] as? String == "allow" && entries[1]["before"] is NSNull)
            #expect(view(2, "before")?["reason"] as? String == "flood" && view(2, "after")?["reason"] as? String == "flood, again")
            #expect(entries[3]["before"] is NSNull && view(3, "after")?["list"] as? String == "block")

            // Refused: nothing to remove, a network that does not parse.
            let again = try await client.send(.delete, "/api/v1/admin/blocklist/203.0.113.0%2F24", headers: adminAuth)
            #expect(again.status == .notFound, "\(again.text)")
            let bad = try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "300.1.1.1/8"}"#)
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            #expect(try await client.audit().count == 4)
        }
    }

    @Test func anOrderCancelledIsRecordedOnce() async throws {
        try await withApp(provider: try SimulatedProvider()) { client, _ in
            let (sale, reservation) = try await client.reservation(quantity: 3)
            let paid = try await client.pay(reservation, card: PaymentApiTests.good)
            let orderID = try #require(paid["order_id"])
            let unknown = try await client.send(.post, "/api/v1/admin/orders/\(UUID())/cancel", headers: adminAuth)
            #expect(unknown.status == .notFound)

            for _ in 0..<2 {
                let cancelled = try await client.send(.post, "/api/v1/admin/orders/\(orderID)/cancel", headers: adminAuth)
                #expect(cancelled.status == .ok, "\(cancelled.text)")
            }
            let entries = try await client.audit("sale_id=\(sale)")
            #expect(entries.map { $0["action"] as? String } == ["order.cancelled", "sale.created"], "the repeat changed nothing")
            let entry = try #require(entries.first)
            #expect(entry["subject"] as? String == orderID && entry["actor"] as? String == "admin_token")
            let before = try #require(entry["before"] as? [String: Any])
            let after = try #require(entry["after"] as? [String: Any])
            #expect(before["order_id"] as? String == orderID && before["payment_status"] as? String == "paid")
            #expect(before["status"] as? String == "paid")
            #expect(["refunding", "refunded"].contains(after["payment_status"] as? String ?? ""), "\(after)")
        }
    }

    @Test func entriesArePagedNewestFirst() async throws {
        try await withApp { client, _ in
            let sales = [try await client.createSale(), try await client.createSale(), try await client.createSale()]
            let first = try await client.audit("limit=2")
            #expect(first.map { $0["subject"] as? String } == [sales[2], sales[1]])
            let last = try #require(first.last?["id"] as? Int)
            let next = try await client.audit("limit=2&before=\(last)")
            #expect(next.map { $0["subject"] as? String } == [sales[0]])
        }
    }
}

extension TestClientProtocol {
    /// The audit entries `GET /api/v1/admin/audit?query` answers.
    func audit(_ query: String = "") async throws -> [[String: Any]] {
        let reply = try await send(.get, "/api/v1/admin/audit?\(query)", headers: adminAuth)
        #expect(reply.status == .ok, "\(reply.text)")
        return try #require(reply.json["entries"] as? [[String: Any]], "\(reply.text)")
    }
}
