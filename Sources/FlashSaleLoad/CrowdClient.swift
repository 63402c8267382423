import AsyncHTTPClient
import FlashSaleBench
import FlashSaleCore
import Foundation

/// The crowd's one way to the server: a shared HTTP client whose in-flight requests are
/// capped, each request timed and counted per endpoint. Latency is measured from when a
/// request gets its permit, so it is the server's (and the network's) time, not the
/// crowd's own queueing. With several nodes each request goes to the next one, and one
/// that cannot connect is sent on to the next at once (`NodeRotation`).
struct CrowdClient: Sendable {
    let http: HTTPClient
    let nodes: NodeRotation
    let limiter: AsyncLimiter
    let metrics: CrowdMetrics

    /// The answer, or nil when none came (counted as a transport error).
    func send(
        _ endpoint: Endpoint, _ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []
    ) async -> BenchHTTP.Reply? {
        await timedSend(endpoint, method, path, body: body, headers: headers).reply
    }

    /// The answer, and when the request went out (after waiting for a permit): the
    /// earliest instant the server can have acted on it.
    func timedSend(
        _ endpoint: Endpoint, _ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []
    ) async -> (reply: BenchHTTP.Reply?, sentAt: ContinuousClock.Instant) {
        let answer = await timedExchange(endpoint, method, path, body: body, headers: headers)
        return (answer.reply, answer.sentAt)
    }

    /// The answer, when the request went out, and the node (index into `nodes.urls`) that answered.
    func timedExchange(
        _ endpoint: Endpoint, _ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []
    ) async -> (reply: BenchHTTP.Reply?, sentAt: ContinuousClock.Instant, node: Int?) {
        await limiter.withPermit(lane: endpoint.lane) {
            let start = ContinuousClock.now
            do {
                let client = self
                let send = { @Sendable in try await client.exchange(method, path, body: body, headers: headers) }
                // A checkout step's answer is read at high priority: the crowd's own executor
                // is as busy as the server's, and the time it takes to resume one of a
                // hundred thousand shopper tasks is not the server's latency.
                let (reply, node) = endpoint.lane == .checkout ? try await Task(priority: .high, operation: send).value : try await send()
                let micros = UInt64(max((ContinuousClock.now - start).seconds, 0) * 1_000_000)
                metrics.record(endpoint, status: reply.status, microseconds: micros)
                return (reply, start, node)
            } catch {
                // Requests cut short because the run's time is up are not the server's fault.
                if !Task.isCancelled { metrics.recordTransportError(endpoint) }
                return (nil, start, nil)
            }
        }
    }

    /// Sends to the next node in turn; a node that cannot be reached is counted and the
    /// request goes to the next at once, until every node has been tried.
    func exchange(
        _ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> (reply: BenchHTTP.Reply, node: Int) {
        let order = nodes.nextOrder()
        for (attempt, node) in order.enumerated() {
            do {
                return (try await BenchHTTP.send(http, nodes.urls[node], method, path, body: body, headers: headers), node)
            } catch let error where NodeRotation.isConnectionFailure(error) && !Task.isCancelled {
                metrics.countConnectionFailure()
                if attempt == order.count - 1 { throw error }
            }
        }
        throw CancellationError()  // no node at all (the configuration refuses that)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ reply: BenchHTTP.Reply) -> T? {
        try? JSONDecoder().decode(type, from: Data(reply.body.readableBytesView))
    }
}
