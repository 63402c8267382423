import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Testing

@testable import FlashSaleServer

@Suite struct ReservationApiTests {
    @Test func reservesOnceAndReplaysTheStoredResponse() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale(["quantity": 2])
            let pass = try await client.admittedPass(sale)
            let body = #"{"email": "ann@example.com", "quantity": 1}"#
            let first = try await client.reserve(sale, pass: pass, key: "order-1", json: body)
            #expect(first.status == .created)
            #expect(first["sale_id"] == sale && first.int("quantity") == 1 && first.int("amount_cents") == 12_900)
            #expect(first["expires_at"]?.hasSuffix("Z") == true && first["reservation_id"] != nil)
            let replay = try await client.reserve(sale, pass: pass, key: "order-1", json: body)
            #expect(replay.status == .created && replay.body == first.body)
            let reused = try await client.reserve(sale, pass: pass, key: "order-1", json: #"{"email": "ann@example.com", "quantity": 2}"#)
            #expect(reused.status == .unprocessableContent && reused.error == "idempotency_key_reused")
            #expect(try await client.stats(sale).int("reserved") == 1)
            // One live reservation per pass.
            let second = try await client.reserve(sale, pass: pass, key: "order-2", json: #"{"email": "bo@example.com"}"#)
            #expect(second.status == .conflict)
            let id = try #require(first["reservation_id"].flatMap(UUID.init(uuidString:)))
            #expect(try await store.reservation(id: id)?.status == .held)
        }
    }

    @Test func missingOrInvalidKeysAreRefused() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let pass = try await client.admittedPass(sale)
            for key in [nil, "", String(repeating: "k", count: 256), "tab\tkey"] as [String?] {
                let reply = try await client.reserve(sale, pass: pass, key: key, json: #"{"email": "a@example.com"}"#)
                #expect(reply.status == .badRequest && reply.error == "idempotency_key_required", "\(String(describing: key))")
            }
        }
    }

    @Test func refusesWithoutAnAdmittedPass() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale()
            for pass in [nil, "garbage", String(repeating: "A", count: 87)] as [String?] {
                let reply = try await client.reserve(sale, pass: pass, json: #"{"email": "a@example.com"}"#)
                #expect(reply.status == .forbidden && reply.error == "not_admitted")
            }
            #expect(try await store.sale(id: UUID(uuidString: sale)!)?.inventory.reserved == 0)
        }
    }

    @Test(arguments: [
        ("{", "invalid_json"), ("", "invalid_json"), ("[1]", "validation_failed"), (#"{"email": 5}"#, "validation_failed"),
        (#"{"quantity": 1}"#, "validation_failed"), (#"{"email": "not-an-email"}"#, "validation_failed"),
        (#"{"email": "a@example.com", "quantity": 0}"#, "validation_failed"),
        (#"{"email": "a@example.com", "quantity": "1"}"#, "validation_failed"),
        (#"{"email": "a@example.com", "quantity": 99999999999999999999}"#, "validation_failed"),
    ])
    func badBodiesAre4xxWithNoWrite(body: String, code: String) async throws {
        try await withApp { client, store in
            let sale = try await client.createSale()
            let pass = try await client.admittedPass(sale)
            let reply = try await client.reserve(sale, pass: pass, json: body)
            #expect((400..<500).contains(reply.status.code) && reply.error == code, "\(body): \(reply.text)")
            #expect(try await store.sale(id: UUID(uuidString: sale)!)?.inventory.reserved == 0)
        }
    }

    @Test func oversizeBodiesAre413() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let pass = try await client.admittedPass(sale)
            let body = #"{"email": "a@example.com", "pad": ""# + String(repeating: "x", count: 100_000) + "\"}"
            let reply = try await client.reserve(sale, pass: pass, json: body)
            #expect(reply.status == .contentTooLarge && reply.error == "payload_too_large")
        }
    }

    @Test func saleStatesMapToTheirCodes() async throws {
        try await withApp { client, _ in
            // Two units, both admitted; the first shopper takes both, so the second meets a sold-out sale.
            let sale = try await client.createSale(["quantity": 2, "per_customer_limit": 2])
            let pass = try await client.admittedPass(sale)
            let other = try await client.admittedPass(sale)
            let both = #"{"email": "a@example.com", "quantity": 2}"#
            _ = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"paused": true}"#)
            #expect(try await client.reserve(sale, pass: pass, json: both).error == "sale_paused")
            _ = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"paused": false}"#)
            #expect(try await client.reserve(sale, pass: pass, json: both).status == .created)
            let soldOut = try await client.reserve(sale, pass: other, json: #"{"email": "b@example.com"}"#)
            #expect(soldOut.status == .conflict && soldOut.error == "sold_out")
            let end = Timestamp.format(Date().addingTimeInterval(-1))
            _ = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"ends_at": "\#(end)"}"#)
            let ended = try await client.reserve(sale, pass: other, json: #"{"email": "b@example.com"}"#)
            #expect(ended.status == .gone && ended.error == "sale_ended")
        }
    }

    @Test func perCustomerLimitHoldsAcrossEmailTricks() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 10, "per_customer_limit": 1])
            let first = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "jane.doe@gmail.com"}"#)
            #expect(first.status == .created)
            for trick in ["Jane.Doe@Gmail.com", "janedoe+flash@gmail.com", "j.a.n.e.d.o.e@googlemail.com"] {
                let reply = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "\#(trick)"}"#)
                #expect(reply.status == .unprocessableContent && reply.error == "limit_exceeded", "\(trick)")
            }
            let over = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "x@example.com", "quantity": 2}"#)
            #expect(over.error == "limit_exceeded")
            #expect(try await client.stats(sale).int("reserved") == 1)
        }
    }

    @Test func cancellingReturnsUnitsAtOnce() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 1])
            let reply = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "a@example.com"}"#)
            let id = try #require(reply["reservation_id"])
            #expect(try await client.join(sale)["status"] == "waiting", "the only unit is held")
            #expect(try await client.send(.delete, "/api/v1/reservations/\(id)").status == .noContent)
            #expect(try await client.stats(sale).int("available") == 1)
            let nextPass = try await client.admittedPass(sale)
            #expect(try await client.send(.delete, "/api/v1/reservations/\(id)").status == .noContent)
            #expect(try await client.send(.delete, "/api/v1/reservations/\(UUID())").status == .notFound)
            // The unit can be reserved again straight away.
            let again = try await client.reserve(sale, pass: nextPass, json: #"{"email": "b@example.com"}"#)
            #expect(again.status == .created)
        }
    }

    /// The sweeper returns the units of an unpaid reservation after `expires_at` (how soon
    /// is a timing claim, measured where the machine is quiet: BENCHMARKS.md), and only then.
    @Test func unpaidReservationsExpireAndReturnTheirUnits() async throws {
        try await withApp { client, store in
            let sale = try await client.createSale(["quantity": 1, "reservation_ttl_seconds": 2])
            // The admission lasts the TTL too: on a starved machine the reservation may come
            // later than 2 s after it, and is refused; then the shopper queues again.
            var reply = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "a@example.com"}"#)
            for _ in 0..<20 where reply.status != .created {
                #expect(reply.error == "not_admitted", "\(reply.text)")
                reply = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "a@example.com"}"#)
            }
            let expiresAt = try #require(reply["expires_at"].flatMap(Timestamp.parse))
            let id = try #require(reply["reservation_id"].flatMap(UUID.init(uuidString:)))
            let returned = try await eventually { () async throws -> Date? in
                let stats = try await client.stats(sale)
                return stats.int("available") == 1 && stats.int("reserved") == 0 ? Date() : nil
            }
            #expect(returned >= expiresAt, "returned before it expired")
            #expect(try await store.reservation(id: id)?.status == .expired)
        }
    }

    @Test func aKeyStillRunningIsRefused() async throws {
        let store = try SQLiteStore(path: nil)
        try await store.migrate()
        let guardian = IdempotencyGuard(store: store)
        let claim = IdempotencyClaim(scope: "s", key: "k", body: Data("{}".utf8))
        let started = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        async let first = guardian.run(claim) {
            started.continuation.yield()
            for await _ in release.stream { break }
            return .init(response: StoredResponse(status: 201, body: Data()), recorded: true)
        }
        for await _ in started.stream { break }
        await #expect(throws: APIError.requestInProgress) {
            try await guardian.run(claim) { .init(response: StoredResponse(status: 201, body: Data()), recorded: true) }
        }
        release.continuation.yield()
        #expect(try await first.status == 201)
    }
}

@Suite struct IdempotentReplayTests {
    /// A replay arriving after the sale sold out, or while it is paused, is answered from
    /// the stored record, not by the gate or the pause.
    @Test func replaysOutliveSoldOutAndPause() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 2, "per_customer_limit": 2])
            // Both shoppers are admitted while the units are available; the first takes both.
            let pass = try await client.admittedPass(sale)
            let latePass = try await client.admittedPass(sale)
            let body = #"{"email": "last@example.com", "quantity": 2}"#
            let first = try await client.reserve(sale, pass: pass, key: "last-unit", json: body)
            #expect(first.status == .created)
            let soldOut = try await client.reserve(sale, pass: latePass, json: #"{"email": "late@example.com"}"#)
            #expect(soldOut.error == "sold_out")
            let replay = try await client.reserve(sale, pass: pass, key: "last-unit", json: body)
            #expect(replay.status == .created && replay.body == first.body)
            let reused = try await client.reserve(sale, pass: pass, key: "last-unit", json: #"{"email": "other@example.com"}"#)
            #expect(reused.error == "idempotency_key_reused")
            _ = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"paused": true}"#)
            let paused = try await client.reserve(sale, pass: pass, key: "last-unit", json: body)
            #expect(paused.status == .created && paused.body == first.body)
        }
    }
}
