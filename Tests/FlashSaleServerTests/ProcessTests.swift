import FlashSaleBench
import FlashSaleCore
import Foundation
import Synchronization
import Testing

/// The shop as an operator runs it: a spawned `flashsale serve` over real HTTP.
/// Serialized: each test loads the two cores on its own.
@Suite(.serialized) struct ProcessTests {
    @Test func fiveThousandShoppersOverHTTPReserveExactlyTheStock() async throws {
        let (database, folder) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await ServerProcess.start(database: database)
        defer { server.stop() }
        let created = try await server.send(
            .POST, "/api/v1/admin/sales", headers: server.admin,
            json: saleJSON(["quantity": 500, "admission_rate_per_second": 1_000_000]))
        #expect(created.status == 201, "\(created.text)")
        let sale = try #require(created.json["id"] as? String)

        let statuses = Locked<[Int: Int]>([:])
        let violations = Locked<[String]>([])
        let done = Locked(false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The invariant, sampled through the public stats while the crowd runs.
            group.addTask {
                while !done.withLock({ $0 }) {
                    let stats = try await server.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: server.admin).json
                    let (a, r, s) = (stats["available"] as? Int ?? -1, stats["reserved"] as? Int ?? -1, stats["sold"] as? Int ?? -1)
                    if a < 0 || r < 0 || s < 0 || a + r + s != 500 { violations.withLock { $0.append("\(stats)") } }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            // 5,056 concurrent attempts on 500 units. The waiting room admits no more shoppers
            // than there are units, so the passes are signed here with the server's secret:
            // this is a test of the engine under contention, not of admission.
            let attempts = 5_056
            let signer = PassSigner(secret: "s3cret")
            let saleID = try #require(UUID(uuidString: sale))
            let passes = Locked((0..<attempts).map { _ in
                signer.sign(QueuePass(saleID: saleID, visitorID: .timeOrdered(), firstArrival: Date(), admittedAt: Date()))
            })
            try await forEachIndex(attempts, workers: 64) { index in
                let reply = try await server.send(
                    .POST, "/api/v1/sales/\(sale)/reservations",
                    headers: [("X-Queue-Pass", passes.withLock { $0[index] }), ("Idempotency-Key", "k-\(index)")],
                    json: #"{"email": "shopper\#(index)@example.com"}"#)
                statuses.withLock { $0[reply.status, default: 0] += 1 }
            }
            done.withLock { $0 = true }
            try await group.waitForAll()
        }
        let counts = statuses.withLock { $0 }
        #expect(counts[201] == 500, "\(counts)")
        #expect(counts[409] == 5_056 - 500, "\(counts)")
        #expect(counts.keys.allSatisfy { $0 < 500 }, "no 5xx: \(counts)")
        #expect(violations.withLock { $0 }.isEmpty)
        let stats = try await server.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: server.admin).json
        #expect(stats["reserved"] as? Int == 500 && stats["available"] as? Int == 0)
    }

    @Test func committedReservationsSurviveKillNine() async throws {
        let (database, folder) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await ServerProcess.start(database: database)
        let created = try await first.send(
            .POST, "/api/v1/admin/sales", headers: first.admin, json: saleJSON(["quantity": 50, "reservation_ttl_seconds": 3_600]))
        let sale = try #require(created.json["id"] as? String)
        var reservations: [String] = []
        for index in 0..<20 {
            let pass = try #require(try await first.send(.POST, "/api/v1/sales/\(sale)/queue").json["pass"] as? String)
            let reply = try await first.send(
                .POST, "/api/v1/sales/\(sale)/reservations", headers: [("X-Queue-Pass", pass), ("Idempotency-Key", "k\(index)")],
                json: #"{"email": "s\#(index)@example.com"}"#)
            #expect(reply.status == 201)
            reservations.append(try #require(reply.json["reservation_id"] as? String))
        }
        first.kill9()

        let second = try await ServerProcess.start(database: database)
        defer { second.stop() }
        let stats = try await second.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: second.admin).json
        #expect(stats["reserved"] as? Int == 20 && stats["available"] as? Int == 30)
        // Every acknowledged reservation is there to cancel.
        for id in reservations {
            #expect(try await second.send(.DELETE, "/api/v1/reservations/\(id)").status == 204)
        }
        #expect(try await second.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: second.admin).json["available"] as? Int == 50)
    }

    @Test func configurationComesFromFlagsAndEnvironment() async throws {
        let (database, folder) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A flag wins over its environment variable; JSON logs still carry the ready line.
        let server = try await ServerProcess.start(
            database: database, extraArguments: ["--log-format", "json"],
            environment: ["FLASHSALE_ADMIN_TOKEN": "ignored-when-flag-given"])
        #expect(server.log.contains(#""message":"listening on http://127.0.0.1:"#))
        defer { server.stop() }
        #expect(try await server.send(.GET, "/healthz").status == 200)
        #expect(try await server.send(.GET, "/readyz").status == 200)
        #expect(try await server.send(.GET, "/metrics").text.contains("flashsale_"))
        #expect(try await server.send(.GET, "/api/v1/admin/sales", headers: server.admin).status == 200)

        let bad = Process()
        bad.executableURL = ServerProcess.binary
        bad.arguments = ["serve", "--database", "mysql://nope", "--port", "0"]
        bad.standardOutput = FileHandle.nullDevice
        let errors = try runCapturingOutput(bad, standardError: true)
        #expect(bad.terminationStatus != 0)
        #expect(String(decoding: errors, as: UTF8.self).contains("unknown database"))
    }
}
