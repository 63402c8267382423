import FlashSaleCore
import Foundation
import GRDB
import ServiceLifecycle

/// The embedded default: SQLite through GRDB, in WAL mode with `synchronous = FULL`, so a
/// committed reservation survives a crash of the process or the machine. Concurrent writes
/// share transactions (`GroupCommit`), so the durable commits do not queue one per write.
public struct SQLiteStore: Store {
    /// Reads and migrations; every write goes through `commits`.
    let writer: any DatabaseWriter
    let commits: GroupCommit
    public var kind: String { "sqlite" }
    public var services: [any Service] { [] }

    /// A file database (created when missing) or, with nil, a private in-memory one.
    public init(path: String?) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // The database's work is checkout's (polls never touch it): it goes ahead of the
        // waiting room's backlog, as checkout's tasks do.
        configuration.qos = .userInitiated
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 64 MiB of page cache: a sale's hot indexes stay in memory.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        if let path {
            writer = try DatabasePool(path: path, configuration: configuration)
        } else {
            writer = try DatabaseQueue(configuration: configuration)
        }
        commits = GroupCommit(writer: writer)
    }

    public func migrate() async throws {
        let migrator = SQLiteSchema.migrator
        let writer = self.writer
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            migrator.asyncMigrate(writer) { result in continuation.resume(with: result.map { _ in }) }
        }
    }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Sales

    public func createSale(_ new: NewSale, id: UUID, now: Date) async throws -> Sale {
        try await commits.write { db in
            try Self.refuseOverlap(db, sku: new.sku, startsAt: new.startsAt, endsAt: new.endsAt, excluding: nil)
            try db.execute(
                sql: """
                    INSERT INTO sales (id, sku, name, price_cents, currency, quantity, starts_at, ends_at,
                        per_customer_limit, reservation_ttl_seconds, admission_rate_per_second, paused, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
                    """,
                arguments: [
                    id.lowercased, new.sku, new.name, new.priceCents, new.currency, new.quantity, new.startsAt.ms,
                    new.endsAt.ms, new.perCustomerLimit, new.reservationTTLSeconds, new.admissionRatePerSecond,
                    now.ms, now.ms,
                ])
            try db.execute(
                sql: "INSERT INTO inventory (sale_id, quantity, available, reserved, sold) VALUES (?, ?, ?, 0, 0)",
                arguments: [id.lowercased, new.quantity, new.quantity])
            guard let sale = try Self.fetchSale(db, id: id) else { throw StoreError.saleNotFound(id) }
            return sale
        }
    }

    /// 409 `duplicate_sku` when another sale of `sku` (not `excluding`) overlaps the window:
    /// on create, and when a patch moves a window.
    static func refuseOverlap(_ db: Database, sku: String, startsAt: Date, endsAt: Date, excluding: UUID?) throws {
        let overlapping = try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM sales WHERE sku = ? AND id IS NOT ? AND starts_at < ? AND ends_at > ?)",
            arguments: [sku, excluding?.lowercased, endsAt.ms, startsAt.ms]) ?? false
        if overlapping { throw APIError.duplicateSKU }
    }

    public func updateSale(id: UUID, patch: SalePatch, now: Date) async throws -> Sale? {
        try await commits.write { db in
            guard let sale = try Self.fetchSale(db, id: id) else { return nil }
            try patch.validate(against: sale, now: now)
            if patch.startsAt != nil || patch.endsAt != nil {
                try Self.refuseOverlap(
                    db, sku: sale.sku, startsAt: patch.startsAt ?? sale.startsAt, endsAt: patch.endsAt ?? sale.endsAt, excluding: id)
            }
            try db.execute(
                sql: """
                    UPDATE sales SET paused = COALESCE(?, paused), starts_at = COALESCE(?, starts_at),
                        ends_at = COALESCE(?, ends_at), admission_rate_per_second = COALESCE(?, admission_rate_per_second),
                        updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [patch.paused, patch.startsAt?.ms, patch.endsAt?.ms, patch.admissionRatePerSecond, now.ms, id.lowercased])
            return try Self.fetchSale(db, id: id)
        }
    }

    public func sale(id: UUID) async throws -> Sale? {
        try await writer.read { db in try Self.fetchSale(db, id: id) }
    }

    public func allSales() async throws -> [Sale] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: Self.saleSelect + " ORDER BY s.starts_at DESC, s.id").map(Self.sale(from:))
        }
    }

    static let saleSelect = """
        SELECT s.id, s.sku, s.name, s.price_cents, s.currency, s.quantity, s.starts_at, s.ends_at,
            s.per_customer_limit, s.reservation_ttl_seconds, s.admission_rate_per_second, s.paused, s.created_at,
            i.available, i.reserved, i.sold
        FROM sales s JOIN inventory i ON i.sale_id = s.id
        """

    static func fetchSale(_ db: Database, id: UUID) throws -> Sale? {
        try Row.fetchOne(db, sql: saleSelect + " WHERE s.id = ?", arguments: [id.lowercased]).map(sale(from:))
    }

    static func sale(from row: Row) throws -> Sale {
        guard let id = UUID(uuidString: row["id"]) else { throw StoreError.corruptRow("sale id \(row["id"] ?? "nil")") }
        return Sale(
            id: id, sku: row["sku"], name: row["name"], priceCents: row["price_cents"], currency: row["currency"],
            quantity: row["quantity"], startsAt: Date(ms: row["starts_at"]), endsAt: Date(ms: row["ends_at"]),
            perCustomerLimit: row["per_customer_limit"], reservationTTLSeconds: row["reservation_ttl_seconds"],
            admissionRatePerSecond: row["admission_rate_per_second"], paused: row["paused"],
            createdAt: Date(ms: row["created_at"]),
            inventory: Inventory(available: row["available"], reserved: row["reserved"], sold: row["sold"]))
    }

    static func inventory(_ db: Database, saleID: UUID) throws -> Inventory? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT available, reserved, sold FROM inventory WHERE sale_id = ?"),
            arguments: [saleID.lowercased]
        ).map { Inventory(available: $0["available"], reserved: $0["reserved"], sold: $0["sold"]) }
    }
}

extension Date {
    /// Milliseconds since 1970, the SQLite column format for instants.
    var ms: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(ms: Int64) { self.init(timeIntervalSince1970: Double(ms) / 1000) }
}
