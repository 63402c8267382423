import AsyncHTTPClient
import FlashSaleCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Reservations per second through the whole HTTP stack on loopback: every shopper joins
/// (admitted at once: the sale's admission rate is set high), then all reserve
/// concurrently over a bounded pool of keep-alive connections.
public struct HTTPBenchmark: Sendable {
    public struct Result: Sendable {
        public var shoppers: Int
        public var joinSeconds: Double
        public var reserveSeconds: Double
        public var reserved: Int
        public var statusCounts: [Int: Int]
        public var joinsPerSecond: Double { Double(shoppers) / joinSeconds }
        public var reservationsPerSecond: Double { Double(reserved) / reserveSeconds }
    }

    public let baseURL: String
    public let adminToken: String
    public let shoppers: Int
    public let concurrency: Int

    public init(baseURL: String, adminToken: String, shoppers: Int, concurrency: Int) {
        self.baseURL = baseURL
        self.adminToken = adminToken
        self.shoppers = shoppers
        self.concurrency = concurrency
    }

    /// Polls `/readyz` until the server answers 200 (at most ten seconds).
    public static func waitUntilReady(baseURL: String) async throws {
        for _ in 0..<200 {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: baseURL + "/readyz"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("no server became ready at \(baseURL)")
    }

    public func run() async throws -> Result {
        try await withBenchClient(connections: concurrency) { client in try await run(client) }
    }

    private func run(_ client: HTTPClient) async throws -> Result {
        let now = Date()
        let saleJSON = """
            {"sku": "HTTP-BENCH-\(UUID().uuidString.prefix(8))", "name": "HTTP benchmark", "price_cents": 1000,
             "currency": "USD", "quantity": \(shoppers), "starts_at": "\(Timestamp.format(now.addingTimeInterval(-1)))",
             "ends_at": "\(Timestamp.format(now.addingTimeInterval(3600)))", "per_customer_limit": 1,
             "reservation_ttl_seconds": 3600, "admission_rate_per_second": 1000000}
            """
        let created = try await BenchHTTP.send(
            client, baseURL, "POST", "/api/v1/admin/sales", body: saleJSON, headers: [("Authorization", "Bearer \(adminToken)")])
        guard created.status == 201, let saleID = created.json?["id"] as? String else {
            throw BenchmarkError("creating the sale answered \(created.status): \(created.text)")
        }

        let clock = ContinuousClock()
        let joinStart = clock.now
        let passes = try await forEachShopper { index in
            let joined = try await BenchHTTP.send(client, baseURL, "POST", "/api/v1/sales/\(saleID)/queue", body: nil, headers: [])
            guard joined.status == 200, joined.json?["status"] as? String == "admitted",
                let pass = joined.json?["pass"] as? String
            else { throw BenchmarkError("join answered \(joined.status): \(joined.text)") }
            return pass
        }
        let joinSeconds = (clock.now - joinStart).seconds

        let statuses = Mutex<[Int: Int]>([:])
        let reserveStart = clock.now
        _ = try await forEachShopper { index in
            let response = try await BenchHTTP.send(
                client, baseURL, "POST", "/api/v1/sales/\(saleID)/reservations",
                body: "{\"email\": \"shopper\(index)@bench.example\", \"quantity\": 1}",
                headers: [("X-Queue-Pass", passes[index]), ("Idempotency-Key", "bench-\(index)")])
            statuses.withLock { $0[response.status, default: 0] += 1 }
            return ""
        }
        let reserveSeconds = (clock.now - reserveStart).seconds
        let counts = statuses.withLock { $0 }

        let stats = try await BenchHTTP.send(
            client, baseURL, "GET", "/api/v1/admin/sales/\(saleID)/stats", body: nil, headers: [("Authorization", "Bearer \(adminToken)")])
        let reserved = stats.json?["reserved"] as? Int ?? -1
        guard reserved == counts[201, default: 0] else {
            throw BenchmarkError("the server holds \(reserved) units but answered \(counts[201, default: 0]) times 201")
        }
        return Result(
            shoppers: shoppers, joinSeconds: joinSeconds, reserveSeconds: reserveSeconds, reserved: reserved,
            statusCounts: counts)
    }

    /// Runs `body` for every shopper on `concurrency` workers; results by shopper index.
    private func forEachShopper(_ body: @escaping @Sendable (Int) async throws -> String) async throws -> [String] {
        let results = Mutex([String](repeating: "", count: shoppers))
        try await forEachIndex(shoppers, workers: concurrency) { index in
            let value = try await body(index)
            results.withLock { $0[index] = value }
        }
        return results.withLock { $0 }
    }
}
