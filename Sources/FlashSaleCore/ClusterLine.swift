import Foundation

/// One node's line for one sale as it tells the other nodes, through the store, at every
/// heartbeat (`ClusterStore.heartbeat`): the figures the dashboard sums, and the threshold
/// the others keep theirs near so that first come, first served holds across nodes.
public struct NodeLine: Sendable, Equatable {
    public var nodeID: UUID
    public var saleID: UUID
    /// The node's threshold while it is answering this sale's polls; nil when it has not
    /// answered one for `ClusterAdmission.activeWithin` (a node the balancer does not send
    /// this sale's shoppers to must not hold the others back).
    public var threshold: Date?
    public var joined: Int
    public var admitted: Int
    public var waiting: Int
    public var achievedRatePerSecond: Double
    /// Seconds between its publication and the read that returned it, by the store's clock.
    public var ageSeconds: Double

    public init(
        nodeID: UUID, saleID: UUID, threshold: Date?, joined: Int, admitted: Int, waiting: Int,
        achievedRatePerSecond: Double, ageSeconds: Double = 0
    ) {
        self.nodeID = nodeID
        self.saleID = saleID
        self.threshold = threshold
        self.joined = joined
        self.admitted = admitted
        self.waiting = waiting
        self.achievedRatePerSecond = achievedRatePerSecond
        self.ageSeconds = ageSeconds
    }
}

/// What the other live nodes' lines allow one node's threshold for one sale: no further
/// than one poll interval behind the furthest of them (`floor`: a node restarted, or one
/// sent more arrivals than its share, catches up instead of holding back shoppers the
/// others already let through), and no further than one poll interval ahead of the
/// nearest (`ceiling`: a node sent fewer arrivals does not run ahead and admit later
/// shoppers before earlier ones waiting elsewhere). API.md: first come, first served
/// "within the resolution of one poll interval", across all nodes.
public struct ThresholdBounds: Sendable, Equatable {
    public var floor: Date?
    public var ceiling: Date?

    public init(floor: Date? = nil, ceiling: Date? = nil) {
        self.floor = floor
        self.ceiling = ceiling
    }

    public static let none = ThresholdBounds()
}

/// The pure rules of admission shared through the store (docs/ARCHITECTURE.md, "Several
/// nodes"): each live node admits `rate / live nodes`, and keeps its threshold within one
/// poll interval of the others'.
public enum ClusterAdmission {
    /// Seconds of first arrivals the nodes' thresholds may stand apart: one poll interval
    /// of a shopper near the front (`AdmissionController` asks them at least once a second).
    public static let tolerance = 1.0
    /// A node that answered no poll of a sale for this many seconds publishes no threshold.
    public static let activeWithin = 2.0
    /// Seconds without a heartbeat after which a node counts as gone. Heartbeats come every
    /// 0.5 s; five seconds ride out a saturated machine (a node counted dead while alive
    /// makes the others admit its share too), and leave the rate whole again about six
    /// seconds after a node dies, inside issue 12's ten.
    public static let liveWithin = 5.0

    /// This node's share of every sale's rate with `liveNodes` nodes alive (itself
    /// included; at least one).
    public static func share(liveNodes: Int) -> Double { 1 / Double(max(1, liveNodes)) }

    /// The bounds the other nodes' lines of one sale put on this node's threshold. A peer's
    /// threshold has moved on since it was read by at most its age, so the ceiling allows
    /// for that; the floor does not (it is only ever a catch-up to where a peer was).
    public static func bounds(peers: [NodeLine]) -> ThresholdBounds {
        var floor: Date?
        var ceiling: Date?
        for peer in peers where peer.ageSeconds < liveWithin {
            guard let threshold = peer.threshold else { continue }
            let low = threshold.addingTimeInterval(-tolerance)
            let high = threshold.addingTimeInterval(tolerance + max(0, peer.ageSeconds))
            floor = floor.map { max($0, low) } ?? low
            ceiling = ceiling.map { min($0, high) } ?? high
        }
        // Peers far apart (one stalled, one racing) can cross the two; the floor wins: a
        // node never holds back shoppers another node already admits.
        if let low = floor, let high = ceiling, high < low { ceiling = low }
        return ThresholdBounds(floor: floor, ceiling: ceiling)
    }

    /// The sale's line as the whole deployment holds it: this node's figures plus the other
    /// nodes' lines. Each node counts the passes it issued and admitted, so the totals take
    /// every node's, gone ones too; who waits and the rate achieved now, only live ones'.
    public static func combined(_ own: QueueFigures, peers: [NodeLine]) -> QueueFigures {
        var figures = own
        for peer in peers {
            figures.joined += peer.joined
            figures.admitted += peer.admitted
            guard peer.ageSeconds < liveWithin else { continue }
            figures.waiting += peer.waiting
            figures.achievedRatePerSecond += peer.achievedRatePerSecond
        }
        return figures
    }
}
