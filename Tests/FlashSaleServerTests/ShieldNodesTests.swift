import Foundation
import Testing

/// Two `flashsale serve` processes on one store, as two nodes of a deployment: a block
/// made on one node refuses the client on the other, and lifting it on the other lets the
/// client back on the first. SQLite nodes learn it by polling the lists' version every
/// second; PostgreSQL nodes by LISTEN/NOTIFY. The lag is printed; the contract's 5 s is a
/// figure for BENCHMARKS.md, not a clock this test races.
@Suite(.serialized) struct ShieldNodesTests {
    static var databases: [String] {
        ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"] == nil ? ["sqlite"] : ["sqlite", "postgres"]
    }

    @Test(arguments: databases) func aBlockReachesEveryNode(database kind: String) async throws {
        let (sqlite, folder) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = kind == "postgres" ? try ScratchPostgres.create() : sqlite
        defer { if kind == "postgres" { ScratchPostgres.drop(database) } }
        // The test's own connections come from 127.0.0.1, a trusted proxy here, so
        // X-Forwarded-For plays the client.
        let arguments = ["--trusted-proxy", "127.0.0.0/8"]
        let one = try await ServerProcess.start(database: database, extraArguments: arguments)
        defer { one.stop() }
        let two = try await ServerProcess.start(database: database, extraArguments: arguments)
        defer { two.stop() }
        let client = [("X-Forwarded-For", "198.51.100.23")]
        #expect(try await two.send(.GET, "/api/v1/sales", headers: client).status == 200)

        let blockedAt = Date()
        let added = try await one.send(
            .POST, "/api/v1/admin/blocklist", headers: one.admin, json: #"{"cidr": "198.51.100.0/24", "reason": "flood"}"#)
        #expect(added.status == 201, "\(added.text)")
        #expect(try await one.send(.GET, "/api/v1/sales", headers: client).status == 403, "at once on the node that made it")
        let refused = try await eventually { () async throws -> ServerProcess.Reply? in
            let reply = try await two.send(.GET, "/api/v1/sales", headers: client)
            return reply.status == 403 ? reply : nil
        }
        #expect(refused.json["error"] as? String == "blocked")
        print("\(kind): a block reached the other node after \(String(format: "%.2f", Date().timeIntervalSince(blockedAt))) s")
        // Others are served on both nodes.
        #expect(try await two.send(.GET, "/api/v1/sales", headers: [("X-Forwarded-For", "192.0.2.1")]).status == 200)

        let liftedAt = Date()
        #expect(try await two.send(.DELETE, "/api/v1/admin/blocklist/198.51.100.0%2F24", headers: two.admin).status == 204)
        _ = try await eventually { () async throws -> Bool? in
            try await one.send(.GET, "/api/v1/sales", headers: client).status == 200 ? true : nil
        }
        print("\(kind): lifting it reached the other node after \(String(format: "%.2f", Date().timeIntervalSince(liftedAt))) s")
    }
}
