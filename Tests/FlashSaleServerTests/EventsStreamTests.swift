import AsyncHTTPClient
import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import FlashSaleServer

/// `GET /api/v1/admin/events` over a real socket: a `stats` event at least every second,
/// in API.md's shape, whose figures follow what shoppers do.
@Suite struct EventsStreamTests {
    /// Reads `stats` events from a live stream and hands each to `until` (true: stop).
    static func follow(
        port: Int, headers: [(String, String)], timeout: Duration = .seconds(15), until: ([String: Any], Duration) async throws -> Bool
    ) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/admin/events")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        guard response.status == .ok else { return Int(response.status.code) }
        #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
        let start = ContinuousClock.now
        var pending = ""
        for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let end = pending.range(of: "\n\n") {
                let block = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                guard block.contains("event: stats"), let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }) else {
                    continue
                }
                let json = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                if try await until(json, ContinuousClock.now - start) { return 200 }
            }
            if ContinuousClock.now - start > timeout { break }
        }
        Issue.record("the stream ended or timed out before the awaited event")
        return 200
    }

    @Test func statsEventsComeEverySecondAndFollowTheSale() async throws {
        let store = try SQLiteStore(path: nil)
        let app = try await buildApplication(ServerConfig.testing, store: store)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let sale = try await client.createSale(["quantity": 5])
            #expect(try await Self.follow(port: port, headers: [("Authorization", "Bearer nope")]) { _, _ in true } == 401)

            var times: [Duration] = []
            var acted = false
            let status = try await Self.follow(port: port, headers: [("Authorization", "Bearer \(adminToken)")]) { event, at in
                times.append(at)
                #expect(event["at"] is String && event["blocked"] is [String: Any])
                let sales = try #require(event["sales"] as? [[String: Any]])
                let mine = try #require(sales.first { $0["sale_id"] as? String == sale })
                let queue = try #require(mine["queue"] as? [String: Any])
                let payments = try #require(mine["payments"] as? [String: Any])
                for key in ["joined", "waiting", "admitted", "admission_rate_per_second", "threshold_lag_seconds"] {
                    #expect(queue[key] is NSNumber, "queue.\(key)")
                }
                for key in ["succeeded", "declined", "unknown", "refunded"] { #expect(payments[key] is Int, "payments.\(key)") }
                let (available, reserved, sold) = (mine["available"] as? Int ?? -1, mine["reserved"] as? Int ?? -1, mine["sold"] as? Int ?? -1)
                #expect(available + reserved + sold == 5 && min(available, reserved, sold) >= 0)
                #expect(mine["status"] as? String == "live" && mine["blocked"] is [String: Any])
                if !acted {
                    // A shopper joins, is admitted and holds a unit.
                    acted = true
                    let pass = try await client.admittedPass(sale)
                    let held = try await client.reserve(sale, pass: pass, json: #"{"email": "e@example.com", "quantity": 1}"#)
                    #expect(held.status == .created)
                    return false
                }
                return reserved == 1 && queue["admitted"] as? Int == 1 && queue["joined"] as? Int == 1
            }
            #expect(status == 200)
            // At least one event a second (the first at once).
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            #expect(times.first.map { $0 < .seconds(1) } ?? false)
            #expect(gaps.allSatisfy { $0 < .milliseconds(1_500) }, "gaps \(gaps)")
        }
    }

    @Test func theDashboardsSessionCookieOpensTheStream() async throws {
        let app = try await buildApplication(ServerConfig.testing, store: try SQLiteStore(path: nil))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let session = ConsoleSession(secret: ServerConfig.testing.secret, adminToken: adminToken).issue(now: Date()).value
            let status = try await Self.follow(port: port, headers: [("Cookie", "\(ConsoleSession.cookieName)=\(session)")]) { event, _ in
                event["sales"] is [Any]
            }
            #expect(status == 200)
        }
    }
}
