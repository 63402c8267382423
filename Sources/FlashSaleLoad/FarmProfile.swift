/// The reseller farm of issue 10 (`--farm-*`): one operator on `addresses` addresses of one
/// /24 asking for `joins` passes around the opening, each pass a bot of its own (no
/// cookies), polling faster than told, checking out in milliseconds with a fresh email and
/// card, shipping to a few jigged drop addresses. Needs `--forwarded-addresses`.
public struct FarmProfile: Sendable, Equatable {
    /// Addresses `203.0.113.1` … `.N`; 0: no farm.
    public var addresses = 0
    /// Passes the farm asks for in all (one bot each), round-robin over its addresses.
    public var joins = 1_000
    /// The joins are paced evenly from this many seconds before the opening …
    public var earlySeconds = 1.0
    /// … over this many seconds.
    public var joinSeconds = 3.0
    /// A bot polls this often (milliseconds), whatever `poll_after_ms` says.
    public var pollMs = 250
    /// From seeing `admitted` to sending the reservation, milliseconds.
    public var reserveDelayMs = 50
    /// Doors the farm ships to (each order jigs one of them, round-robin).
    public var dropAddresses = 3
    /// Threads solving the farm's proof of work: its compute.
    public var solvers = 1

    public init() {}

    public var enabled: Bool { addresses > 0 && joins > 0 }

    /// When bot `index` joins, in seconds from the opening.
    func joinOffset(_ index: Int) -> Double {
        -earlySeconds + joinSeconds * Double(index) / Double(max(joins, 1))
    }
}
