import Synchronization

/// Everything the crowd's tasks count while they run, shared by all of them: cheap atomic
/// counters for the live view, and per-endpoint latencies behind one lock (a few thousand
/// requests a second hold it for well under a microsecond each).
public final class CrowdMetrics: Sendable {
    private let endpoints = Mutex<[Endpoint: EndpointLatencies]>([:])
    let waiting = Atomic<Int>(0)
    let admitted = Atomic<Int>(0)
    let reserved = Atomic<Int>(0)
    let paid = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    /// Transport errors, 5xx and answers outside the contract.
    let errors = Atomic<Int>(0)
    /// Requests a node did not take (refused or dropped the connection): each was sent on
    /// to the next node, and counts as an error only when no node took it.
    let connectionFailures = Atomic<Int>(0)

    public init() {}

    func record(_ endpoint: Endpoint, status: Int, microseconds: UInt64) {
        requests.add(1, ordering: .relaxed)
        if status >= 500 { errors.add(1, ordering: .relaxed) }
        endpoints.withLock { $0[endpoint, default: EndpointLatencies()].record(status: status, microseconds: microseconds) }
    }

    func recordTransportError(_ endpoint: Endpoint) {
        requests.add(1, ordering: .relaxed)
        errors.add(1, ordering: .relaxed)
        endpoints.withLock { $0[endpoint, default: EndpointLatencies()].recordTransportError() }
    }

    func countError() { errors.add(1, ordering: .relaxed) }

    func countConnectionFailure() { connectionFailures.add(1, ordering: .relaxed) }

    /// The per-endpoint lines of the report, in the order a shopper meets the endpoints.
    public func summaries() -> [EndpointSummary] {
        let snapshot = endpoints.withLock { $0 }
        return Endpoint.allCases.compactMap { endpoint in snapshot[endpoint].map { $0.summary(endpoint) } }
    }

    /// The live view's figures.
    public func snapshot() -> LiveSnapshot {
        LiveSnapshot(
            waiting: waiting.load(ordering: .relaxed), admitted: admitted.load(ordering: .relaxed),
            reserved: reserved.load(ordering: .relaxed), paid: paid.load(ordering: .relaxed),
            requests: requests.load(ordering: .relaxed), errors: errors.load(ordering: .relaxed))
    }
}

/// Counters at one instant, for the progress line.
public struct LiveSnapshot: Sendable, Equatable {
    public var waiting: Int
    public var admitted: Int
    public var reserved: Int
    public var paid: Int
    public var requests: Int
    public var errors: Int
}
