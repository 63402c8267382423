import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// What an operator monitors with: `/metrics` after real traffic, checked by promtool; the
/// Prometheus config, alert rules and their unit tests of `deploy/`; the Grafana dashboard,
/// whose every metric the server exports; and the bound on per-sale series. `.ci/run`
/// installs promtool; under CI a missing promtool fails the suite instead of skipping it.
@Suite(.enabled(if: Promtool.available, "promtool is not installed"))
struct MonitoringTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")

    @Test func metricsAfterRealTrafficPassPromtoolAndHoldEveryFamilyTheDashboardAndAlertsUse() async throws {
        try await withLiveApp { client in
            // Joins, a reservation, a declined card, a payment that sells the last unit.
            let (sale, reservation) = try await client.reservation(quantity: 1)
            #expect(try await client.pay(reservation, card: PaymentApiTests.declined).status.code == 402)
            #expect(try await client.pay(reservation, card: PaymentApiTests.good, key: "pay-2").status == .created)
            // A refusal of the shield.
            let block = try await client.send(.post, "/api/v1/admin/blocklist", headers: adminAuth, json: #"{"cidr": "192.0.2.66/32"}"#)
            #expect(block.status == .created, "\(block.text)")
            let blocked = try await client.send(.get, "/api/v1/sales/\(sale)", headers: [HTTPField.Name("X-Forwarded-For")!: "192.0.2.66"])
            #expect(blocked.status == .forbidden)
            // The confirmation email leaves the outbox; the catalog refresh sees the sale sold.
            let text = try await eventually {
                let text = try await client.send(.get, "/metrics").text
                let sold = text.contains(#"flashsale_inventory_units{sale="\#(sale)",state="sold"} 1"#)
                return sold && text.contains("flashsale_outbox_deliveries_total") ? text : nil
            }
            let check = try await Promtool.run(["check", "metrics"], input: text)
            #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics: \(check.output)")

            let exported = Monitoring.families(in: text)
            for family in Monitoring.standardProcessFamilies { #expect(exported.contains(family), "\(family) is missing") }
            let used = try Monitoring.dashboardMetrics(Self.deploy.appendingPathComponent("grafana/flashsale-dashboard.json"))
                .union(Monitoring.metricNames(in: String(contentsOf: Self.deploy.appendingPathComponent("prometheus/alerts.yml"), encoding: .utf8)))
            #expect(used.count > 20, "\(used)")
            for name in used.sorted() {
                #expect(exported.contains(Monitoring.family(of: name, in: exported)), "\(name) is used by deploy/ but not exported")
            }
        }
    }

    @Test func thePrometheusConfigAndAlertRulesCheckAndEachAlertFiresOnlyOnTrouble() async throws {
        let prometheus = Self.deploy.appendingPathComponent("prometheus")
        for arguments in [
            ["check", "config", prometheus.appendingPathComponent("prometheus.yml").path],
            ["check", "rules", prometheus.appendingPathComponent("alerts.yml").path],
            ["test", "rules", prometheus.appendingPathComponent("alerts_test.yml").path],
        ] {
            let result = try await Promtool.run(arguments)
            #expect(result.status == 0, "promtool \(arguments.joined(separator: " ")): \(result.output)")
        }
    }

    /// A shop that has run many sales exports the series of the live and recently ended
    /// ones only: ended sales' series leave `/metrics` at the next catalog refresh.
    @Test func endedSalesLeaveMetricsAndTheSeriesStayBounded() async throws {
        let store = try SQLiteStore(path: nil)
        try await store.migrate()
        let longAgo = Date().addingTimeInterval(-3 * 3600)
        for index in 0..<200 {
            let start = longAgo.addingTimeInterval(Double(index))
            _ = try await store.createSale(
                NewSale(sku: "OLD-\(index)", name: "Old", priceCents: 100, quantity: 5, startsAt: start, endsAt: start.addingTimeInterval(60)),
                id: UUID(), now: start)
        }
        var config = ServerConfig.testing
        config.catalogRefreshInterval = .milliseconds(50)
        let app = try await buildApplication(config, store: store)
        try await app.test(.router) { client in
            let live = try await client.createSale()
            let text = try await eventually {
                let text = try await client.send(.get, "/metrics").text
                return text.contains(#"sale="\#(live)""#) && text.contains("flashsale_tracked_sales 1") ? text : nil
            }
            let sales = Set(text.matches(of: /sale="([0-9a-f-]+)"/).map { String($0.1) })
            #expect(sales == [live], "only the live sale has series: \(sales.count) sales exported")
        }
    }

    @Test func seriesPerSaleStayBoundedOverThousandsOfSales() async throws {
        // A synchronous loop of 1,000 sales: on a thread of its own, off the cooperative pool.
        let counts: [Int] = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Monitoring.runSales(1_000)) }.start()
        }
        // One sale opens a minute and lasts 10: the 26 that opened in the last 25 minutes are
        // live or ended within 15, each with 11 series here (its state, 3 of stock, 7 counters).
        #expect(counts.count == 21 && counts.max() == 26 * 11 && counts.last == 26 * 11, "\(counts)")
    }
}

/// Builds the app on an in-memory SQLite store behind a real socket (the shield sees
/// `X-Forwarded-For` from loopback, a trusted proxy here).
func withLiveApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    var config = ServerConfig.testing
    config.trustedProxies = [CIDR("127.0.0.0/8")!]
    config.outboxInterval = .milliseconds(50)
    config.catalogRefreshInterval = .milliseconds(100)
    let app = try await buildApplication(config, store: try SQLiteStore(path: nil))
    try await app.test(.live) { client in try await body(client) }
}

enum Monitoring {
    static let standardProcessFamilies = [
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds",
    ]

    /// The metric families of an exposition text, from its `# TYPE` lines.
    static func families(in text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line in
            line.hasPrefix("# TYPE ") ? line.split(separator: " ").dropFirst(2).first.map(String.init) : nil
        })
    }

    /// `name`'s family: a histogram's `_bucket`, `_sum` and `_count` series belong to it.
    static func family(of name: String, in families: Set<String>) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if families.contains(base) { return base }
        }
        return name
    }

    /// The shop's and the process's metric names a PromQL text mentions.
    static func metricNames(in text: String) -> Set<String> {
        Set(text.matches(of: /\b(?:flashsale|process)_[a-z0-9_]+/).map { String($0.0) })
    }

    /// The metric names of every panel query of a Grafana dashboard.
    static func dashboardMetrics(_ url: URL) throws -> Set<String> {
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let queries = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(queries.count > 20)
        return queries.reduce(into: Set<String>()) { $0.formUnion(metricNames(in: $1)) }
    }

    /// Opens a sale each minute for `count` minutes, each on sale for 10 minutes with some
    /// traffic, retiring as the catalog refresh does; answers the per-sale series every 50.
    static func runSales(_ count: Int) -> [Int] {
        let metrics = ShopMetrics()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var sales: [Sale] = []
        var counts: [Int] = []
        for minute in 0..<count {
            let now = start.addingTimeInterval(Double(minute) * 60)
            let sale = Sale(
                id: UUID(), sku: "SKU-\(minute)", name: "Sale", priceCents: 100, currency: "USD", quantity: 10, startsAt: now,
                endsAt: now.addingTimeInterval(600), perCustomerLimit: 1, reservationTTLSeconds: 600, admissionRatePerSecond: 5,
                paused: false, createdAt: now, inventory: Inventory(available: 10, reserved: 0, sold: 0))
            sales.append(sale)
            metrics.retireSales(sales, now: now)
            // The live sales' traffic, and a late event of a sale retired long ago (dropped).
            for live in sales.suffix(10) + (minute >= 30 ? [sales[minute - 30]] : []) {
                metrics.sale(live, now: now)
                metrics.queue(saleID: live.id, status: "admitted")
                metrics.reservation(saleID: live.id, outcome: "created")
                metrics.payment(saleID: live.id, outcome: "paid")
            }
            if minute % 50 == 0 || minute == count - 1 {
                counts.append(String(decoding: metrics.text(), as: UTF8.self).split(separator: "\n").filter { $0.contains("sale=\"") }.count)
            }
        }
        return counts
    }
}

/// promtool of the `prometheus` package, run off the cooperative pool (it is a process
/// the test waits for, with its output in a file).
enum Promtool {
    static let path = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/promtool" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Under CI the tests run (and fail) even without promtool: they must not skip there.
    static var available: Bool { path != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    static func run(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        let path = try #require(path, "promtool is not installed (Debian: apt-get install prometheus)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("promtool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputFile = scratch.appendingPathComponent("input")
        let outputFile = scratch.appendingPathComponent("output")
        try Data((input ?? "").utf8).write(to: inputFile)
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let inputHandle = try FileHandle(forReadingFrom: inputFile)
        defer { try? inputHandle.close() }
        process.standardInput = inputHandle
        let output = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = output
        process.standardError = output
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        // `check metrics` prints nothing when the text is clean; the others report SUCCESS.
        return (status, try String(contentsOf: outputFile, encoding: .utf8))
    }
}
