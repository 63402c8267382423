import FlashSaleCore
import Foundation
import HTTPTypes
import Testing

@testable import FlashSaleServer

@Suite struct AdminApiTests {
    @Test func adminRoutesNeedTheToken() async throws {
        try await withApp { client, _ in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "Basic \(adminToken)"]] {
                let reply = try await client.send(.post, "/api/v1/admin/sales", headers: headers, json: saleJSON())
                #expect(reply.status == .unauthorized)
                #expect(reply.error == "unauthorized")
            }
            #expect(try await client.send(.get, "/api/v1/admin/sales").status == .unauthorized)
        }
    }

    @Test func createsASaleWithEveryField() async throws {
        try await withApp { client, _ in
            let reply = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: saleJSON(["quantity": 500]))
            #expect(reply.status == .created)
            #expect(reply.int("quantity") == 500 && reply.int("available") == 500 && reply.int("price_cents") == 12_900)
            #expect(reply["status"] == "live" && reply["currency"] == "USD")
            #expect(reply["starts_at"]?.hasSuffix("Z") == true)
            #expect(reply.headers[.location] == "/api/v1/admin/sales/\(reply["id"] ?? "")")
        }
    }

    @Test(arguments: [
        ["quantity": 0], ["quantity": -3], ["per_customer_limit": 0], ["reservation_ttl_seconds": 0],
        ["admission_rate_per_second": 0], ["price_cents": -1], ["currency": "dollars"], ["sku": ""], ["name": " "],
        ["ends_at": "2020-01-01T00:00:00Z"], ["starts_at": "yesterday"], ["quantity": "five"], ["quantity": 1.5],
        ["sku": 42], ["quantity": NSNull()],
    ] as [[String: any Sendable]])
    func refusesInvalidSales(_ overrides: [String: any Sendable]) async throws {
        try await withApp { client, store in
            let reply = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: saleJSON(overrides))
            #expect(reply.status == .unprocessableContent, "\(overrides): \(reply.text)")
            #expect(reply.error != nil && reply["message"] != nil)
            #expect(try await store.allSales().isEmpty, "no partial write")
        }
    }

    @Test(arguments: ["{", "[]", "null", "\"sale\"", "{\"sku\": }", ""])
    func refusesMalformedBodies(_ body: String) async throws {
        try await withApp { client, store in
            let reply = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: body)
            #expect([.badRequest, .unprocessableContent].contains(reply.status), "\(body): \(reply.text)")
            #expect(reply.error != nil)
            #expect(try await store.allSales().isEmpty)
        }
    }

    @Test func refusesOversizeBodies() async throws {
        try await withApp { client, _ in
            let huge = saleJSON(["name": String(repeating: "x", count: 200_000)])
            let reply = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: huge)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.error == "payload_too_large")
        }
    }

    @Test func duplicateSKUInAnOverlappingWindowConflicts() async throws {
        try await withApp { client, _ in
            _ = try await client.createSale(["sku": "SNKR-RED-42"])
            let reply = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: saleJSON(["sku": "SNKR-RED-42"]))
            #expect(reply.status == .conflict && reply.error == "duplicate_sku")
        }
    }

    @Test func patchPausesAndMovesTheEnd() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let paused = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"paused": true}"#)
            #expect(paused.status == .ok && paused["status"] == "paused")
            #expect(try await client.send(.get, "/api/v1/sales/\(sale)")["status"] == "paused")
            let end = Timestamp.format(Date().addingTimeInterval(-1))
            let ended = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"paused": false, "ends_at": "\#(end)"}"#)
            #expect(ended.status == .ok && ended["status"] == "ended")
            let bad = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"ends_at": "2000-01-01T00:00:00Z"}"#)
            #expect(bad.status == .unprocessableContent)
            let unknown = try await client.send(.patch, "/api/v1/admin/sales/\(UUID())", headers: adminAuth, json: #"{"paused": true}"#)
            #expect(unknown.status == .notFound && unknown.error == "sale_not_found")
        }
    }

    @Test func statsAddUp() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 3])
            let pass = try await client.admittedPass(sale)
            #expect(try await client.reserve(sale, pass: pass, json: #"{"email": "a@example.com"}"#).status == .created)
            let stats = try await client.stats(sale)
            #expect(stats.status == .ok)
            #expect(stats.int("quantity") == 3 && stats.int("available") == 2 && stats.int("reserved") == 1 && stats.int("sold") == 0)
            let queue = try #require(stats.json["queue"] as? [String: Any])
            #expect(queue["joined"] as? Int == 1 && queue["admitted"] as? Int == 1)
            #expect(try await client.stats(UUID().uuidString).status == .notFound)
        }
    }
}
