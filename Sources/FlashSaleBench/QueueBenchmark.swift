import AsyncHTTPClient
import FlashSaleCore
import Foundation
import NIOCore
import NIOHTTP1

/// Server memory while a crowd of distinct passes waits and polls, and poll requests per
/// second: the server keeps nothing per waiting shopper, so its memory should stay flat.
/// The server is a separate process (its resident memory is read from /proc).
public struct QueueBenchmark: Sendable {
    public struct Result: Sendable {
        public var passes: Int
        public var rssStartMiB: Double
        public var rssAfterJoinsMiB: Double
        public var rssAfterPollsMiB: Double
        public var joinsPerSecond: Double
        public var pollsPerSecond: Double
        public var statuses: [String: Int]
    }

    public let baseURL: String
    public let adminToken: String
    public let serverPID: Int32
    public let passes: Int
    public let concurrency: Int

    public init(baseURL: String, adminToken: String, serverPID: Int32, passes: Int, concurrency: Int) {
        self.baseURL = baseURL
        self.adminToken = adminToken
        self.serverPID = serverPID
        self.passes = passes
        self.concurrency = concurrency
    }

    /// Resident memory of a process in MiB, from /proc/PID/status.
    public static func residentMiB(pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kB = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kB / 1024
    }

    public func run() async throws -> Result {
        try await withBenchClient(connections: concurrency) { client in try await measure(client) }
    }

    private func measure(_ client: HTTPClient) async throws -> Result {
        let saleID = try await Self.createWaitingSale(client, baseURL: baseURL, adminToken: adminToken)
        let rssStart = Self.residentMiB(pid: serverPID)
        let clock = ContinuousClock()
        let joinStart = clock.now
        let tokens = try await Self.join(client, baseURL: baseURL, saleID: saleID, passes: passes, concurrency: concurrency)
        let joinSeconds = (clock.now - joinStart).seconds
        let rssAfterJoins = Self.residentMiB(pid: serverPID)
        let (pollSeconds, statuses) = try await Self.poll(client, baseURL: baseURL, saleID: saleID, tokens: tokens, concurrency: concurrency)
        return Result(
            passes: passes, rssStartMiB: rssStart, rssAfterJoinsMiB: rssAfterJoins,
            rssAfterPollsMiB: Self.residentMiB(pid: serverPID), joinsPerSecond: Double(passes) / joinSeconds,
            pollsPerSecond: Double(passes) / pollSeconds, statuses: statuses)
    }

    /// A live sale admitting one shopper a second: nearly every pass waits.
    static func createWaitingSale(_ client: HTTPClient, baseURL: String, adminToken: String) async throws -> String {
        let now = Date()
        let sale = """
            {"sku": "QUEUE-BENCH-\(UUID().uuidString.prefix(8))", "name": "Queue benchmark", "price_cents": 1000,
             "quantity": 100, "starts_at": "\(Timestamp.format(now.addingTimeInterval(-1)))",
             "ends_at": "\(Timestamp.format(now.addingTimeInterval(3600)))", "admission_rate_per_second": 1}
            """
        let created = try await BenchHTTP.send(
            client, baseURL, "POST", "/api/v1/admin/sales", body: sale, headers: [("Authorization", "Bearer \(adminToken)")])
        guard created.status == 201, let saleID = created.json?["id"] as? String else {
            throw BenchmarkError("creating the sale answered \(created.status): \(created.text)")
        }
        return saleID
    }

    /// `passes` distinct shoppers join; answers their passes.
    static func join(_ client: HTTPClient, baseURL: String, saleID: String, passes: Int, concurrency: Int) async throws -> [String] {
        let tokens = Locked([String](repeating: "", count: passes))
        try await forEachIndex(passes, workers: concurrency) { index in
            let joined = try await BenchHTTP.send(client, baseURL, "POST", "/api/v1/sales/\(saleID)/queue", body: nil, headers: [])
            tokens.withLock { $0[index] = joined.json?["pass"] as? String ?? "" }
        }
        return tokens.withLock { $0 }
    }

    /// Every pass polls once; answers the seconds it took and the answers by status.
    static func poll(
        _ client: HTTPClient, baseURL: String, saleID: String, tokens: [String], concurrency: Int
    ) async throws -> (seconds: Double, statuses: [String: Int]) {
        let statuses = Locked([String: Int]())
        let clock = ContinuousClock()
        let start = clock.now
        try await forEachIndex(tokens.count, workers: concurrency) { index in
            let polled = try await BenchHTTP.send(
                client, baseURL, "GET", "/api/v1/sales/\(saleID)/queue", body: nil, headers: [("X-Queue-Pass", tokens[index])])
            // The status only: the cheapest look at the body that tells waiting from admitted.
            let text = polled.text
            let status = text.range(of: "\"status\":\"")
                .map { String(text[$0.upperBound...].prefix { $0 != "\"" }) } ?? "HTTP \(polled.status)"
            statuses.withLock { $0[status, default: 0] += 1 }
        }
        return ((clock.now - start).seconds, statuses.withLock { $0 })
    }
}
