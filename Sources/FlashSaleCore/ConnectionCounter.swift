import Synchronization

/// Open connections per client address and in total, each under a cap: the edge shield's
/// answer to one client (or a flood) holding every socket. Thread-safe; each call takes one
/// lock briefly.
///
/// Addresses are counted in canonical form (`IPAddress.canonical`), so a client seen as
/// `::ffff:a.b.c.d` on one socket and `a.b.c.d` on another is one client. An address is
/// forgotten when its last connection closes: memory grows with open connections, never with
/// the clients seen.
public final class ConnectionCounter: Sendable {
    /// Why a connection was not counted.
    public enum Refusal: Sendable, Hashable {
        /// The address already holds `perClientLimit` connections (checked first).
        case perClient
        /// The server already holds `totalLimit` connections.
        case total
    }

    private struct State {
        var byAddress: [[UInt8]: Int] = [:]
        var total = 0
    }

    /// Most connections one address may hold (≥ 1).
    public let perClientLimit: Int
    /// Most connections in all (≥ 1).
    public let totalLimit: Int
    private let state = Mutex(State())

    public init(perClientLimit: Int, totalLimit: Int) {
        precondition(perClientLimit >= 1 && totalLimit >= 1, "limits must be ≥ 1")
        self.perClientLimit = perClientLimit
        self.totalLimit = totalLimit
    }

    /// Counts a new connection from `address` if both caps allow it.
    /// - Returns: nil when counted (pair it with one `close`); otherwise the cap that refused
    ///   it, and nothing was counted (do not `close` it).
    ///   `perClientCap` false counts the connection towards the total only (a trusted proxy
    ///   carries many clients on its connections).
    public func open(_ address: [UInt8], perClientCap: Bool = true) -> Refusal? {
        let key = IPAddress.canonical(address)
        return state.withLock { state in
            let current = state.byAddress[key, default: 0]
            if perClientCap && current >= perClientLimit { return .perClient }
            if state.total >= totalLimit { return .total }
            state.byAddress[key] = current + 1
            state.total += 1
            return nil
        }
    }

    /// Uncounts a connection that `open` accepted. Closing an address with no open connection
    /// is ignored, so a stray close cannot push a count below zero or free a slot for another.
    public func close(_ address: [UInt8]) {
        let key = IPAddress.canonical(address)
        state.withLock { state in
            guard let current = state.byAddress[key] else { return }
            state.byAddress[key] = current > 1 ? current - 1 : nil
            state.total -= 1
        }
    }

    /// Open connections from `address`.
    public func count(for address: [UInt8]) -> Int {
        let key = IPAddress.canonical(address)
        return state.withLock { $0.byAddress[key, default: 0] }
    }

    /// Open connections in all.
    public var total: Int { state.withLock { $0.total } }

    /// Addresses with at least one open connection: what the counter keeps in memory.
    public var clients: Int { state.withLock { $0.byAddress.count } }
}
