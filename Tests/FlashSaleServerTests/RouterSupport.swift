import FlashSaleCore
import FlashSalePayments
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import FlashSaleServer

let adminToken = ServerConfig.testing.adminToken
let adminAuth: HTTPFields = [.authorization: "Bearer \(adminToken)"]

/// Builds the real app on a real in-memory SQLite store and runs `body` against its router.
func withApp(
    _ configure: (inout ServerConfig) -> Void = { _ in },
    provider: (any PaymentProvider)? = nil,
    _ body: @Sendable (any TestClientProtocol, any Store) async throws -> Void
) async throws {
    var config = ServerConfig.testing
    config.expirySweepInterval = .milliseconds(100)
    config.outboxInterval = .milliseconds(50)
    configure(&config)
    let store = try SQLiteStore(path: nil)
    let app = try await buildApplication(config, store: store, paymentProvider: provider)
    try await app.test(.router) { client in try await body(client, store) }
}

struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    var text: String { String(buffer: body) }
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }
    subscript(key: String) -> String? { json[key] as? String }
    func int(_ key: String) -> Int? { json[key] as? Int }
    /// The machine code of an error body.
    var error: String? { self["error"] }
}

extension TestClientProtocol {
    func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], json: String? = nil) async throws -> Reply {
        var headers = headers
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
    }

    /// Creates a sale through the admin API; `overrides` replace fields of a live default.
    func createSale(_ overrides: [String: Any] = [:]) async throws -> String {
        let reply = try await send(.post, "/api/v1/admin/sales", headers: adminAuth, json: saleJSON(overrides))
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply["id"])
    }

    /// Joins the queue of `sale` and returns the pass (admitted at once under the default rate).
    func join(_ sale: String, pass: String? = nil) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let pass { headers[WaitingRoom.passHeader] = pass }
        return try await send(.post, "/api/v1/sales/\(sale)/queue", headers: headers)
    }

    func admittedPass(_ sale: String) async throws -> String {
        let reply = try await join(sale)
        #expect(reply["status"] == "admitted", "\(reply.text)")
        return try #require(reply["pass"])
    }

    func reserve(_ sale: String, pass: String?, key: String? = UUID().uuidString, json: String) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let pass { headers[WaitingRoom.passHeader] = pass }
        if let key { headers[IdempotencyGuard.header] = key }
        return try await send(.post, "/api/v1/sales/\(sale)/reservations", headers: headers, json: json)
    }

    func stats(_ sale: String) async throws -> Reply {
        try await send(.get, "/api/v1/admin/sales/\(sale)/stats", headers: adminAuth)
    }
}

/// A live sale's JSON, with `overrides` applied.
func saleJSON(_ overrides: [String: Any] = [:]) -> String {
    let now = Date()
    var fields: [String: Any] = [
        "sku": "SKU-\(UUID().uuidString.prefix(8))", "name": "Red sneaker", "price_cents": 12_900, "currency": "USD",
        "quantity": 5, "starts_at": Timestamp.format(now.addingTimeInterval(-5)),
        "ends_at": Timestamp.format(now.addingTimeInterval(3_600)), "per_customer_limit": 1,
        "reservation_ttl_seconds": 600, "admission_rate_per_second": 1_000,
    ]
    for (key, value) in overrides { fields[key] = value }
    let data = try! JSONSerialization.data(withJSONObject: fields)
    return String(decoding: data, as: UTF8.self)
}
