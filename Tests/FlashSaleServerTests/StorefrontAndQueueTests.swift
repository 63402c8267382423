import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Testing

@testable import FlashSaleServer

@Suite struct StorefrontAndQueueTests {
    @Test func saleReadsCarryETagsAndRevalidate() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 12])
            let first = try await client.send(.get, "/api/v1/sales/\(sale)")
            #expect(first.status == .ok && first.int("available") == 12 && first["status"] == "live")
            let etag = try #require(first.headers[.eTag])
            #expect(first.headers[.cacheControl]?.contains("max-age=1") == true)
            let again = try await client.send(.get, "/api/v1/sales/\(sale)", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            let list = try await client.send(.get, "/api/v1/sales")
            #expect(list.status == .ok && list.headers[.eTag] != nil)
            #expect((list.json["sales"] as? [[String: Any]])?.contains { $0["id"] as? String == sale } == true)
        }
    }

    @Test func longEndedSalesLeaveTheCacheButStillAnswer() async throws {
        try await withApp { client, store in
            let now = Date()
            let old = try await client.createSale([
                "starts_at": Timestamp.format(now.addingTimeInterval(-3 * 3600)),
                "ends_at": Timestamp.format(now.addingTimeInterval(-2 * 3600)),
            ])
            let catalog = SaleCatalog(store: store, lottery: { Lottery(secret: "s", saleID: $0) })
            let current = try await catalog.refresh()
            #expect(!current.contains { $0.id.lowercased == old }, "not re-rendered four times a second")
            let read = try await client.send(.get, "/api/v1/sales/\(old)")
            #expect(read.status == .ok && read["status"] == "ended")
            #expect(try await client.join(old)["status"] == "ended")
        }
    }

    @Test(arguments: ["/api/v1/sales/\(UUID())", "/api/v1/sales/not-a-uuid", "/api/v1/sales/%00", "/nowhere"])
    func unknownAddressesAreJSON404s(_ path: String) async throws {
        try await withApp { client, _ in
            let reply = try await client.send(.get, path)
            #expect(reply.status == .notFound && reply.error != nil, "\(path): \(reply.text)")
        }
    }

    @Test func joinIssuesAPassInBodyAndCookie() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let reply = try await client.join(sale)
            #expect(reply.status == .ok && reply["status"] == "admitted")
            let pass = try #require(reply["pass"])
            #expect(reply.headers[.setCookie]?.hasPrefix("queue_pass=\(pass);") == true)
            #expect(reply.int("poll_after_ms").map { (250...5_000).contains($0) } == true)
            #expect(reply["admitted_until"] != nil)
            // Polling with the pass, by header or by cookie, keeps the same pass.
            let poll = try await client.send(.get, "/api/v1/sales/\(sale)/queue", headers: [WaitingRoom.passHeader: pass])
            #expect(poll["pass"] == pass && poll["status"] == "admitted")
            let cookie = try await client.send(.get, "/api/v1/sales/\(sale)/queue", headers: [.cookie: "other=1; queue_pass=\(pass)"])
            #expect(cookie["pass"] == pass)
        }
    }

    @Test func forgedAndForeignPassesCountAsNoPass() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale()
            let other = try await client.createSale()
            let pass = try await client.admittedPass(other)
            let foreign = try await client.join(sale, pass: pass)
            #expect(foreign.status == .ok && foreign["pass"] != pass)
            var forged = Array(pass)
            forged[10] = forged[10] == "A" ? "B" : "A"
            let tampered = try await client.join(sale, pass: String(forged))
            #expect(tampered.status == .ok && tampered["pass"] != String(forged))
            let junk = try await client.join(sale, pass: String(repeating: "\u{7f}", count: 5_000))
            #expect(junk.status == .ok)
        }
    }

    @Test func waitingShoppersAreToldWhereTheyStand() async throws {
        try await withApp { client, _ in
            // One admission a second: the first joiner is admitted, the next ones wait.
            let sale = try await client.createSale(["admission_rate_per_second": 1])
            #expect(try await client.join(sale)["status"] == "admitted")
            // Joins back to back: at most one a second is admitted, so one soon waits (however
            // slowly the machine answers, joins come faster than one a second on average).
            var waitingAnswer: Reply?
            for _ in 0..<200 where waitingAnswer == nil {
                let answer = try await client.join(sale)
                if answer["status"] == "waiting" { waitingAnswer = answer }
            }
            let waiting = try #require(waitingAnswer)
            #expect(waiting.status == .ok)
            #expect((waiting.int("position") ?? 0) >= 1 && waiting.int("eta_seconds") != nil)
            #expect(waiting.int("poll_after_ms").map { (250...5_000).contains($0) } == true)
            let pass = try #require(waiting["pass"])
            // A waiting pass cannot reserve.
            let reply = try await client.reserve(sale, pass: pass, json: #"{"email": "w@example.com"}"#)
            #expect(reply.status == .forbidden && reply.error == "not_admitted")
        }
    }

    @Test func queueStatesFollowTheSale() async throws {
        try await withApp { client, _ in
            let later = Date().addingTimeInterval(600)
            let scheduled = try await client.createSale([
                "starts_at": Timestamp.format(later), "ends_at": Timestamp.format(later.addingTimeInterval(600)),
            ])
            let early = try await client.join(scheduled)
            #expect(early.status == .ok && early["status"] == "not_started")
            #expect(early.int("poll_after_ms") == 5_000)

            let sale = try await client.createSale()
            let end = Timestamp.format(Date().addingTimeInterval(-1))
            _ = try await client.send(.patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"ends_at": "\#(end)"}"#)
            #expect(try await client.join(sale)["status"] == "ended")

            let single = try await client.createSale(["quantity": 1])
            let pass = try await client.admittedPass(single)
            #expect(try await client.reserve(single, pass: pass, json: #"{"email": "s@example.com"}"#).status == .created)
            // One unit held: once the storefront cache has seen it, waiting shoppers keep
            // waiting, since the unit may come back (and are never told sold out).
            _ = try await eventually { try await client.send(.get, "/api/v1/sales/\(single)").int("available") == 0 ? true : nil }
            #expect(try await client.join(single)["status"] == "waiting")
        }
    }
}

@Suite struct LotteryApiTests {
    /// The sale object commits to the seed before the start and reveals it after; a shopper
    /// who joined early recomputes their first arrival from the seed and their pass.
    @Test func earlyBirdsCanCheckTheirDraw() async throws {
        try await withApp { client, _ in
            // An opening an hour away: the join is early however slow the machine is; the
            // operator then opens the sale now, and the early bird is drawn into that second.
            let later = Date().addingTimeInterval(3_600)
            let sale = try await client.createSale([
                "starts_at": Timestamp.format(later), "ends_at": Timestamp.format(later.addingTimeInterval(600)),
            ])
            let joined = try await client.join(sale)
            #expect(joined["status"] == "not_started")
            let before = try await client.send(.get, "/api/v1/sales/\(sale)")
            let commitment = try #require(before["lottery_commitment"])
            #expect(before["lottery_seed"] == nil)

            let opened = try await client.send(
                .patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"starts_at": "\#(Timestamp.format(Date()))"}"#)
            #expect(opened.status == .ok, "\(opened.text)")
            let seedHex = try await eventually { try await client.send(.get, "/api/v1/sales/\(sale)")["lottery_seed"] }
            let seed = stride(from: 0, to: seedHex.count, by: 2).map { offset -> UInt8 in
                let index = seedHex.index(seedHex.startIndex, offsetBy: offset)
                return UInt8(seedHex[index..<seedHex.index(index, offsetBy: 2)], radix: 16)!
            }
            let lottery = Lottery(seed: seed)
            #expect(lottery.commitment == commitment)
            // The next poll carries the pass re-drawn for the new opening.
            let earlyToken = try #require(joined["pass"])
            let polled = try await client.join(sale, pass: earlyToken)
            let signer = PassSigner(secret: ServerConfig.testing.secret)
            let early = try #require(signer.verify(earlyToken))
            let token = try #require(polled["pass"])
            let pass = try #require(signer.verify(token))
            #expect(pass.visitorID == early.visitorID)
            let startsAt = try #require(opened["starts_at"].flatMap(Timestamp.parse))
            let drawn = lottery.draw(visitor: pass.visitorID, startsAt: startsAt)
            #expect(Int64((pass.firstArrival.timeIntervalSince1970 * 1000).rounded()) == Int64((drawn.timeIntervalSince1970 * 1000).rounded()))
            // Once it has started, the opening cannot move.
            let moved = try await client.send(
                .patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"starts_at": "\#(Timestamp.format(later))"}"#)
            #expect(moved.status == .conflict && moved.error == "sale_started", "\(moved.text)")
        }
    }
}

