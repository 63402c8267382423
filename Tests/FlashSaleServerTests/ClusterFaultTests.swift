import AsyncHTTPClient
import FlashSaleBench
import FlashSaleCore
import FlashSaleLoad
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// Faults of a deployment, played for real (issue 12): `flashsale serve` processes on a
/// PostgreSQL cluster of the test's own, a crowd spread over them without stickiness, then
/// a node killed with SIGKILL, or PostgreSQL restarted, in the middle of the sale.
///
/// Each test starts its own cluster (`scripts/test-postgres.sh start`), so that it may
/// restart it without disturbing the shared test database, and stops it at the end. They
/// need PostgreSQL's binaries: absent, the suite is skipped, unless `CI` is set (then the
/// script installs them, or the suite fails). Serialized, and run with the timed suites
/// (scripts/test.sh): each loads both cores on its own.
@Suite(.serialized, .enabled(if: PrivatePostgres.available, "PostgreSQL's initdb and pg_ctl are not installed"))
struct ClusterFaultTests {
    static let secret = "s3cret"

    /// Three nodes, one PostgreSQL, a crowd spread request by request over all three;
    /// node 2 is killed with SIGKILL five seconds after the opening.
    @Test(.timeLimit(.minutes(5))) func aNodeKilledMidSaleLosesNothingAndTheOthersCarryOn() async throws {
        let postgres = try await PrivatePostgres.start()
        defer { postgres.stop() }
        let nodes = Locked<[ServerProcess]>([])
        defer { Self.halt(nodes.withLock { $0 }, test: #function) }
        // Without --node-count: on PostgreSQL the nodes share the sale's rate among those alive.
        let started = try await Self.startNodes(3, on: postgres, into: nodes)
        let (first, victim, third) = (started[0], started[1], started[2])

        // A rate the crowd can keep busy on two debug-built survivors sharing two cores with
        // it (at 30/s the crowd, not the nodes, set the pace after the kill: 140 requests/s).
        let quantity = 800
        let rate = 12
        let startsAt = Date().addingTimeInterval(4)
        let sale = try await Self.createSale(on: first, [
            "quantity": quantity, "admission_rate_per_second": rate, "reservation_ttl_seconds": 10,
            "starts_at": Timestamp.format(startsAt), "ends_at": Timestamp.format(startsAt.addingTimeInterval(600)),
        ])

        // Nobody leaves the line: shoppers still wait when the rate is measured.
        let config = Self.crowd(
            over: [first, victim, third], sale: sale, shoppers: 1_200, connections: 64,
            curve: ArrivalCurve(spikeShare: 0.8, spikeSeconds: 2, tailSeconds: 10), seconds: 30, seed: 12)

        let killedAt = Locked<Date?>(nil)
        // Seconds from the kill until both survivors admit half the rate each (their heartbeats
        // no longer count the dead node): nil if not within 10 s.
        let takenUp = Locked<Double?>(nil)
        let killer = Task {
            try? await Task.sleep(for: .seconds(max(startsAt.addingTimeInterval(5).timeIntervalSinceNow, 0)))
            let kill = Date()
            killedAt.withLock { $0 = kill }
            victim.kill9()
            while Date().timeIntervalSince(kill) < 10 {
                var shares: [Double] = []
                for node in [first, third] {
                    let stats = try? await node.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: node.admin)
                    shares.append((stats?.json["queue"] as? [String: Any])?["node_admission_rate_per_second"] as? Double ?? 0)
                }
                if shares.allSatisfy({ $0 == Double(rate) / 2 }) {
                    takenUp.withLock { $0 = Date().timeIntervalSince(kill) }
                    return
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        let report = try await CrowdRun(config).run()
        await killer.value
        print(report.text)
        let killOffset = try #require(killedAt.withLock { $0 }).timeIntervalSince(startsAt)
        let recovery = takenUp.withLock { $0 }
        #expect(recovery != nil, "the survivors did not take up the dead node's share within 10 s")
        print("the survivors admitted \(Double(rate) / 2)/s each \(recovery.map { String(format: "%.1f", $0) } ?? "-") s after the kill")

        // No oversell, and the stock adds up, as a surviving node reads it.
        let verdicts = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.name, $0.passed) })
        #expect(verdicts["oversell"] == true, "\(report.checks)")
        let stats = try await third.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: third.admin).json
        let (available, reserved, sold) = (stats["available"] as? Int ?? -1, stats["reserved"] as? Int ?? -1, stats["sold"] as? Int ?? -1)
        #expect(sold <= quantity && available >= 0 && reserved >= 0 && available + reserved + sold == quantity, "\(stats)")

        // The dead node refused connections; the crowd sent those requests on, and no node
        // answered a 5xx, nor did any request find no node at all.
        #expect(report.connectionFailures > 0)
        #expect(report.serverErrors == 0, "\(report.endpoints)")
        #expect(report.endpoints.allSatisfy { $0.transportErrors == 0 }, "\(report.endpoints)")

        // Every reservation answered 201 is in the store, and every paid order is paid.
        let stored = Set(try await postgres.query("SELECT id FROM reservations WHERE sale_id = '\(sale)'"))
        let lost = report.reservations.map(\.reservationID).filter { !stored.contains($0.lowercased()) }
        #expect(!report.reservations.isEmpty)
        #expect(lost.isEmpty, "201 reservations missing from the store: \(lost)")
        let orders = report.reservations.compactMap(\.paidOrder).filter { !$0.hasPrefix("reservation:") }
        #expect(!orders.isEmpty)
        for (index, order) in orders.enumerated() {
            let node = index.isMultiple(of: 2) ? first : third
            let reply = try await node.send(.GET, "/api/v1/orders/\(order)")
            #expect(reply.status == 200 && reply.json["status"] as? String == "paid", "order \(order): \(reply.text)")
        }

        // Shoppers carried on through the other nodes with passes the dead node had issued.
        let afterKill = report.reservations.filter { $0.reservedAt > killOffset + 1 }
        print(
            "killed \(killOffset) s after the opening; reservations by the node that issued the pass: "
                + "\(Dictionary(grouping: report.reservations, by: { $0.passNode ?? -1 }).mapValues(\.count)), after the kill: "
                + "\(Dictionary(grouping: afterKill, by: { $0.passNode ?? -1 }).mapValues(\.count))")
        #expect(afterKill.contains { $0.passNode == 1 }, "no reservation after the kill with a pass issued by the dead node")
        #expect(afterKill.contains { $0.passNode == 1 && $0.paidAt != nil }, "no payment after the kill by such a shopper")
        // Admitted after the kill (so by a node left) with a pass the dead node issued.
        #expect(report.reservations.contains { $0.passNode == 1 && ($0.admittedAt ?? 0) > killOffset + 1 })

        // The admission rate recovers: from 10 s after the kill, the sale admits its rate
        // (±25%) through the two nodes left while shoppers still wait.
        // Depends on the nodes sharing the rate through PostgreSQL (issue 12, heartbeats).
        let window = (Int(killOffset.rounded(.up)) + 10)..<(Int(killOffset.rounded(.up)) + 20)
        let perSecond = report.admissionsPerSecond
        #expect(perSecond.count > window.upperBound, "the line emptied before the window: \(perSecond)")
        let admitted = window.reduce(0) { $0 + ($1 < perSecond.count ? perSecond[$1] : 0) }
        let achieved = Double(admitted) / Double(window.count)
        print("admissions from \(window.lowerBound) s to \(window.upperBound) s after the opening: \(achieved)/s of \(rate)/s")
        #expect(abs(achieved - Double(rate)) <= 0.25 * Double(rate), "\(achieved)/s against \(rate)/s; per second: \(perSecond)")
        #expect(perSecond.dropFirst(window.upperBound).reduce(0, +) > 0, "nobody was still waiting after the window")
    }

    /// Two nodes, one PostgreSQL, a steady crowd; PostgreSQL is restarted with
    /// `-m fast` (kept away 3 s) in the middle of the sale.
    @Test(.timeLimit(.minutes(5))) func postgresRestartedMidSaleIsWaitedOutWithout500s() async throws {
        let postgres = try await PrivatePostgres.start()
        defer { postgres.stop() }
        let nodes = Locked<[ServerProcess]>([])
        defer { Self.halt(nodes.withLock { $0 }, test: #function) }
        let all = try await Self.startNodes(2, on: postgres, into: nodes)
        let (first, second) = (all[0], all[1])

        // The crowd's sale, and a one-unit sale whose unit is held across the outage, to
        // see the expiry sweeper give it back afterwards.
        let quantity = 400
        let startsAt = Date().addingTimeInterval(3)
        let sale = try await Self.createSale(on: first, [
            "quantity": quantity, "admission_rate_per_second": 20, "reservation_ttl_seconds": 5,
            "starts_at": Timestamp.format(startsAt), "ends_at": Timestamp.format(startsAt.addingTimeInterval(600)),
        ])
        let heldSale = try await Self.createSale(on: first, ["quantity": 1, "reservation_ttl_seconds": 5])

        // A steady stream of arrivals over the whole run rather than one spike.
        let config = Self.crowd(
            over: all, sale: sale, shoppers: 600, connections: 48,
            curve: ArrivalCurve(spikeShare: 0.3, spikeSeconds: 2, tailSeconds: 30), seconds: 25, seed: 21)

        let outage = Locked<(from: Date?, to: Date?)>((nil, nil))
        let probes = Locked<[ProbeAnswer]>([])
        let readiness = Locked<[Int: [(Date, Int)]]>([:])
        let held = Locked<String?>(nil)
        let restart = Task {
            try await Task.sleep(for: .seconds(max(startsAt.addingTimeInterval(6).timeIntervalSinceNow, 0)))
            // One unit held just before PostgreSQL goes: it expires while the store is
            // away or just after, and must come back once the sweeper can reach the store.
            let reply = try await Self.reserve(heldSale, on: first, key: "held")
            held.withLock { $0 = reply.reservationID }
            outage.withLock { $0.from = Date() }
            try await postgres.restart(awaySeconds: 3)
            outage.withLock { $0.to = Date() }
        }
        // Readiness of each node every 100 ms, and a reservation through each node every
        // 250 ms (its hold expires after 5 s), from just before the restart until 15 s after it.
        // The watchers stop by then whatever happens (the restart may fail).
        let giveUp = startsAt.addingTimeInterval(60)
        let watchers = Task {
            try await Task.sleep(for: .seconds(max(startsAt.addingTimeInterval(5).timeIntervalSinceNow, 0)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, node) in all.enumerated() {
                    group.addTask {
                        while outage.withLock({ $0.to.map { Date().timeIntervalSince($0) < 15 } ?? true }), Date() < giveUp {
                            let status = (try? await Self.exchange(node, .GET, "/readyz", timeout: .seconds(5)))?.status ?? 0
                            readiness.withLock { $0[index, default: []].append((Date(), status)) }
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                    group.addTask {
                        var count = 0
                        while outage.withLock({ $0.to.map { Date().timeIntervalSince($0) < 5 } ?? true }), Date() < giveUp {
                            count += 1
                            if let answer = try? await Self.reserve(sale, on: node, key: "probe-\(index)-\(count)") {
                                probes.withLock { $0.append(answer) }
                            }
                            try await Task.sleep(for: .milliseconds(250))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let report = try await CrowdRun(config).run()
        try await restart.value
        try await watchers.value
        print(report.text)
        let (from, to) = outage.withLock { ($0.from!, $0.to!) }
        print("PostgreSQL away from \(from.timeIntervalSince(startsAt)) s to \(to.timeIntervalSince(startsAt)) s after the opening")

        // /readyz: 503 while PostgreSQL was away, 200 again after, without a restart of the node.
        for (index, samples) in readiness.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            let during = samples.filter { $0.0 > from && $0.0 < to.addingTimeInterval(1) }
            #expect(during.contains { $0.1 == 503 }, "node \(index) never said 503: \(during.map(\.1))")
            let lastUnready = samples.lastIndex { $0.1 != 200 } ?? -1
            #expect(lastUnready < samples.count - 1, "node \(index) was not ready again within 15 s")
            if lastUnready >= 0 {
                #expect(samples[lastUnready].0.timeIntervalSince(to) < 15, "node \(index) ready only \(samples[lastUnready].0.timeIntervalSince(to)) s after")
            }
        }

        // Every answer during the outage was in the contract: 201, 409 sold out, or 503
        // unavailable with Retry-After; never a 500.
        let answers = probes.withLock { $0 }
        let unexpected = answers.filter { answer in
            !([201, 409].contains(answer.status) || (answer.status == 503 && answer.retryAfter == "1" && answer.error == "unavailable"))
        }
        #expect(unexpected.isEmpty, "\(unexpected)")
        // (A request that waits for the pool while PostgreSQL is away is answered when it is
        // back; one whose session the shutdown ends is answered 503.)
        print("reservations probed across the outage: \(Dictionary(grouping: answers, by: \.status).mapValues(\.count))")
        #expect(report.endpoints.reduce(0) { sum, e in sum + e.count { $0 >= 500 && $0 != 503 } } == 0, "\(report.endpoints)")
        #expect(report.checks.first { $0.name == "oversell" }?.passed == true, "\(report.checks)")

        // No 201 lost: the probes' and the crowd's reservations are all in the store.
        let stored = Set(try await postgres.query("SELECT id FROM reservations WHERE sale_id = '\(sale)'"))
        let answered = answers.compactMap(\.reservationID) + report.reservations.map(\.reservationID)
        #expect(answered.count > answers.compactMap(\.reservationID).count)
        let lost = answered.filter { !stored.contains($0.lowercased()) }
        #expect(lost.isEmpty, "201 reservations missing from the store: \(lost)")

        // The engine and the payments work again on both nodes, without a restart of either.
        // A batch caught by the outage may hold the sale's lane until its commit limit (30 s)
        // answers it 503; a 503 is asked again with the same key, as a client would.
        for (index, node) in all.enumerated() {
            var answer: ProbeAnswer?
            let deadline = Date().addingTimeInterval(45)
            while Date() < deadline {
                answer = try? await Self.reserve(sale, on: node, key: "after-\(index)", timeout: .seconds(40))
                if let status = answer?.status, status != 503 { break }
                try await Task.sleep(for: .seconds(1))
            }
            guard let reserved = answer, reserved.status != 503 else {
                Issue.record("node \(index) did not take a reservation within 45 s after the outage: \(answer.map(\.description) ?? "no answer")")
                continue
            }
            #expect(reserved.status == 201 || reserved.status == 409, "\(reserved)")
            guard let reservation = reserved.reservationID else { continue }
            let paid = try await node.send(
                .POST, "/api/v1/reservations/\(reservation)/payment", headers: [("Idempotency-Key", "after-pay-\(index)")],
                json: Self.paymentJSON(card: CardDetails.withCheckDigit("42" + String(format: "%013d", 9_000_000 + index)), shopper: index))
            #expect(paid.status == 201, "\(paid.text)")
        }
        // (The crowd may end before a batch caught by the outage reaches its commit limit,
        // so its own reservations after the outage are reported, not required.)
        print("crowd reservations after the outage: \(report.reservations.filter { $0.reservedAt > to.timeIntervalSince(startsAt) + 1 }.count)")

        // The sweeper resumed on both nodes: the held unit came back once its hold expired,
        // and every unit of the crowd's sale is sold or available again once the holds taken
        // across the outage have expired and its payments have settled (never undersold).
        #expect(held.withLock { $0 } != nil)
        for (id, units) in [(heldSale, 1), (sale, quantity)] {
            let stats = try await Self.settled(id, quantity: units, on: second, within: .seconds(30))
            if Self.isSettled(stats, quantity: units) { continue }
            Issue.record("sale \(id): units neither sold nor available: \(stats)")
            // What held them: the sessions PostgreSQL has, and the nodes' sweeps.
            let sessions = try? await postgres.query(
                "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 120) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND pid <> pg_backend_pid()")
            print("sessions:\n" + (sessions ?? []).joined(separator: "\n"))
            for (index, node) in all.enumerated() {
                let lines = node.log.split(separator: "\n").filter { $0.contains("expir") || $0.contains("abandoned") }
                print("node \(index) sweeps:\n" + lines.suffix(20).joined(separator: "\n"))
            }
        }
    }

    /// The sale's stats once nothing is reserved and every unit is sold or available, or as
    /// they stand when `within` has passed.
    static func settled(_ sale: String, quantity: Int, on node: ServerProcess, within: Duration) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + within
        var stats: [String: Any] = [:]
        repeat {
            stats = try await node.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: node.admin).json
            if isSettled(stats, quantity: quantity) { break }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline
        return stats
    }

    static func isSettled(_ stats: [String: Any], quantity: Int) -> Bool {
        guard let available = stats["available"] as? Int, let sold = stats["sold"] as? Int else { return false }
        return stats["reserved"] as? Int == 0 && available + sold == quantity
    }

    // MARK: Helpers

    /// Stops the nodes with SIGTERM, then SIGKILL for one still running 15 s later (a node
    /// that does not drain is a failure, not a hung suite), and keeps each node's output
    /// in /tmp/cluster-faults-<test>-node<i>.log.
    static func halt(_ nodes: [ServerProcess], test: String) {
        for (index, node) in nodes.enumerated() {
            if node.process.isRunning { node.process.terminate() }
            let deadline = Date().addingTimeInterval(15)
            while node.process.isRunning && Date() < deadline { usleep(100_000) }
            let drained = !node.process.isRunning
            if !drained { kill(node.process.processIdentifier, SIGKILL) }
            let name = test.prefix { $0 != "(" }
            let path = "/tmp/cluster-faults-\(name)-node\(index).log"
            try? node.log.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(drained, "node \(index) did not stop within 15 s of SIGTERM; its output: \(path)")
        }
    }

    /// A crowd over `nodes` playing `sale`, none of whom leaves the line, most of whom
    /// reserve quickly and pay; stopped `seconds` after the opening.
    static func crowd(
        over nodes: [ServerProcess], sale: String, shoppers: Int, connections: Int, curve: ArrivalCurve, seconds: Double, seed: UInt64
    ) -> CrowdConfig {
        var config = CrowdConfig(baseURLs: nodes.map(\.baseURL), adminToken: ServerProcess.adminToken, shoppers: shoppers)
        config.saleID = sale
        config.connections = connections
        config.curve = curve
        config.profile = CrowdProfile(
            abandonQueue: 0, abandonAdmitted: 0.15, payShare: 0.7, cancelShare: 0.5, declinedShare: 0.05, insufficientShare: 0,
            aggressiveShare: 0, thinkSeconds: 0...0.3)
        config.maxSeconds = seconds
        config.settleGraceSeconds = 3
        config.seed = seed
        return config
    }

    /// `count` nodes on `postgres`, each with the same secret and admin token, the shield's
    /// per-address limits lifted (the crowd is one address), and without `--node-count`.
    static func startNodes(_ count: Int, on postgres: PrivatePostgres, into nodes: Locked<[ServerProcess]>) async throws -> [ServerProcess] {
        // FLASHSALE_FAULT_LOG_LEVEL=debug keeps ServiceLifecycle's and postgres-nio's own
        // account in the nodes' output (in /tmp after the test).
        let logLevel = ProcessInfo.processInfo.environment["FLASHSALE_FAULT_LOG_LEVEL"].map { ["--log-level", $0] } ?? []
        for _ in 0..<count {
            let node = try await ServerProcess.start(database: postgres.url, extraArguments: logLevel)
            nodes.withLock { $0.append(node) }
        }
        return nodes.withLock { $0 }
    }

    /// One answer as the fault tests read it: status, `Retry-After`, the error code, the reservation.
    struct ProbeAnswer: Sendable, CustomStringConvertible {
        var status: Int
        var retryAfter: String?
        var error: String?
        var reservationID: String?
        var description: String { "\(status) \(error ?? "") retry-after \(retryAfter ?? "none")" }
    }

    static func exchange(
        _ node: ServerProcess, _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: String? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> ProbeAnswer {
        var request = HTTPClientRequest(url: node.baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json { request.body = .bytes(ByteBuffer(string: json)) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        return ProbeAnswer(
            status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"), error: object["error"] as? String,
            reservationID: response.status.code == 201 ? object["reservation_id"] as? String : nil)
    }

    /// A reservation of one unit with a pass admitted now, signed with the nodes' secret:
    /// these tests are about faults, not about waiting in line.
    static func reserve(_ sale: String, on node: ServerProcess, key: String, timeout: TimeAmount = .seconds(30)) async throws -> ProbeAnswer {
        let pass = PassSigner(secret: secret).sign(
            QueuePass(saleID: UUID(uuidString: sale)!, visitorID: .timeOrdered(), firstArrival: Date(), admittedAt: Date()))
        return try await exchange(
            node, .POST, "/api/v1/sales/\(sale)/reservations", headers: [("X-Queue-Pass", pass), ("Idempotency-Key", key)],
            json: #"{"email": "\#(key)@faults.example", "quantity": 1}"#, timeout: timeout)
    }

    static func createSale(on node: ServerProcess, _ fields: [String: Any]) async throws -> String {
        let created = try await node.send(.POST, "/api/v1/admin/sales", headers: node.admin, json: saleJSON(fields))
        #expect(created.status == 201, "\(created.text)")
        return try #require(created.json["id"] as? String)
    }

    static func paymentJSON(card: String, shopper: Int) -> String {
        """
        {"card": {"number": "\(card)", "exp_month": 12, "exp_year": 2030, "cvc": "123"}, \
        "shipping": {"name": "Fault \(shopper)", "line1": "\(shopper) Fault Lane", "city": "Springfield", \
        "postal_code": "12345", "country": "US"}}
        """
    }
}

// MARK: A PostgreSQL cluster of the test's own

/// A throwaway cluster made by `scripts/test-postgres.sh`, which the test may restart.
final class PrivatePostgres: Sendable {
    let directory: String
    let url: String

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/test-postgres.sh").path

    /// `initdb` and `pg_ctl` are where the script looks (the PATH, then Debian's
    /// /usr/lib/postgresql/*/bin), or CI runs: then the script installs them if it must,
    /// and a failure fails the suite rather than skipping it.
    static var available: Bool {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let debian = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map { "/usr/lib/postgresql/\($0)/bin" }
        return ["initdb", "pg_ctl"].allSatisfy { tool in
            (path + debian).contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
    }

    private init(directory: String, url: String) {
        self.directory = directory
        self.url = url
    }

    static func start() async throws -> PrivatePostgres {
        let directory = "/tmp/flashsale-faults-pg-\(UUID().uuidString.prefix(8))"
        // Readable by the `postgres` user the script runs the server as under root.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let output = try await runTool("/bin/bash", [script, "start", directory])
        guard let url = output.split(separator: "\n").map(String.init).last(where: { $0.hasPrefix("postgres://") }) else {
            throw ProcessError("test-postgres.sh start printed no URL: \(output)")
        }
        return PrivatePostgres(directory: directory, url: url)
    }

    /// `pg_ctl restart -m fast`, the server kept away `awaySeconds` before it starts again.
    func restart(awaySeconds: Int) async throws {
        _ = try await runTool("/bin/bash", [Self.script, "restart", directory, "\(awaySeconds)"])
    }

    /// Rows of `sql`, one line each (`psql -At`; its notices go to the log instead).
    func query(_ sql: String) async throws -> [String] {
        try await runTool("/usr/bin/env", ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-Atc", sql]).split(separator: "\n").map(String.init)
    }

    func stop() {
        let stop = Process()
        stop.executableURL = URL(fileURLWithPath: "/bin/bash")
        stop.arguments = [Self.script, "stop", directory]
        if (try? stop.run()) != nil { stop.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs a tool to its end on a thread of its own (not the cooperative pool, which the
/// crowd in this process needs) and returns what it printed; a failure throws. Spawned and
/// waited for with posix_spawn and waitpid, its output through a file: a server the tool
/// starts (`pg_ctl start`) may keep a pipe open for its whole life, and Foundation's
/// `waitUntilExit` did not return on a thread of its own.
func runTool(_ executable: String, _ arguments: [String]) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-tool-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
            guard spawned == 0 else {
                return continuation.resume(throwing: ProcessError("\(executable) could not start: errno \(spawned)"))
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let output = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            // Exited (not signalled) with status 0.
            guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
                return continuation.resume(
                    throwing: ProcessError("\(arguments.joined(separator: " ")) ended with wait status \(status): \(output)"))
            }
            continuation.resume(returning: output)
        }
    }
}
