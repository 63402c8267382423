import Histogram

/// The endpoints a shopper calls, as the report names them.
public enum Endpoint: String, Sendable, CaseIterable, Codable {
    case join, poll, reserve, pay, cancel

    /// The crowd's lane for this request (`AsyncLimiter`): checkout steps first, then the
    /// polls of shoppers in line, then newcomers' joins.
    var lane: AsyncLimiter.Lane {
        switch self {
        case .reserve, .pay, .cancel: .checkout
        case .poll: .waiting
        case .join: .arriving
        }
    }
}

/// Requests, status codes and latencies of one endpoint. Latencies are kept in
/// microseconds in an HdrHistogram (three significant digits, up to a minute), so that
/// tens of thousands of samples cost a few kilobytes and percentiles stay exact to 0.1 %.
public struct EndpointLatencies: Sendable {
    public private(set) var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    public private(set) var statuses: [Int: Int] = [:]
    /// Requests that got no HTTP answer at all (refused, reset, timed out).
    public private(set) var transportErrors = 0

    public init() {}

    public mutating func record(status: Int, microseconds: UInt64) {
        statuses[status, default: 0] += 1
        _ = histogram.record(min(microseconds, histogram.highestTrackableValue))
    }

    public mutating func recordTransportError() { transportErrors += 1 }

    public var requests: Int { statuses.values.reduce(0, +) + transportErrors }

    /// The endpoint's line of the report.
    public func summary(_ endpoint: Endpoint) -> EndpointSummary {
        let ms = { (value: UInt64) in Double(value) / 1000 }
        let answered = histogram.totalCount > 0
        return EndpointSummary(
            endpoint: endpoint.rawValue, requests: requests,
            statuses: Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), $0.value) }),
            transportErrors: transportErrors,
            p50Ms: answered ? ms(histogram.valueAtPercentile(50)) : 0,
            p90Ms: answered ? ms(histogram.valueAtPercentile(90)) : 0,
            p99Ms: answered ? ms(histogram.valueAtPercentile(99)) : 0,
            maxMs: answered ? ms(histogram.max) : 0)
    }
}

/// Requests, statuses and latency percentiles (milliseconds) of one endpoint.
public struct EndpointSummary: Sendable, Codable, Equatable {
    public var endpoint: String
    public var requests: Int
    /// Count per HTTP status, keyed by the status as text (JSON objects have string keys).
    public var statuses: [String: Int]
    public var transportErrors: Int
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    public func count(where predicate: (Int) -> Bool) -> Int {
        statuses.reduce(0) { sum, entry in predicate(Int(entry.key) ?? 0) ? sum + entry.value : sum }
    }
}
