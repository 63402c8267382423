import AsyncHTTPClient
import FlashSaleCore
import Foundation
import NIOCore

/// What the operator's watching costs the shoppers: queue polls per second with no viewer,
/// and with `viewers` dashboards following `/api/v1/admin/events` plus one Prometheus
/// scrape of `/metrics` a second, in alternating rounds of one run (the machine's noise
/// falls on both arms alike). Reports each arm's median and their ratio.
public struct ConsoleBenchmark: Sendable {
    public struct Result: Sendable {
        public var withoutViewers: [Double]
        public var withViewers: [Double]
        public var eventsReceived: Int
        public var scrapes: Int

        public static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
        /// Median polls/s with viewers over median without: 1.0 means no cost.
        public var ratio: Double { Self.median(withViewers) / max(Self.median(withoutViewers), 1e-9) }
    }

    public let baseURL: String
    public let adminToken: String
    public let passes: Int
    public let concurrency: Int
    public let viewers: Int
    public let rounds: Int

    public init(baseURL: String, adminToken: String, passes: Int, concurrency: Int, viewers: Int, rounds: Int) {
        self.baseURL = baseURL
        self.adminToken = adminToken
        self.passes = passes
        self.concurrency = concurrency
        self.viewers = viewers
        self.rounds = rounds
    }

    public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Result {
        try await withBenchClient(connections: concurrency + viewers + 2) { client in
            let saleID = try await QueueBenchmark.createWaitingSale(client, baseURL: baseURL, adminToken: adminToken)
            let tokens = try await QueueBenchmark.join(client, baseURL: baseURL, saleID: saleID, passes: passes, concurrency: concurrency)
            var result = Result(withoutViewers: [], withViewers: [], eventsReceived: 0, scrapes: 0)
            for round in 0..<(2 * rounds) {
                let watched = round % 2 == 1
                let events = SharedCounter()
                let scrapes = SharedCounter()
                let rate = try await withThrowingTaskGroup(of: Double?.self) { group in
                    if watched {
                        for _ in 0..<viewers { group.addTask { try await follow(client, events: events) } }
                        group.addTask { try await scrape(client, scrapes: scrapes) }
                        // Every viewer has its first event before the clock starts.
                        while events.count < viewers { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    group.addTask {
                        let (seconds, _) = try await QueueBenchmark.poll(
                            client, baseURL: baseURL, saleID: saleID, tokens: tokens, concurrency: concurrency)
                        return Double(tokens.count) / seconds
                    }
                    var rate = 0.0
                    for try await value in group {
                        if let value {
                            rate = value
                            group.cancelAll()
                        }
                    }
                    return rate
                }
                if watched {
                    result.withViewers.append(rate)
                    result.eventsReceived += events.count
                    result.scrapes += scrapes.count
                } else {
                    result.withoutViewers.append(rate)
                }
                progress(String(format: "round %d/%d (%@): %.0f polls/s", round + 1, 2 * rounds, watched ? "\(viewers) viewers" : "no viewer", rate))
            }
            return result
        }
    }

    /// A dashboard: follows the event stream, counting `stats` events, until cancelled.
    private func follow(_ client: HTTPClient, events: SharedCounter) async throws -> Double? {
        var request = HTTPClientRequest(url: baseURL + "/api/v1/admin/events")
        request.headers.add(name: "Authorization", value: "Bearer \(adminToken)")
        do {
            let response = try await client.execute(request, timeout: .seconds(3_600))
            for try await chunk in response.body {
                for _ in String(buffer: chunk).ranges(of: "event: stats") { events.increment() }
            }
        } catch where Task.isCancelled {}
        return nil
    }

    /// Prometheus: one scrape of `/metrics` a second, until cancelled.
    private func scrape(_ client: HTTPClient, scrapes: SharedCounter) async throws -> Double? {
        while !Task.isCancelled {
            _ = try? await BenchHTTP.send(client, baseURL, "GET", "/metrics", body: nil, headers: [])
            scrapes.increment()
            try? await Task.sleep(for: .seconds(1))
        }
        return nil
    }
}
