import FlashSaleCore
import Foundation

/// The nodes of one deployment finding each other through the database they share
/// (docs/ARCHITECTURE.md, "Several nodes"): no cluster protocol of our own. PostgreSQL
/// only; a SQLite file has one node.
public protocol ClusterStore: Sendable {
    /// Records `node` alive now, by the database's clock, with its lines; answers which
    /// nodes are live (a heartbeat within `liveWithin` seconds and not left, `node`
    /// included) and every other node's lines of the last hour, each with its age.
    func heartbeat(node: UUID, lines: [NodeLine], liveWithin: Double) async throws -> ClusterView
    /// Marks `node` gone at once (graceful shutdown), so that the others take up its share
    /// without waiting for its heartbeat to age; its lines stay, for the sales' totals.
    func leaveCluster(node: UUID) async throws
    /// Deletes the nodes and lines silent for an hour (any node calls it now and then).
    func forgetSilentNodes() async throws
}

/// What one heartbeat learns of the other nodes.
public struct ClusterView: Sendable, Equatable {
    /// Live nodes, the asking one included.
    public var liveNodeIDs: Set<UUID>
    /// Every other node's lines, live or not, with `ageSeconds` since their node wrote them.
    public var peerLines: [NodeLine]

    public var liveNodes: Int { max(1, liveNodeIDs.count) }

    public init(liveNodeIDs: Set<UUID>, peerLines: [NodeLine]) {
        self.liveNodeIDs = liveNodeIDs
        self.peerLines = peerLines
    }
}

/// The notifications a store sends when a node changes what every node caches.
public enum ChangeFeed: String, Sendable, CaseIterable {
    /// The block and allow lists.
    case accessLists = "flashsale_access_list"
    /// A sale created or changed (paused, ended, rate, window).
    case sales = "flashsale_sales"
}
