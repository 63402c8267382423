import Foundation

/// A token bucket per client: `perMinute` tokens refill each minute, up to `burst`.
public struct RatePolicy: Sendable, Equatable, CustomStringConvertible {
    public var perMinute: Int
    public var burst: Int

    public init(perMinute: Int, burst: Int) {
        self.perMinute = perMinute
        self.burst = burst
    }

    /// `PER_MINUTE/BURST`, e.g. `60/30`; `PER_MINUTE` alone takes a burst of the same size.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...2).contains(parts.count), let rate = parts[0], let burst = parts.count == 2 ? parts[1] : rate,
            rate >= 1, burst >= 1
        else { return nil }
        self.init(perMinute: rate, burst: burst)
    }

    public var description: String { "\(perMinute)/\(burst)" }
}

/// The edge shield's settings (README, "Edge shield"). Defaults suit one node serving a
/// crowd directly; behind nginx, its `limit_req`/`limit_conn` are the first line and these
/// the second.
public struct ShieldSettings: Sendable {
    /// Joins of a waiting room (requests without a valid pass), per client address. 50
    /// shoppers behind one office NAT joining at the opening fit the default burst.
    public var joins = RatePolicy(perMinute: 60, burst: 60)
    /// Reservations and payments, per queue pass or reservation (per address without one).
    /// Admission already bounds how many passes can reserve; this bounds retries and card
    /// testing on one pass.
    public var checkout = RatePolicy(perMinute: 30, burst: 10)
    /// Every other shop request (sale reads, pages), per client address.
    public var requests = RatePolicy(perMinute: 600, burst: 200)
    /// Open connections in total and per client address (peers inside `--trusted-proxy`
    /// count only towards the total).
    public var maxConnections = 10_000
    public var maxConnectionsPerClient = 256
    /// Connections the kernel may queue before the server accepts them (capped by
    /// net.core.somaxconn). The per-client cap acts after accept, so 20,000 connects from one
    /// address pass through this queue. Measured with the release build (BENCHMARKS.md, "Edge
    /// shield"): with 256 another client's p99 stays 54–75 ms (the kernel drops some SYNs; a
    /// few connects retry after 1 s); with 1,024 it is 258 ms and with 4,096 606–707 ms, as
    /// everyone queues behind the attacker. Hence Hummingbird's 256.
    public var listenBacklog = 256
    /// A request head must arrive whole within this of its first byte.
    public var headerTimeout: Duration = .seconds(10)
    /// A request body must arrive whole within this of its head.
    public var bodyTimeout: Duration = .seconds(10)
    /// A response may wait this long for a client that stopped reading.
    public var writeTimeout: Duration = .seconds(10)
    /// A keep-alive connection that sends nothing for this long is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// Clients remembered per limiter; past it, entries whose bucket is full go first.
    public var clientTableCapacity = 100_000
    /// How often each node re-reads the access lists' version (the fallback to LISTEN/NOTIFY
    /// on PostgreSQL, the only way on SQLite); the contract allows 5 s.
    public var accessListRefresh: Duration = .seconds(1)

    public init() {}

    func validate() throws {
        guard listenBacklog >= 1 else { throw ConfigError("--listen-backlog must be at least 1") }
        guard maxConnections >= 1, maxConnectionsPerClient >= 1 else { throw ConfigError("connection caps must be at least 1") }
        guard maxConnectionsPerClient <= maxConnections else {
            throw ConfigError("--max-connections-per-client must not exceed --max-connections")
        }
        for timeout in [headerTimeout, bodyTimeout, writeTimeout, idleTimeout] where timeout < .milliseconds(100) {
            throw ConfigError("shield timeouts must be at least 0.1 s")
        }
        guard clientTableCapacity >= 1_000 else { throw ConfigError("the client table needs room for at least 1000 clients") }
    }
}
