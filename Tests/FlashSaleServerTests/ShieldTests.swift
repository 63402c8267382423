import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import FlashSaleServer

/// The edge shield over real sockets: the test client's peer is 127.0.0.1, a trusted
/// proxy here, so `X-Forwarded-For` plays any number of distinct clients.
@Suite struct ShieldTests {
    /// A network of documentation addresses nobody else in the suite uses.
    static func network() -> (cidr: String, member: String) {
        let a = UInt8.random(in: 0...255)
        let b = UInt8.random(in: 0...255)
        return ("198.18.\(a).0/24", "198.18.\(a).\(b)")
    }

    /// SQLite always; PostgreSQL (a scratch database of its own) when the suite has a server.
    static var stores: [String] {
        ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"] == nil ? ["sqlite"] : ["sqlite", "postgres"]
    }

    func withShield(
        _ kind: String, _ configure: (inout ServerConfig) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var config = ServerConfig.testing
        config.trustedProxies = [CIDR("127.0.0.0/8")!]
        configure(&config)
        let scratch = kind == "postgres" ? try ScratchPostgres.create() : nil
        defer { if let scratch { ScratchPostgres.drop(scratch) } }
        let store: any Store = try scratch.map { try makeStore(try DatabaseURL(parsing: $0), logger: Logger(label: "shield-tests")) }
            ?? SQLiteStore(path: nil)
        let app = try await buildApplication(config, store: store)
        try await app.test(.live) { client in try await body(client) }
    }

    @Test(arguments: stores) func theBlocklistIsKeptAndRefusesBadNetworks(store: String) async throws {
        try await withShield(store) { client in
            let added = try await client.send(
                .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "203.0.113.0/24", "reason": "flood"}"#)
            #expect(added.status == .created, "\(added.text)")
            #expect(added["cidr"] == "203.0.113.0/24" && added["reason"] == "flood" && added["list"] == "block")
            let v6 = try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "2001:db8::/48"}"#)
            #expect(v6.status == .created && v6["cidr"] == "2001:db8::/48", "\(v6.text)")
            for bad in ["300.1.1.1/8", "10.0.0.0/33", "x", "", "1.2.3.4/-1", "1.2.3.4/", "::1/129", "1.2.3.4 /8"] {
                let reply = try await client.send(
                    .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "\#(bad)", "reason": "bad"}"#)
                #expect(reply.status == .unprocessableContent && reply.error == "validation_failed", "\(bad): \(reply.text)")
            }
            let control = try await client.send(
                .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "192.0.2.0/24", "reason": "a\u0000b"}"#)
            #expect(control.status == .unprocessableContent)
            let listed = try await client.send(.get, "/api/v1/admin/blocklist", headers: adminAuth)
            let cidrs = (listed.json["blocklist"] as? [[String: Any]] ?? []).compactMap { $0["cidr"] as? String }
            #expect(Set(cidrs) == ["203.0.113.0/24", "2001:db8::/48"], "nothing else was stored: \(cidrs)")
            // Delete, percent-encoded or as two segments; a second delete finds nothing.
            #expect(try await client.send(.delete, "/api/v1/admin/blocklist/203.0.113.0%2F24", headers: adminAuth).status == .noContent)
            #expect(try await client.send(.delete, "/api/v1/admin/blocklist/2001:db8::/48", headers: adminAuth).status == .noContent)
            let again = try await client.send(.delete, "/api/v1/admin/blocklist/203.0.113.0%2F24", headers: adminAuth)
            #expect(again.status == .notFound && again.error == "access_rule_not_found")
            #expect(try await client.send(.delete, "/api/v1/admin/blocklist/nonsense", headers: adminAuth).status == .unprocessableContent)
            // The lists are the operator's: no token, no access.
            #expect(try await client.send(.get, "/api/v1/admin/blocklist").status == .unauthorized)
        }
    }

    @Test(arguments: stores) func aBlockedClientIsRefusedOnEveryShopRouteAndOthersAreNot(store: String) async throws {
        try await withShield(store) { client in
            let sale = try await client.createSale()
            let (cidr, blocked) = Self.network()
            let other = "192.0.2.77"
            #expect(try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "\#(cidr)"}"#).status == .created)
            let routes: [(HTTPRequest.Method, String)] = [
                (.get, "/api/v1/sales"), (.get, "/api/v1/sales/\(sale)"), (.post, "/api/v1/sales/\(sale)/queue"),
                (.get, "/api/v1/sales/\(sale)/queue"), (.post, "/api/v1/sales/\(sale)/reservations"), (.get, "/"),
                (.get, "/sales/\(sale)"), (.get, "/sales/\(sale)/checkout"), (.get, "/api/v1/orders/\(UUID())"),
            ]
            for (method, path) in routes {
                let refused = try await client.send(method, path, headers: [HTTPField.Name("X-Forwarded-For")!: blocked])
                #expect(refused.status == .forbidden && refused.error == "blocked", "\(method) \(path): \(refused.text)")
                let fine = try await client.send(method, path, headers: [HTTPField.Name("X-Forwarded-For")!: other])
                #expect(fine.status != .forbidden, "\(method) \(path) for another client: \(fine.text)")
            }
            // A browser gets a page that says so.
            let page = try await client.send(
                .get, "/sales/\(sale)", headers: [HTTPField.Name("X-Forwarded-For")!: blocked, .accept: "text/html"])
            #expect(page.status == .forbidden && page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("data-status=\"blocked\""))
            // Probes are not shop routes.
            #expect(try await client.send(.get, "/healthz", headers: [HTTPField.Name("X-Forwarded-For")!: blocked]).status == .ok)
            // Lifting the block lets the client in again at once on this node.
            let encoded = cidr.replacingOccurrences(of: "/", with: "%2F")
            #expect(try await client.send(.delete, "/api/v1/admin/blocklist/\(encoded)", headers: adminAuth).status == .noContent)
            #expect(try await client.send(.get, "/api/v1/sales", headers: [HTTPField.Name("X-Forwarded-For")!: blocked]).status == .ok)
        }
    }

    @Test(arguments: stores) func forwardedForCountsOnlyFromTrustedProxies(store: String) async throws {
        // No trusted proxy: the header is the client's own claim and is ignored.
        try await withShield(store, { $0.trustedProxies = [] }) { client in
            let (cidr, member) = Self.network()
            #expect(try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "\#(cidr)"}"#).status == .created)
            let spoofed = try await client.send(.get, "/api/v1/sales", headers: [HTTPField.Name("X-Forwarded-For")!: member])
            #expect(spoofed.status == .ok)
            // The peer itself is what counts: a block of its network is refused, since it
            // would lock the operator out (the blocklist applies to admin routes too).
            let own = try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "127.0.0.0/8"}"#)
            #expect(own.status == .unprocessableContent && own.text.contains("your own address"), "\(own.text)")
            let everyone = try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "0.0.0.0/0"}"#)
            #expect(everyone.status == .unprocessableContent)
            #expect(try await client.send(.get, "/api/v1/sales").status == .ok)
        }
    }

    @Test(arguments: stores) func overTheLimitIs429WithRetryAfterAndTheAllowListIsExempt(store: String) async throws {
        try await withShield(store, {
            // One token a minute: the test sees the burst alone, however slow the machine.
            $0.shield.requests = RatePolicy(perMinute: 1, burst: 3)
            $0.shield.joins = RatePolicy(perMinute: 1, burst: 2)
        }) { client in
            let sale = try await client.createSale(["admission_rate_per_second": 1])
            let flooder: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "192.0.2.10"]
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 { statuses.append(try await client.send(.get, "/api/v1/sales", headers: flooder).status) }
            #expect(statuses == [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
            let limited = try await client.send(.get, "/api/v1/sales/\(sale)", headers: flooder)
            #expect(limited.error == "rate_limited" && (limited.headers[.retryAfter].flatMap(Int.init) ?? 0) >= 1, "\(limited.text)")
            // Another client has its own bucket.
            #expect(try await client.send(.get, "/api/v1/sales", headers: [HTTPField.Name("X-Forwarded-For")!: "192.0.2.11"]).status == .ok)
            // Joins without a pass spend the join bucket.
            var joins: [HTTPResponse.Status] = []
            for _ in 0..<3 { joins.append(try await client.send(.post, "/api/v1/sales/\(sale)/queue", headers: flooder).status) }
            #expect(joins == [.ok, .ok, .tooManyRequests])
            // The operator's allow list is exempt.
            #expect(try await client.send(.post, "/api/v1/admin/allowlist", headers: adminAuth, json: #"{"cidr": "192.0.2.10/32", "reason": "office"}"#).status == .created)
            for _ in 0..<10 { #expect(try await client.send(.get, "/api/v1/sales", headers: flooder).status == .ok) }
        }
    }

    /// 40 shoppers behind one NAT address join and poll as told, solving the proof of work
    /// their busy address is asked for: their polls are keyed on their passes, so none is
    /// ever refused, and a pass polling too soon gets its state.
    @Test(arguments: stores) func shoppersBehindOneNATAddressAreNeverRefused(store: String) async throws {
        try await withShield(store) { client in
            let sale = try await client.createSale(["admission_rate_per_second": 5, "quantity": 100])
            let office: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "192.0.2.200"]
            try await withThrowingTaskGroup(of: [HTTPResponse.Status].self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        var seen: [HTTPResponse.Status] = []
                        var headers = office
                        for _ in 0..<8 {
                            let reply = try await client.send(.post, "/api/v1/sales/\(sale)/queue", headers: headers)
                            seen.append(reply.status)
                            guard let pass = reply["pass"] else { break }
                            headers[WaitingRoom.passHeader] = pass
                            headers[JoinChallenges.proofHeader] = nil
                            if reply["status"] == "admitted" { break }
                            if reply["status"] == "challenge", let challenge = reply.json["challenge"] as? [String: Any],
                                let prefix = challenge["prefix"] as? String, let bits = challenge["difficulty_bits"] as? Int
                            {
                                #expect(bits <= ChallengeLevels.standard.bits[2], "an office NAT pays little")
                                headers[JoinChallenges.proofHeader] = await solvedOffThePool(prefix: prefix, bits: bits)
                                continue
                            }
                            try await Task.sleep(for: .milliseconds(reply.int("poll_after_ms") ?? 500))
                        }
                        return seen
                    }
                }
                for try await seen in group { #expect(seen.allSatisfy { $0 == .ok }, "\(seen)") }
            }
            // A pass that ignores poll_after_ms is answered 200 with its state, never 429.
            let joined = try await client.send(.post, "/api/v1/sales/\(sale)/queue", headers: office)
            var headers = office
            let token: String = try #require(joined["pass"])
            headers[WaitingRoom.passHeader] = token
            for _ in 0..<20 {
                let eager = try await client.send(.get, "/api/v1/sales/\(sale)/queue", headers: headers)
                #expect(eager.status == .ok && eager["pass"] != nil)
            }
        }
    }
}

/// `ProofOfWork.solve` on a thread of its own: hashing is synchronous, and a debug build's
/// 16-bit solves inline would hold Swift's cooperative threads (two here) for seconds,
/// stalling every other suite in the process (payment calls timed out at 3 s in CI).
func solvedOffThePool(prefix: String, bits: Int) async -> String {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: ProofOfWork.solve(prefix: prefix, difficultyBits: bits)) }.start()
    }
}
