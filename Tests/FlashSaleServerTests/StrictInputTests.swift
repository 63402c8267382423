import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FlashSaleServer

/// Issue 13 §3: input that must be refused, each as the contract's JSON error.
@Suite struct StrictInputTests {
    @Test func anExplicitNullIsAWrongTypeInEveryOptionalField() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 10])
            let reservation = try await client.reserve(
                sale, pass: try await client.admittedPass(sale), json: #"{"email": "q@example.com", "quantity": null}"#)
            #expect(reservation.status == .unprocessableContent && reservation.error == "validation_failed", "\(reservation.text)")
            #expect(reservation.text.contains("quantity"))

            for field in ["currency", "per_customer_limit", "reservation_ttl_seconds", "admission_rate_per_second"] {
                let created = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: saleJSON([field: NSNull()]))
                #expect(created.status == .unprocessableContent && created.text.contains(field), "\(field): \(created.text)")
            }
            for field in ["paused", "starts_at", "ends_at", "admission_rate_per_second"] {
                let patched = try await client.send(
                    .patch, "/api/v1/admin/sales/\(sale)", headers: adminAuth, json: #"{"\#(field)": null}"#)
                #expect(patched.status == .unprocessableContent && patched.text.contains(field), "\(field): \(patched.text)")
            }
            for field in ["reason", "expires_at"] {
                let rule = try await client.send(
                    .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "198.51.100.0/24", "\#(field)": null}"#)
                #expect(rule.status == .unprocessableContent && rule.text.contains(field), "\(field): \(rule.text)")
            }
            // Absent fields still take their defaults.
            let defaulted = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "d@example.com"}"#)
            #expect(defaulted.status == .created && defaulted.int("quantity") == 1)
        }
    }

    @Test func controlCharactersAreRefusedInEveryTextField() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 10])
            for email in ["a\\u0000b@example.com", "a@example.com\\u0000", "a\\u0007@example.com", "a\\u2028b@example.com"] {
                let reply = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "\#(email)"}"#)
                #expect(reply.status == .unprocessableContent && reply.error == "validation_failed", "\(email): \(reply.text)")
            }
            for (field, value) in [("name", "Red\u{0}sneaker"), ("sku", "SKU\u{1B}[31m"), ("name", String(repeating: "n", count: 201))] {
                let created = try await client.send(.post, "/api/v1/admin/sales", headers: adminAuth, json: saleJSON([field: value]))
                #expect(created.status == .unprocessableContent && created.text.contains(field), "\(field): \(created.text)")
            }
            let rule = try await client.send(
                .post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "198.51.100.0/24", "reason": "bot\u0000"}"#)
            #expect(rule.status == .unprocessableContent && rule.text.contains("reason"))
        }
    }

    @Test func emailsThatDifferOnlyInUnicodeFormCountAsOneCustomer() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 10, "per_customer_limit": 1])
            let first = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "strasse@bücher.example"}"#)
            #expect(first.status == .created, "\(first.text)")
            // Full-width letters (NFKC), ß (case folding) and the domain's A-label form.
            for twin in ["ＳＴＲＡＳＳＥ@bücher.example", "straße@BÜCHER.example", "Strasse@xn--bcher-kva.example"] {
                let reply = try await client.reserve(sale, pass: try await client.admittedPass(sale), json: #"{"email": "\#(twin)"}"#)
                #expect(reply.status == .unprocessableContent && reply.error == "limit_exceeded", "\(twin): \(reply.text)")
            }
        }
    }

    /// The HTTP parser refuses a control byte in a header value before any route runs; the
    /// answer is still the contract's JSON error body.
    @Test func aRequestTheHTTPParserRefusesGetsAJSONError() async throws {
        var config = ServerConfig.testing
        config.port = 0
        let app = try await buildApplication(config, store: try SQLiteStore(path: nil))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let raw = try rawExchange(
                port: port, "POST /api/v1/sales/x/reservations HTTP/1.1\r\nHost: a\r\nIdempotency-Key: ab\u{01}cd\r\nContent-Length: 0\r\n\r\n")
            let (head, body) = try #require(split(raw))
            #expect(head.hasPrefix("HTTP/1.1 400"), "\(raw)")
            #expect(head.lowercased().contains("content-type: application/json"), "\(raw)")
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect(json?["error"] as? String == "bad_request", "\(raw)")

            let garbage = try rawExchange(port: port, "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\r\n\r\n")
            #expect(garbage.hasPrefix("HTTP/1.1 400") && garbage.contains("\"error\":\"bad_request\""), "\(garbage)")

            // Pipelined behind a good request: its answer first, then the JSON refusal.
            let pipelined = try rawExchange(port: port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nHELLO WORLD\r\n\r\n")
            #expect(pipelined.hasPrefix("HTTP/1.1 200"), "\(pipelined)")
            let second = pipelined.range(of: "HTTP/1.1 400").map { String(pipelined[$0.lowerBound...]) } ?? ""
            #expect(second.contains("\"error\":\"bad_request\""), "\(pipelined)")
        }
    }

    func split(_ raw: String) -> (String, String)? {
        guard let range = raw.range(of: "\r\n\r\n") else { return nil }
        return (String(raw[..<range.lowerBound]), String(raw[range.upperBound...]))
    }
}

/// Sends `request` as raw bytes on a new loopback connection and reads until the server
/// closes it (a test of what the HTTP parser does with bytes no client library would send).
func rawExchange(port: Int, _ request: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var received = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        received += buffer[0..<count]
    }
    return String(decoding: received, as: UTF8.self)
}
