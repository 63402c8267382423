import FlashSaleCore
import Foundation
import PostgresNIO

extension PostgresStore: ClusterStore {
    /// Nodes and lines silent this long are deleted by the next heartbeat of any node.
    static let clusterMemory = "1 hour"

    /// One transaction, by the database's clock (`now()`, so the nodes' clocks never judge
    /// liveness): the node's row, its lines, the live count, the others' lines, and the
    /// removal of what has been silent for `clusterMemory`.
    public func heartbeat(node: UUID, lines: [NodeLine], liveWithin: Double) async throws -> ClusterView {
        let records = String(decoding: try JSONCoding.encoder().encode(lines.map(LineRecord.init)), as: UTF8.self)
        return try await transaction { conn in
            try await conn.query(
                """
                INSERT INTO cluster_nodes (node_id, started_at, heartbeat_at) VALUES (\(node), now(), now())
                ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now(), left_at = NULL
                """, logger: logger
            ).drain()
            if !lines.isEmpty {
                try await conn.query(
                    """
                    INSERT INTO admission_lines (sale_id, node_id, threshold, joined, admitted, waiting, achieved, updated_at)
                    SELECT l.sale_id, \(node), l.threshold, l.joined, l.admitted, l.waiting, l.achieved, now()
                    FROM jsonb_to_recordset(\(records)::jsonb)
                        AS l(sale_id uuid, threshold timestamptz, joined bigint, admitted bigint, waiting bigint, achieved double precision)
                    ON CONFLICT (sale_id, node_id) DO UPDATE SET threshold = excluded.threshold, joined = excluded.joined,
                        admitted = excluded.admitted, waiting = excluded.waiting, achieved = excluded.achieved,
                        updated_at = excluded.updated_at
                    """, logger: logger
                ).drain()
            }
            var live: Set<UUID> = []
            for try await id in try await conn.query(
                """
                SELECT node_id FROM cluster_nodes
                WHERE left_at IS NULL AND heartbeat_at > now() - make_interval(secs => \(liveWithin))
                """, logger: logger
            ).decode(UUID.self) {
                live.insert(id)
            }
            var peers: [NodeLine] = []
            let rows = try await conn.query(
                """
                SELECT node_id, sale_id, threshold, joined, admitted, waiting, achieved,
                    extract(epoch FROM now() - updated_at)::double precision
                FROM admission_lines WHERE node_id <> \(node)
                """, logger: logger)
            for try await (peer, sale, threshold, joined, admitted, waiting, achieved, age) in rows.decode(
                (UUID, UUID, Date?, Int64, Int64, Int64, Double, Double).self)
            {
                peers.append(
                    NodeLine(
                        nodeID: peer, saleID: sale, threshold: threshold, joined: Int(joined), admitted: Int(admitted),
                        waiting: Int(waiting), achievedRatePerSecond: achieved, ageSeconds: age))
            }
            try await conn.query(
                "DELETE FROM cluster_nodes WHERE heartbeat_at < now() - interval '\(unescaped: Self.clusterMemory)'", logger: logger
            ).drain()
            try await conn.query(
                "DELETE FROM admission_lines WHERE updated_at < now() - interval '\(unescaped: Self.clusterMemory)'", logger: logger
            ).drain()
            return ClusterView(liveNodeIDs: live, peerLines: peers)
        }
    }

    public func leaveCluster(node: UUID) async throws {
        try await client.query("UPDATE cluster_nodes SET left_at = now() WHERE node_id = \(node)", logger: logger).drain()
    }
}

/// A line as `jsonb_to_recordset` reads it (the node id is bound once, not per line).
private struct LineRecord: Encodable {
    let saleID: UUID
    let threshold: Date?
    let joined: Int
    let admitted: Int
    let waiting: Int
    let achieved: Double

    init(_ line: NodeLine) {
        saleID = line.saleID
        threshold = line.threshold
        joined = line.joined
        admitted = line.admitted
        waiting = line.waiting
        achieved = line.achievedRatePerSecond.isFinite ? line.achievedRatePerSecond : 0
    }

    enum CodingKeys: String, CodingKey {
        case saleID = "sale_id", threshold, joined, admitted, waiting, achieved
    }
}
