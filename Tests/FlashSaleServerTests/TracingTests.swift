import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// `flashsale serve --otel-endpoint` in a real process: its spans reach an OTLP/HTTP
/// receiver, and its calls to the payment provider carry the W3C `traceparent` of the same
/// trace. One test-local Hummingbird app plays both the collector and a minimal provider.
@Suite struct TracingTests {
    /// What the stand-ins received.
    final class Received: Sendable {
        let traces = Mutex<[Data]>([])
        let traceparents = Mutex<[String]>([])

        var allTraces: Data { traces.withLock { $0.reduce(into: Data()) { $0.append($1) } } }
    }

    /// `POST /v1/traces` keeps the protobuf body; `POST /v1/charges` keeps the
    /// `traceparent` and charges (the provider contract's 201), other provider calls find nothing.
    static func standIns(_ received: Received) -> some ApplicationProtocol {
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            received.traces.withLock { $0.append(Data(body.readableBytesView)) }
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        router.post("v1/charges") { request, _ -> Response in
            received.traceparents.withLock { $0.append(request.headers[HTTPField.Name("traceparent")!] ?? "") }
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"id": "ch_\#(UUID().uuidString.prefix(8))", "status": "succeeded"}"#)))
        }
        router.get("v1/charges") { _, _ in Response(status: .notFound) }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Runs `flashsale serve` on a fresh SQLite file with `--payments` at the stand-ins, and
    /// the arguments and environment made from the stand-ins' URL.
    static func withShop(
        arguments: @escaping @Sendable (String) -> [String], environment: @escaping @Sendable (String) -> [String: String],
        _ body: @Sendable (ServerProcess, Received) async throws -> Void
    ) async throws {
        let received = Received()
        try await standIns(received).test(.live) { standIn in
            let url = "http://127.0.0.1:\(try #require(standIn.port))"
            let (database, folder) = try temporaryDatabase()
            defer { try? FileManager.default.removeItem(at: folder) }
            let shop = try await ServerProcess.start(
                database: database, extraArguments: ["--payments", url] + arguments(url), environment: environment(url))
            defer { shop.stop() }
            try await body(shop, received)
        }
    }

    @Test func aPaymentsSpansReachTheCollectorAndTheProviderGetsItsTraceparent() async throws {
        try await Self.withShop(
            arguments: { ["--otel-endpoint", $0, "--log-format", "json"] }, environment: { _ in ["OTEL_BSP_SCHEDULE_DELAY": "100"] }
        ) { shop, received in
            let paid = try await Self.buyOne(from: shop, requestID: "pay-7")
            #expect(paid.status == 201, "\(paid.text)")

            // The provider heard from the shop with a well-formed W3C traceparent.
            let traceparent = try #require(received.traceparents.withLock { $0.first })
            let parts = traceparent.split(separator: "-")
            try #require(traceparent.wholeMatch(of: #/00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]/#) != nil, "\(traceparent)")
            #expect(parts[1] != String(repeating: "0", count: 32) && parts[2] != String(repeating: "0", count: 16))

            // Every kind of span arrives (the outbox's email delivery last), in protobuf, and
            // the span the provider was called from (its trace and span ids) is one the shop
            // exported.
            let expected = [
                "flashsale", "/api/v1/reservations/{id}/payment", "inventory.reserve", "inventory.batch", "db commit_reservations",
                "db begin_payment", "payment.charge", "db settle_payment", "outbox.deliver", "pay-7",
            ]
            let (traceID, spanID) = (Self.bytes(hex: String(parts[1])), Self.bytes(hex: String(parts[2])))
            var missing = expected
            var sameTrace = false
            let deadline = ContinuousClock.now + .seconds(60)  // a guard: export is every 100 ms here
            while ContinuousClock.now < deadline {
                let all = received.allTraces
                missing = expected.filter { all.range(of: Data($0.utf8)) == nil }
                sameTrace = all.range(of: traceID) != nil && all.range(of: spanID) != nil
                if missing.isEmpty && sameTrace { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(missing.isEmpty, "spans or attributes never exported: \(missing)")
            #expect(sameTrace, "the provider's parent span \(traceparent) was not exported")

            // The checkout's own log line (a service's logger, not the request's) carries the
            // request's id, and the trace it belongs to.
            let settled = try #require(shop.log.split(separator: "\n").first { $0.contains(#""message":"payment settled""#) })
            #expect(settled.contains(#""request_id":"pay-7""#) && settled.contains(#""trace_id":"\#(parts[1])""#), "\(settled)")
        }
    }

    /// Without the flag nothing is exported and nothing is sent to the provider, even with
    /// the standard `OTEL_*` variables set; a flag that is not an http(s) URL stops the start.
    @Test func offUnlessTheFlagIsGiven() async throws {
        try await Self.withShop(
            arguments: { _ in [] }, environment: { ["OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_EXPORTER_OTLP_ENDPOINT": $0] }
        ) { shop, received in
            let paid = try await Self.buyOne(from: shop, requestID: "pay-8")
            // 202 (pending) when a loaded machine makes the provider call time out: the
            // provider was still called, and the reconciler may ask it again.
            #expect(paid.status == 201 || paid.status == 202, "\(paid.text)")
            try await Task.sleep(for: .seconds(1))  // ten export intervals, were an exporter running
            let traceparents = received.traceparents.withLock { $0 }
            #expect(!traceparents.isEmpty && traceparents.allSatisfy(\.isEmpty), "\(traceparents)")
            #expect(received.traces.withLock { $0.isEmpty })
        }
        let bad = Process()
        bad.executableURL = ServerProcess.binary
        bad.arguments = ["serve", "--database", "sqlite::memory:", "--port", "0", "--otel-endpoint", "collector:4318"]
        bad.standardOutput = FileHandle.nullDevice
        let errors = try runCapturingOutput(bad, standardError: true)
        #expect(bad.terminationStatus != 0)
        #expect(String(decoding: errors, as: UTF8.self).contains("--otel-endpoint must be an http(s) URL"))
    }

    /// Joins, reserves one unit and pays for it, the payment under `requestID`.
    static func buyOne(from shop: ServerProcess, requestID: String) async throws -> ServerProcess.Reply {
        let created = try await shop.send(
            .POST, "/api/v1/admin/sales", headers: shop.admin, json: saleJSON(["admission_rate_per_second": 100_000]))
        let sale = try #require(created.json["id"] as? String, "\(created.text)")
        let pass = try #require(try await shop.send(.POST, "/api/v1/sales/\(sale)/queue").json["pass"] as? String)
        let reserved = try await shop.send(
            .POST, "/api/v1/sales/\(sale)/reservations", headers: [("X-Queue-Pass", pass), ("Idempotency-Key", "r-1")],
            json: #"{"email": "ann@example.com", "quantity": 1}"#)
        let reservation = try #require(reserved.json["reservation_id"] as? String, "\(reserved.text)")
        return try await shop.send(
            .POST, "/api/v1/reservations/\(reservation)/payment", headers: [("Idempotency-Key", "p-1"), ("X-Request-Id", requestID)],
            json: PaymentApiTests.body(card: PaymentApiTests.good))
    }

    static func bytes(hex: String) -> Data {
        let digits = Array(hex.utf8)
        return Data(stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) })
    }
}
