import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import Testing

/// The stores the conformance suite runs against: SQLite always, PostgreSQL when
/// FLASHSALE_TEST_POSTGRES_URL names a server (then an unreachable server fails the suite).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteMemory, sqliteFile, postgres

    static var enabled: [StoreKind] {
        postgresURL == nil ? [.sqliteMemory, .sqliteFile] : [.sqliteMemory, .sqliteFile, .postgres]
    }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var testDescription: String { rawValue }
}

/// Opens a real, migrated store of `kind`, runs `body`, and closes it.
func withStore<T: Sendable>(_ kind: StoreKind, _ body: @Sendable (any Store) async throws -> T) async throws -> T {
    var logger = Logger(label: "store-tests")
    logger.logLevel = .error
    let store: any Store
    var folder: URL?
    switch kind {
    case .sqliteMemory:
        store = try SQLiteStore(path: nil)
    case .sqliteFile:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashsale-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        folder = dir
        store = try SQLiteStore(path: dir.appendingPathComponent("store.sqlite").path)
    case .postgres:
        guard case .postgres(let settings) = try DatabaseURL(parsing: try #require(StoreKind.postgresURL)) else {
            Issue.record("FLASHSALE_TEST_POSTGRES_URL is not a postgres:// URL")
            throw CancellationError()
        }
        store = PostgresStore(settings, maximumConnections: 10, logger: logger)
    }
    defer { if let folder { try? FileManager.default.removeItem(at: folder) } }
    return try await withStoreServices(store) {
        // A guard against an unreachable server (the pool would retry for about a minute),
        // not a claim about speed: many tests migrate at once on a loaded machine.
        try await withDeadline(.seconds(120), "the \(kind) store did not answer within 120 s") { try await store.migrate() }
        return try await body(store)
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let description: String
}

func withDeadline(_ limit: Duration, _ message: String, _ work: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await work()
            return true
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return false
        }
        defer { group.cancelAll() }
        guard try await group.next() == true else { throw DeadlineExceeded(description: message) }
    }
}

/// A live sale: started a second ago, open for an hour.
func makeSale(
    _ store: any Store, quantity: Int = 10, limit: Int = 1, ttl: Int = 600, startsIn: TimeInterval = -1,
    sku: String = "SKU-\(UUID().uuidString.prefix(8))"
) async throws -> Sale {
    let now = Date()
    return try await store.createSale(
        NewSale(
            sku: sku, name: "Test sneaker", priceCents: 12_900, quantity: quantity, startsAt: now.addingTimeInterval(startsIn),
            endsAt: now.addingTimeInterval(3_600), perCustomerLimit: limit, reservationTTLSeconds: ttl,
            admissionRatePerSecond: 50),
        id: UUID(), now: now)
}

/// One attempt from a distinct shopper unless told otherwise.
func attempt(
    _ sale: Sale, email: String = "shopper-\(UUID().uuidString.prefix(8))@example.com", pass: UUID = UUID(),
    quantity: Int = 1, key: String = UUID().uuidString, body: String = "{}", ttl: TimeInterval = 600
) -> ReservationAttempt {
    ReservationAttempt(
        saleID: sale.id, passID: pass, email: email, customerKey: CustomerKey.email(email) ?? email, quantity: quantity,
        amountCents: quantity * sale.priceCents, perCustomerLimit: sale.perCustomerLimit,
        expiresAt: Date().addingTimeInterval(ttl),
        idempotency: IdempotencyClaim(scope: "test:\(pass.lowercased)", key: key, body: Data(body.utf8)))
}

/// Invariant 1, read from the store.
func checkInvariant(_ store: any Store, _ saleID: UUID, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let sale = try #require(try await store.sale(id: saleID), sourceLocation: sourceLocation)
    let inventory = sale.inventory
    #expect(inventory.total == sale.quantity, "\(inventory)", sourceLocation: sourceLocation)
    #expect(inventory.available >= 0 && inventory.reserved >= 0 && inventory.sold >= 0, "\(inventory)", sourceLocation: sourceLocation)
}

extension ReservationOutcome {
    var isReserved: Bool {
        if case .reserved = self { return true }
        return false
    }

    var rejection: String? {
        if case .rejected(let error) = self { return error.code }
        return nil
    }
}
