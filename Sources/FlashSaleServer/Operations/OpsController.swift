import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.
struct OpsController: Sendable {
    let store: any Store
    let readiness: Readiness
    let metrics: ShopMetrics
    let backlog: BacklogReader

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in JSONResponse.make(status: .ok, body: Data("{\"status\":\"ok\"}".utf8)) }
        router.get("readyz", use: ready)
        router.get("openapi.json") { _, _ in JSONResponse.make(status: .ok, body: Self.openAPI) }
        router.get("metrics") { _, _ in
            await backlog.refresh(metrics)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.text())))
        }
    }

    /// Ready once migrations are applied and while the database answers.
    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard readiness.migrated else { return Self.unready("migrations are not applied yet") }
        do {
            try await readiness.check(store)
        } catch {
            return Self.unready("the database does not answer")
        }
        return JSONResponse.make(status: .ok, body: Data("{\"status\":\"ready\",\"database\":\"\(store.kind)\"}".utf8))
    }

    /// docs/openapi.json as the repository holds it (with its final newline).
    static let openAPI = Data((OpenAPIDocument.json + "\n").utf8)

    static func unready(_ reason: String) -> Response {
        JSONResponse.make(
            status: .serviceUnavailable,
            body: Data("{\"error\":\"not_ready\",\"message\":\"Not ready: \(reason).\"}".utf8))
    }
}

/// Reads the store's backlogs for `/metrics` at each scrape (two counts on indexed rows).
/// A store that does not answer within a second leaves the last figures in place.
struct BacklogReader: Sendable {
    let store: any Store
    /// The reconciler's grace: a `pending` attempt older than this awaits it.
    let grace: Duration

    func refresh(_ metrics: ShopMetrics) async {
        let now = Date()
        let cutoff = now.addingTimeInterval(-grace.seconds)
        guard let backlog = try? await withTimeout(.seconds(1), { try await store.backlog(unresolvedBefore: cutoff) }) else { return }
        metrics.backlog(backlog, now: now)
    }
}

/// Whether the store is migrated, and a database check remembered for one second so that
/// probes cannot load the database. A check waits at most `timeout`: while PostgreSQL is
/// away the pool holds a query until it can connect again, and a probe must hear "not
/// ready" within about two seconds of the database going (the remembered second, then
/// the timeout), not when it comes back.
final class Readiness: Sendable {
    static let timeout = Duration.seconds(1)

    private struct State {
        var migrated = false
        var lastGood: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    var migrated: Bool { state.withLock { $0.migrated } }
    func markMigrated() { state.withLock { $0.migrated = true } }

    /// Returns once `markMigrated` was called; throws `CancellationError` when the task is
    /// cancelled first. Polls every 50 ms: it waits once, at start-up.
    func waitUntilMigrated() async throws {
        while !migrated { try await Task.sleep(for: .milliseconds(50)) }
    }

    func check(_ store: any Store) async throws {
        let now = ContinuousClock.now
        if let last = state.withLock({ $0.lastGood }), now - last < .seconds(1) { return }
        try await withTimeout(Self.timeout) { try await store.ping() }
        state.withLock { $0.lastGood = now }
    }
}
