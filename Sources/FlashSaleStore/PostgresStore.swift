import FlashSaleCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// PostgreSQL through postgres-nio: the store for deployments of several nodes. The SQL
/// guards are the source of truth; every node's in-memory gate defers to them.
public struct PostgresStore: Store {
    /// Shoppers' requests (checkout's reads and writes) and the operator's.
    let client: PostgresClient
    /// The inventory engine's reservation batches alone: one batch per sale at a time, so
    /// a few connections, which a crowd paying cannot take from it.
    let engineClient: PostgresClient
    /// Background work (outbox, expiry sweep, reconciler, heartbeat, catalog and access
    /// list refreshes, change feeds), which must not take connections from shoppers.
    let backgroundClient: PostgresClient
    let logger: Logger
    public var kind: String { "postgres" }
    public var services: [any Service] { [client, engineClient, backgroundClient].map(PostgresClientService.init) }

    /// Connections per pool (`client`, `engineClient`, `backgroundClient`), at most 30
    /// per node. During a 100,000-shopper drop on one pool of 20, checkout's leases waited
    /// 150 ms at p50 behind the outbox's and each other's, each statement on a leased
    /// connection taking about 7 ms; with a pool of its own the engine's batches took 40 ms
    /// at p50 (issue 15). Three nodes fit PostgreSQL's default max_connections of 100
    /// (deploy/MULTI-NODE.md).
    public static let poolSizes = (shoppers: 20, engine: 4, background: 6)

    /// - Parameter maximumConnections: the shoppers' pool (tests that share a database
    ///   keep it small); the engine's and background pools keep their sizes.
    public init(_ settings: DatabaseURL.Postgres, maximumConnections: Int = poolSizes.shoppers, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        // The hot path's statements are prepared once per connection, and a plan made
        // while a fresh database's tables are empty (a sequential scan is cheapest then)
        // would stay for the connection's life while the sale's rows grow. Every query of
        // the shop is an index probe by design, so the planner is told to prefer them.
        // JIT is off: a sequential scan that stays (the cluster's tables of a few rows) is
        // costed at 10^10 with seqscan off, far above `jit_above_cost`, and PostgreSQL then
        // compiled the heartbeat with LLVM on every call, 120 ms of a core at idle and
        // 220 ms under a crowd: 37 s of the cores in one 100,000-shopper run (issue 15).
        // JIT pays for long analytic scans, never for a shop's point queries.
        configuration.options.additionalStartupParameters = [("enable_seqscan", "off"), ("jit", "off")]
        // Each pool names its connections (pg_stat_activity's application_name), so an
        // operator sees which of a node's pools holds or waits on what.
        func pool(_ name: String, _ connections: Int) -> PostgresClient {
            var pool = configuration
            pool.options.maximumConnections = connections
            pool.options.additionalStartupParameters.append(("application_name", "flashsale-\(name)"))
            return PostgresClient(configuration: pool, backgroundLogger: logger)
        }
        client = pool("shoppers", maximumConnections)
        engineClient = pool("engine", Self.poolSizes.engine)
        backgroundClient = pool("background", Self.poolSizes.background)
        self.logger = logger
    }

    /// A transaction whose failures surface as the error the closure threw (postgres-nio
    /// wraps them), so domain errors such as `APIError.duplicateSKU` reach the caller intact.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { conn in try await body(conn) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    public func migrate() async throws {
        try await PostgresSchema.migrate(client: client, logger: logger)
    }

    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger).drain()
    }

    // MARK: Sales

    public func createSale(_ new: NewSale, id: UUID, now: Date) async throws -> Sale {
        try await transaction { conn in
            try await Self.refuseOverlap(conn, sku: new.sku, startsAt: new.startsAt, endsAt: new.endsAt, excluding: nil, logger: logger)
            try await conn.query(
                """
                INSERT INTO sales (id, sku, name, price_cents, currency, quantity, starts_at, ends_at,
                    per_customer_limit, reservation_ttl_seconds, admission_rate_per_second, paused, created_at, updated_at)
                VALUES (\(id), \(new.sku), \(new.name), \(new.priceCents), \(new.currency), \(new.quantity),
                    \(new.startsAt), \(new.endsAt), \(new.perCustomerLimit), \(new.reservationTTLSeconds),
                    \(new.admissionRatePerSecond), false, \(now), \(now))
                """, logger: logger
            ).drain()
            try await conn.query(
                "INSERT INTO inventory (sale_id, quantity, available, taken) VALUES (\(id), \(new.quantity), \(new.quantity), 0)",
                logger: logger
            ).drain()
            try await Self.notifySaleChanged(conn, id: id, logger: logger)
            guard let sale = try await Self.fetchSale(conn, id: id, logger: logger) else { throw StoreError.saleNotFound(id) }
            return sale
        }
    }

    /// 409 `duplicate_sku` when another sale of `sku` (not `excluding`) overlaps the window:
    /// on create, and when a patch moves a window. Takes the sku's advisory lock first, so
    /// creations and moves of one sku on different nodes take turns and the check holds.
    static func refuseOverlap(
        _ conn: PostgresConnection, sku: String, startsAt: Date, endsAt: Date, excluding: UUID?, logger: Logger
    ) async throws {
        try await conn.query("SELECT pg_advisory_xact_lock(hashtextextended(\(sku), 7))", logger: logger).drain()
        let overlapping = try await conn.query(
            """
            SELECT 1 FROM sales WHERE sku = \(sku) AND id IS DISTINCT FROM \(excluding)
                AND starts_at < \(endsAt) AND ends_at > \(startsAt)
            """, logger: logger
        ).collect()
        if !overlapping.isEmpty { throw APIError.duplicateSKU }
    }

    public func updateSale(id: UUID, patch: SalePatch, now: Date) async throws -> Sale? {
        try await transaction { conn in
            guard let sale = try await Self.fetchSale(conn, id: id, logger: logger, lock: true) else { return nil }
            try patch.validate(against: sale, now: now)
            if patch.startsAt != nil || patch.endsAt != nil {
                try await Self.refuseOverlap(
                    conn, sku: sale.sku, startsAt: patch.startsAt ?? sale.startsAt, endsAt: patch.endsAt ?? sale.endsAt,
                    excluding: id, logger: logger)
            }
            try await conn.query(
                """
                UPDATE sales SET paused = COALESCE(\(patch.paused), paused), starts_at = COALESCE(\(patch.startsAt), starts_at),
                    ends_at = COALESCE(\(patch.endsAt), ends_at),
                    admission_rate_per_second = COALESCE(\(patch.admissionRatePerSecond), admission_rate_per_second),
                    updated_at = \(now)
                WHERE id = \(id)
                """, logger: logger
            ).drain()
            try await Self.notifySaleChanged(conn, id: id, logger: logger)
            return try await Self.fetchSale(conn, id: id, logger: logger)
        }
    }

    /// Tells every listening node (`ChangeFeed.sales`) when the transaction commits: their
    /// catalogs re-read the sales at once instead of at their next refresh.
    static func notifySaleChanged(_ conn: PostgresConnection, id: UUID, logger: Logger) async throws {
        try await conn.query("SELECT pg_notify(\(ChangeFeed.sales.rawValue), \(id.lowercased))", logger: logger).drain()
    }

    public func sale(id: UUID) async throws -> Sale? {
        try await client.withConnection { conn in try await Self.fetchSale(conn, id: id, logger: logger) }
    }

    public func allSales() async throws -> [Sale] {
        let rows = try await backgroundClient.query(
            "\(unescaped: Self.saleSelect) ORDER BY s.starts_at DESC, s.id", logger: logger)
        var sales: [Sale] = []
        for try await row in rows { sales.append(try Self.sale(from: row)) }
        return sales
    }

    /// A sale with its stock. The inventory row holds available and taken units; sold is
    /// the sum of the sale's paid reservations and reserved the rest of taken, all read in
    /// one statement's snapshot, so the three always add up to the quantity.
    static let saleSelect = """
        SELECT s.id, s.sku, s.name, s.price_cents, s.currency, s.quantity, s.starts_at, s.ends_at,
            s.per_customer_limit, s.reservation_ttl_seconds, s.admission_rate_per_second, s.paused, s.created_at,
            i.available, i.taken - p.sold AS reserved, p.sold
        FROM sales s JOIN inventory i ON i.sale_id = s.id
        CROSS JOIN LATERAL (
            SELECT COALESCE(SUM(r.quantity), 0)::int AS sold FROM reservations r WHERE r.sale_id = s.id AND r.status = 'paid'
        ) p
        """

    static func fetchSale(_ conn: PostgresConnection, id: UUID, logger: Logger, lock: Bool = false) async throws -> Sale? {
        let rows = try await conn.query(
            "\(unescaped: saleSelect) WHERE s.id = \(id)\(unescaped: lock ? " FOR UPDATE OF s" : "")", logger: logger)
        for try await row in rows { return try sale(from: row) }
        return nil
    }

    static func sale(from row: PostgresRow) throws -> Sale {
        let r = row.makeRandomAccess()
        return Sale(
            id: try r["id"].decode(UUID.self), sku: try r["sku"].decode(String.self), name: try r["name"].decode(String.self),
            priceCents: try r["price_cents"].decode(Int.self), currency: try r["currency"].decode(String.self),
            quantity: try r["quantity"].decode(Int.self), startsAt: try r["starts_at"].decode(Date.self),
            endsAt: try r["ends_at"].decode(Date.self), perCustomerLimit: try r["per_customer_limit"].decode(Int.self),
            reservationTTLSeconds: try r["reservation_ttl_seconds"].decode(Int.self),
            admissionRatePerSecond: try r["admission_rate_per_second"].decode(Int.self),
            paused: try r["paused"].decode(Bool.self), createdAt: try r["created_at"].decode(Date.self),
            inventory: Inventory(
                available: try r["available"].decode(Int.self), reserved: try r["reserved"].decode(Int.self),
                sold: try r["sold"].decode(Int.self)))
    }
}

/// Runs the connection pool inside the application's service group.
struct PostgresClientService: Service {
    init(_ client: PostgresClient) { self.client = client }
    let client: PostgresClient
    func run() async throws {
        await client.run()
    }
}

extension PostgresRowSequence {
    /// Reads and discards every row, so the connection is free for the next query.
    func drain() async throws {
        for try await _ in self {}
    }
}
