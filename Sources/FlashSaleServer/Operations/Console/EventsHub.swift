import FlashSaleCore
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Samples `LiveStats` once a second and hands the same encoded `stats` event to every
/// dashboard and `GET /api/v1/admin/events` client: ten viewers cost what one does, and
/// none of them touches the shoppers' paths. It keeps the last `historyLength` samples of
/// each sale for the dashboard's charts.
final class EventsHub: Service, Sendable {
    /// Ten minutes at one sample a second.
    static let historyLength = 600

    /// One second of one sale, as the dashboard's charts draw it.
    struct ChartPoint: Encodable, Sendable {
        let t: Int64
        let available, reserved, sold, waiting: Int
        let rate: Double
        let lag: Double
    }

    private struct State {
        var subscribers: [UUID: AsyncStream<ByteBuffer>.Continuation] = [:]
        var latest: ByteBuffer?
        var history: [String: [ChartPoint]] = [:]
        var ended = false
    }

    let stats: LiveStats
    private let interval: Duration
    private let logger: Logger
    private let state = Mutex(State())

    init(stats: LiveStats, interval: Duration = .seconds(1), logger: Logger) {
        self.stats = stats
        self.interval = interval
        self.logger = logger
    }

    /// A stream of `text/event-stream` chunks: the latest sample at once, then one a second
    /// until the client goes, `unsubscribe` is called or the server shuts down. A client
    /// that reads slowly gets the newest samples, never a growing backlog.
    func subscribe() -> (id: UUID, stream: AsyncStream<ByteBuffer>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(2))
        continuation.yield(ByteBuffer(string: "retry: 1000\n\n"))
        let ended: Bool = state.withLock { state in
            if let latest = state.latest { continuation.yield(latest) }
            if !state.ended { state.subscribers[id] = continuation }
            return state.ended
        }
        if ended { continuation.finish() }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        state.withLock { $0.subscribers.removeValue(forKey: id) }?.finish()
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// The charts' history, by sale id (lowercased).
    func history() -> [String: [ChartPoint]] { state.withLock { $0.history } }

    /// Takes a sample now and sends it to every subscriber.
    func sample(now: Date = Date()) async throws {
        let event = try await stats.snapshot(now: now)
        let json = try JSONCoding.encoder().encode(event)
        var chunk = ByteBuffer(string: "event: stats\ndata: ")
        chunk.writeBytes(json)
        chunk.writeString("\n\n")
        let t = Int64((now.timeIntervalSince1970 * 1000).rounded())
        let subscribers = state.withLock { state in
            state.latest = chunk
            var kept: [String: [ChartPoint]] = [:]
            for sale in event.sales {
                var points = state.history[sale.counts.saleID] ?? []
                points.append(
                    ChartPoint(
                        t: t, available: sale.counts.available, reserved: sale.counts.reserved, sold: sale.counts.sold, waiting: sale.counts.queue.figures.waiting,
                        rate: (sale.counts.queue.figures.achievedRatePerSecond * 10).rounded() / 10,
                        lag: (sale.counts.queue.figures.thresholdLagSeconds * 10).rounded() / 10))
                if points.count > Self.historyLength { points.removeFirst(points.count - Self.historyLength) }
                kept[sale.counts.saleID] = points
            }
            // Sales that left the catalog leave the history with it.
            state.history = kept
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(chunk) }
    }

    func run() async throws {
        // On a fixed cadence, not a sleep after each sample: a slow sample must not stretch
        // the gaps past the second the contract promises.
        let clock = ContinuousClock()
        do {
            try await cancelWhenGracefulShutdown {
                var next = clock.now
                while true {
                    do {
                        try await self.sample()
                    } catch where !Task.isCancelled {
                        self.logger.debug("the dashboard's sample failed", metadata: ["error": "\(error)"])
                    }
                    next = max(next + self.interval, clock.now + .milliseconds(50))
                    try await Task.sleep(until: next, clock: clock)
                }
            }
        } catch is CancellationError {}
        let subscribers = state.withLock { state in
            state.ended = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
