import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle

/// This node's part in a deployment of several on one PostgreSQL (docs/ARCHITECTURE.md,
/// "Several nodes"): every `interval` one heartbeat tells the store this node is alive and
/// how its lines stand, and brings back how many nodes are live and the others' lines. The
/// waiting room then admits `rate / live nodes` of every sale and keeps each threshold
/// within one poll interval of the others'. A node that dies stops heartbeating; within
/// `ClusterAdmission.liveWithin` plus one interval the others have taken up its share. One
/// that stops gracefully says so, and the others take it up at their next heartbeat.
struct ClusterMembership: Service {
    let cluster: any ClusterStore
    let nodeID: UUID
    let waitingRoom: WaitingRoom
    /// Heartbeats start once the migrations have made their tables.
    let readiness: Readiness
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // At high priority, as checkout: behind a saturated waiting room a default-priority
        // heartbeat waited seconds for the executor (ages up to 6.5 s were read with three
        // nodes, a crowd and nginx on two cores), and the others counted this node dead.
        await withDiscardingTaskGroup { group in
            group.addTask(priority: .high) { await beat() }
        }
        do {
            try await cluster.leaveCluster(node: nodeID)
        } catch {
            logger.info("could not tell the cluster this node left; its heartbeat will age out", metadata: ["error": "\(error)"])
        }
    }

    private func beat() async {
        try? await cancelWhenGracefulShutdown {
            var liveNodes = 0
            var failing = false
            var beats = 0
            while true {
                guard readiness.migrated else {
                    try await Task.sleep(for: interval)
                    continue
                }
                do {
                    // A query on a connection lost under it may never be answered
                    // (`repeatUntilShutdown`); a slow one took up to 6.5 s (above), hence 10 s.
                    let lines = waitingRoom.lines(nodeID: nodeID, now: Date())
                    let view = try await withTimeout(.seconds(10)) {
                        try await cluster.heartbeat(node: nodeID, lines: lines, liveWithin: ClusterAdmission.liveWithin)
                    }
                    waitingRoom.follow(view)
                    if failing || view.liveNodes != liveNodes {
                        logger.notice(
                            "cluster: \(view.liveNodes) live node(s); this node admits 1/\(view.liveNodes) of each sale's rate",
                            metadata: ["node": "\(nodeID.lowercased)"])
                    }
                    (liveNodes, failing) = (view.liveNodes, false)
                    beats += 1
                    if beats % 120 == 0 { try await cluster.forgetSilentNodes() }
                } catch where !Task.isCancelled {
                    // The store is away: keep the share, judge the line alone until it is back.
                    waitingRoom.follow(nil)
                    if !failing {
                        logger.warning("cluster heartbeat failed; admitting at the last share", metadata: ["error": "\(error)"])
                    }
                    failing = true
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
