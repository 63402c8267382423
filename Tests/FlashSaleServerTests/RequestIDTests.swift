import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FlashSaleServer

/// `X-Request-Id` on every response, and on every log line of its request.
@Suite struct RequestIDTests {
    static func isGenerated(_ id: String?) -> Bool { id?.wholeMatch(of: #/[0-9a-f]{32}/#) != nil }

    func withApp(
        logger: Logger = Logger(label: "request-id-tests"), _ configure: (inout ServerConfig) -> Void = { _ in },
        testing: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var config = ServerConfig.testing
        configure(&config)
        let app = try await buildApplication(config, logger: logger, store: try SQLiteStore(path: nil))
        try await app.test(testing) { client in try await body(client) }
    }

    @Test func oneIsMadeWhenTheRequestHasNone() async throws {
        try await withApp { client in
            let first = try await client.send(.get, "/healthz")
            let second = try await client.send(.get, "/api/v1/sales")
            let ids = [first, second].compactMap { $0.headers[RequestID.header] }
            #expect(ids.count == 2 && ids.allSatisfy(Self.isGenerated), "\(ids)")
            #expect(ids.first != ids.last)
        }
    }

    @Test(arguments: ["0f3c9a1e6b2d4c8a9e7f1a2b3c4d5e6f", "req-42", "lb:eu-1.node_7:000123", String(repeating: "a", count: 128)])
    func aWellFormedIncomingIdIsKept(id: String) async throws {
        try await withApp { client in
            let reply = try await client.send(.get, "/api/v1/sales", headers: [RequestID.header: id])
            #expect(reply.status == .ok && reply.headers[RequestID.header] == id)
        }
    }

    @Test(arguments: [
        "", "has space", "semi;colon", "quote\"", "ünïcode", "a/b", String(repeating: "a", count: 129), "x\u{7F}y",
    ])
    func anythingElseIsReplaced(id: String) async throws {
        try await withApp { client in
            let reply = try await client.send(.get, "/api/v1/sales", headers: [RequestID.header: id])
            let sent = try #require(reply.headers[RequestID.header])
            #expect(sent != id && Self.isGenerated(sent), "\(sent)")
        }
    }

    @Test func notFoundErrorsAndRefusalsCarryItToo() async throws {
        try await withApp { client in
            let missing = try await client.send(.get, "/no/such/page", headers: [RequestID.header: "r-404"])
            #expect(missing.status == .notFound && missing.error == "not_found" && missing.headers[RequestID.header] == "r-404")
            let unauthorised = try await client.send(.get, "/api/v1/admin/sales", headers: [RequestID.header: "r-401"])
            #expect(unauthorised.status == .unauthorized && unauthorised.headers[RequestID.header] == "r-401")
            let invalid = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: "{not json")
            #expect(invalid.status == .badRequest && Self.isGenerated(invalid.headers[RequestID.header]))
            let page = try await client.send(.get, "/", headers: [RequestID.header: "r-page"])
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true && page.headers[RequestID.header] == "r-page")
        }
    }

    /// The shield refuses before any route: 429 over a limit, 403 on the blocklist. Over real
    /// sockets, where the shield sees a client (127.0.0.1, a trusted proxy here).
    @Test func theShieldsRefusalsCarryIt() async throws {
        try await withApp({
            $0.trustedProxies = [CIDR("127.0.0.0/8")!]
            $0.shield.requests = RatePolicy(perMinute: 1, burst: 1)
        }, testing: .live) { client in
            let forwarded = HTTPField.Name("X-Forwarded-For")!
            let limited: HTTPFields = [forwarded: "192.0.2.77", RequestID.header: "r-429"]
            _ = try await client.send(.get, "/api/v1/sales", headers: limited)
            let refused = try await client.send(.get, "/api/v1/sales", headers: limited)
            #expect(refused.status == .tooManyRequests && refused.headers[RequestID.header] == "r-429")
            let block = try await client.send(
                .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "192.0.2.78/32", "reason": "test"}"#)
            #expect(block.status == .created, "\(block.text)")
            let blocked = try await client.send(.get, "/api/v1/sales", headers: [forwarded: "192.0.2.78", RequestID.header: "r-403"])
            #expect(blocked.status == .forbidden && blocked.headers[RequestID.header] == "r-403")
        }
    }

    /// A request the HTTP parser refuses never reaches the middleware; its refusal gets an id too.
    @Test func aRequestTheParserRefusesGetsOne() async throws {
        try await withApp(testing: .live) { client in
            let raw = try rawExchange(
                port: try #require(client.port), "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: ok\r\nX-Bad: a\u{01}b\r\n\r\n")
            let head = raw.prefix { $0 != "{" }.lowercased()
            let id = head.split(separator: "\r\n").first { $0.hasPrefix("x-request-id: ") }?.dropFirst("x-request-id: ".count)
            #expect(head.hasPrefix("http/1.1 400") && Self.isGenerated(id.map(String.init)), "\(raw)")
        }
    }

    /// A route's own log line, through the request's logger: carries the id even in a process
    /// that never bootstrapped logging (these tests).
    @Test func theRequestsLogLinesCarryIt() async throws {
        let capture = LogCapture()
        try await withApp(logger: capture.logger()) { client in
            let created = try await client.send(.post, "/api/v1/admin/sales", headers: [RequestID.header: "admin-7", .authorization: "Bearer \(adminToken)"], json: saleJSON())
            #expect(created.status == .created, "\(created.text)")
            let line = try #require(capture.lines.first { $0.message == "sale created" })
            #expect(line.metadata[RequestID.metadataKey] == "admin-7")
        }
    }

    /// A service deeper down logs with the logger it was built with, not the request's: the
    /// metadata provider that `LogSetup` installs finds the id in the task's context.
    @Test func servicesDeeperDownCarryItThroughTheMetadataProvider() async throws {
        let capture = LogCapture()
        try await withApp(logger: capture.logger(provider: .requestID)) { client in
            let (_, reservation) = try await client.reservation()
            let paid = try await client.send(
                .post, "/api/v1/reservations/\(reservation)/payment",
                headers: [IdempotencyGuard.header: "pay-1", RequestID.header: "pay-req-1"],
                json: PaymentApiTests.body(card: PaymentApiTests.good))
            #expect(paid.status == .created, "\(paid.text)")
            let settled = try #require(capture.lines.first { $0.message == "payment settled" })
            #expect(settled.metadata[RequestID.metadataKey] == "pay-req-1")
            // Lines logged outside any request (start-up, background services) carry none.
            let ready = try #require(capture.lines.first { $0.message == "store ready" })
            #expect(ready.metadata[RequestID.metadataKey] == nil)
        }
    }
}
