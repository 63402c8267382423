import FlashSaleCore
import FlashSaleStore
import Foundation
import Testing

/// Nodes finding each other through PostgreSQL (`ClusterStore`). The test database is
/// shared with other suites, so each test judges only the node and sale ids it made.
@Suite struct ClusterStoreTests {
    static func line(node: UUID, sale: UUID, threshold: Date?, joined: Int = 10) -> NodeLine {
        NodeLine(nodeID: node, saleID: sale, threshold: threshold, joined: joined, admitted: 4, waiting: 6, achievedRatePerSecond: 2.5)
    }

    @Test func sqliteHoldsNoCluster() async throws {
        try await withStore(.sqliteMemory) { store in #expect(store.cluster == nil) }
    }

    @Test(.enabled(if: StoreKind.postgresURL != nil)) func heartbeatsShowEachNodeTheOthersAndTheirLines() async throws {
        try await withStore(.postgres) { store in
            let cluster = try #require(store.cluster)
            // A window far longer than the test: on a loaded machine seconds pass between
            // heartbeats, and liveness by age has its own test below.
            let live = 60.0
            let (one, two, sale) = (UUID(), UUID(), UUID())
            let threshold = Date(timeIntervalSince1970: 1_796_140_800.125)
            let first = try await cluster.heartbeat(node: one, lines: [Self.line(node: one, sale: sale, threshold: threshold)], liveWithin: live)
            #expect(first.liveNodeIDs.contains(one) && !first.liveNodeIDs.contains(two))
            #expect(!first.peerLines.contains { $0.nodeID == one }, "a node is not its own peer")

            let second = try await cluster.heartbeat(node: two, lines: [], liveWithin: live)
            #expect(second.liveNodeIDs.isSuperset(of: [one, two]))
            let seen = try #require(second.peerLines.first { $0.nodeID == one && $0.saleID == sale })
            #expect(abs(try #require(seen.threshold).timeIntervalSince(threshold)) < 0.001)
            #expect(seen.joined == 10 && seen.admitted == 4 && seen.waiting == 6 && seen.achievedRatePerSecond == 2.5)
            #expect(seen.ageSeconds >= 0 && seen.ageSeconds < live)

            // A newer heartbeat replaces the line; a threshold may be withheld (the node is idle).
            _ = try await cluster.heartbeat(node: one, lines: [Self.line(node: one, sale: sale, threshold: nil, joined: 11)], liveWithin: live)
            let third = try await cluster.heartbeat(node: two, lines: [], liveWithin: live)
            let replaced = try #require(third.peerLines.first { $0.nodeID == one && $0.saleID == sale })
            #expect(replaced.threshold == nil && replaced.joined == 11)
            #expect(third.peerLines.filter { $0.nodeID == one }.count == 1)

            // A node that leaves is no longer live at once; its line stays for the sale's totals.
            try await cluster.leaveCluster(node: one)
            let fourth = try await cluster.heartbeat(node: two, lines: [], liveWithin: live)
            #expect(!fourth.liveNodeIDs.contains(one) && fourth.liveNodeIDs.contains(two))
            #expect(fourth.peerLines.contains { $0.nodeID == one && $0.saleID == sale })
            // Heartbeating again brings it back.
            let back = try await cluster.heartbeat(node: one, lines: [], liveWithin: live)
            #expect(back.liveNodeIDs.contains(one))
            // Housekeeping keeps what spoke within the hour.
            try await cluster.forgetSilentNodes()
            let kept = try await cluster.heartbeat(node: two, lines: [], liveWithin: live)
            #expect(kept.liveNodeIDs.contains(one) && kept.peerLines.contains { $0.nodeID == one && $0.saleID == sale })
            try await cluster.leaveCluster(node: one)
            try await cluster.leaveCluster(node: two)
        }
    }

    @Test(.enabled(if: StoreKind.postgresURL != nil)) func aNodeSilentLongerThanTheLivenessWindowIsNotLive() async throws {
        try await withStore(.postgres) { store in
            let cluster = try #require(store.cluster)
            let (quiet, asking) = (UUID(), UUID())
            _ = try await cluster.heartbeat(node: quiet, lines: [], liveWithin: 0.3)
            try await Task.sleep(for: .milliseconds(600))
            let view = try await cluster.heartbeat(node: asking, lines: [], liveWithin: 0.3)
            #expect(!view.liveNodeIDs.contains(quiet) && view.liveNodeIDs.contains(asking))
            try await cluster.leaveCluster(node: quiet)
            try await cluster.leaveCluster(node: asking)
        }
    }
}
