import FlashSaleCore
import Foundation
import PostgresNIO

extension PostgresStore: ClusterStore {
    /// Nodes and lines silent this long are deleted (`forgetSilentNodes`).
    static let clusterMemory = "1 hour"

    /// One statement, so one round trip: on a saturated machine each round trip waits its
    /// turn, and a heartbeat of several took seconds (issue 12's runs). Liveness is judged by
    /// the database's clock (`now()`), never the nodes'. The statement's reads do not see
    /// its own writes, so the asking node is added to the live set here, and its own lines
    /// are not read back.
    public func heartbeat(node: UUID, lines: [NodeLine], liveWithin: Double) async throws -> ClusterView {
        let rows = try await backgroundClient.query(try Self.heartbeatQuery(node: node, lines: lines, liveWithin: liveWithin), logger: logger)
        var live: Set<UUID> = [node]
        var peers: [NodeLine] = []
        for try await (peer, sale, threshold, joined, admitted, waiting, achieved, age) in rows.decode(
            (UUID, UUID?, Date?, Int64, Int64, Int64, Double, Double).self)
        {
            guard let sale else {
                live.insert(peer)
                continue
            }
            peers.append(
                NodeLine(
                    nodeID: peer, saleID: sale, threshold: threshold, joined: Int(joined), admitted: Int(admitted),
                    waiting: Int(waiting), achievedRatePerSecond: achieved, ageSeconds: age))
        }
        return ClusterView(liveNodeIDs: live, peerLines: peers)
    }

    /// The heartbeat's one statement: upserts the node and its lines, and reads the other
    /// live nodes and every other node's lines.
    static func heartbeatQuery(node: UUID, lines: [NodeLine], liveWithin: Double) throws -> PostgresQuery {
        let records = String(decoding: try JSONCoding.encoder().encode(lines.map(LineRecord.init)), as: UTF8.self)
        return """
            WITH beat AS (
                INSERT INTO cluster_nodes (node_id, started_at, heartbeat_at) VALUES (\(node), now(), now())
                ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now(), left_at = NULL
            ), published AS (
                INSERT INTO admission_lines (sale_id, node_id, threshold, joined, admitted, waiting, achieved, updated_at)
                SELECT l.sale_id, \(node), l.threshold, l.joined, l.admitted, l.waiting, l.achieved, now()
                FROM jsonb_to_recordset(\(records)::jsonb)
                    AS l(sale_id uuid, threshold timestamptz, joined bigint, admitted bigint, waiting bigint, achieved double precision)
                ON CONFLICT (sale_id, node_id) DO UPDATE SET threshold = excluded.threshold, joined = excluded.joined,
                    admitted = excluded.admitted, waiting = excluded.waiting, achieved = excluded.achieved,
                    updated_at = excluded.updated_at
            )
            SELECT node_id, NULL::uuid, NULL::timestamptz, 0::bigint, 0::bigint, 0::bigint, 0::double precision, 0::double precision
            FROM cluster_nodes
            WHERE node_id <> \(node) AND left_at IS NULL AND heartbeat_at > now() - make_interval(secs => \(liveWithin))
            UNION ALL
            SELECT node_id, sale_id, threshold, joined, admitted, waiting, achieved,
                extract(epoch FROM now() - updated_at)::double precision
            FROM admission_lines WHERE node_id <> \(node)
            """
    }

    public func leaveCluster(node: UUID) async throws {
        try await backgroundClient.query("UPDATE cluster_nodes SET left_at = now() WHERE node_id = \(node)", logger: logger).drain()
    }

    public func forgetSilentNodes() async throws {
        try await backgroundClient.query(
            """
            WITH nodes AS (DELETE FROM cluster_nodes WHERE heartbeat_at < now() - interval '\(unescaped: Self.clusterMemory)')
            DELETE FROM admission_lines WHERE updated_at < now() - interval '\(unescaped: Self.clusterMemory)'
            """, logger: logger
        ).drain()
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
