import FlashSaleCore
import Foundation
import ServiceLifecycle

/// Sales and their inventory counts.
public protocol SaleStore: Sendable {
    /// Creates a sale with all units available. Throws `APIError.duplicateSKU` when a sale of
    /// the same sku overlaps the window.
    func createSale(_ new: NewSale, id: UUID, now: Date) async throws -> Sale
    /// Applies a patch; nil when no sale has that id. Throws a 422 when the patch is invalid.
    func updateSale(id: UUID, patch: SalePatch, now: Date) async throws -> Sale?
    func sale(id: UUID) async throws -> Sale?
    /// Every sale, with its counts, newest start first.
    func allSales() async throws -> [Sale]
}

/// Reservations: the units that leave `available` for a while.
public protocol ReservationStore: Sendable {
    /// Commits a batch of attempts on one sale in one transaction: the stock guard, the held
    /// reservations and their idempotency records, decided by `ReservationPlanner`.
    func commitReservations(_ attempts: [ReservationAttempt], saleID: UUID, now: Date) async throws -> BatchResult
    /// The naive design, kept as the benchmark's baseline: one transaction per attempt that
    /// queues on the sale's row lock.
    func reserveUnbatched(_ attempt: ReservationAttempt, now: Date) async throws -> BatchResult
    /// Returns a held reservation's units to the sale at once.
    func cancelReservation(id: UUID, now: Date) async throws -> CancelResult
    func reservation(id: UUID) async throws -> ReservationRecord?
    /// Expires held reservations whose `expires_at` has passed, returning their units.
    /// Answers the units returned per sale.
    func releaseExpired(now: Date, limit: Int) async throws -> [UUID: Int]
}

/// Stored responses of idempotent requests.
public protocol IdempotencyStore: Sendable {
    func storedResponse(scope: String, key: String) async throws -> ReservationPlanner.StoredKey?
    /// Forgets keys recorded before `cutoff`; answers how many.
    func purgeIdempotencyKeys(before cutoff: Date) async throws -> Int
}

/// The operator's block and allow lists, shared by every node of a deployment.
public protocol AccessListStore: Sendable {
    /// Adds a rule, or replaces the reason and expiry of the rule for the same network on the
    /// same list (it keeps the instant it was first made). Returns the rule as stored.
    func putAccessRule(_ rule: AccessRule) async throws -> AccessRule
    /// Removes the rule for `cidr` from `list`; false when there was none.
    func removeAccessRule(list: AccessRule.List, cidr: CIDR) async throws -> Bool
    /// Every rule on both lists that is still active at `now`.
    func accessRules(now: Date) async throws -> [AccessRule]
    /// A number that moves on every change to the lists: nodes poll it (one row) and re-read
    /// the lists only when it moved.
    func accessListVersion() async throws -> Int64
}

/// The record of the operator's actions. Append-only: nothing is ever changed or purged.
public protocol AuditStore: Sendable {
    /// Stores `entry` (its `id` is ignored) and returns it with the id the store gave it;
    /// ids increase in the order entries are appended.
    func appendAudit(_ entry: AuditEntry) async throws -> AuditEntry
    /// At most `limit` entries, newest (highest id) first; only `saleID`'s when given, and
    /// only those older than the entry with id `before` when given (the next page).
    func auditEntries(limit: Int, saleID: UUID?, before: Int64?) async throws -> [AuditEntry]
}

/// Everything the shop keeps, on one database.
public protocol Store: SaleStore, ReservationStore, IdempotencyStore, PaymentStore, AccessListStore, AuditStore {
    /// "sqlite" or "postgres".
    var kind: String { get }
    /// Applies pending migrations; safe to call from several nodes at once.
    func migrate() async throws
    /// Throws unless the database answers.
    func ping() async throws
    /// Calls `changed` each time any node changes what `feed` covers, until the task is
    /// cancelled (PostgreSQL: LISTEN on the feed's channel, notified in the changing
    /// transaction). Returns at once where the database has no notifications (SQLite):
    /// re-reading is then the only way, and always the fallback.
    func listen(to feed: ChangeFeed, _ changed: @escaping @Sendable () async -> Void) async throws
    /// The nodes sharing this database, where it can hold several (PostgreSQL); nil for SQLite.
    var cluster: (any ClusterStore)? { get }
    /// Services the store needs running (the PostgreSQL connection pool).
    var services: [any Service] { get }
}

extension ReservationStore {
    public func reserveUnbatched(_ attempt: ReservationAttempt, now: Date) async throws -> BatchResult {
        try await commitReservations([attempt], saleID: attempt.saleID, now: now)
    }
}

public struct BatchResult: Sendable {
    public var outcomes: [ReservationOutcome]
    /// The sale's available units after the commit: what the engine decides the next
    /// batch on. (Reserved and sold are read with the sale; the PostgreSQL store does not
    /// keep sold on the row a batch locks.)
    public var available: Int

    public init(outcomes: [ReservationOutcome], available: Int) {
        self.outcomes = outcomes
        self.available = available
    }
}

public enum CancelResult: Sendable, Equatable {
    /// The units went back; the sale and how many.
    case released(saleID: UUID, units: Int)
    /// Already cancelled or expired: nothing to do, the delete is idempotent.
    case alreadyReleased
    /// Paid reservations are orders now and cannot be cancelled here.
    case paid
    case notFound
}

public enum StoreError: Error, CustomStringConvertible {
    case saleNotFound(UUID)
    case invalidDatabaseURL(String)
    case corruptRow(String)
    case inventoryGuardFailed(UUID)
    /// A commit gave no answer within its time limit: the database is away or a connection
    /// hangs (`InventoryEngine.commitLimit`). Whether it committed is not known.
    case commitTimedOut(UUID)
    /// A payment's settlement found it changed under it on every attempt (PostgreSQL's
    /// optimistic settlement). Answered 503 like an unavailable store: a retry with the
    /// same key settles it, and so does the reconciler.
    case settlementContended(UUID)

    public var description: String {
        switch self {
        case .commitTimedOut(let id): "the reservations of sale \(id.lowercased) had no answer from the database in time"
        case .settlementContended(let id): "payment \(id.lowercased) kept changing while it was being settled"
        case .saleNotFound(let id): "no sale \(id.lowercased)"
        case .invalidDatabaseURL(let text): text
        case .corruptRow(let text): "unexpected row: \(text)"
        case .inventoryGuardFailed(let id): "the stock guard of sale \(id.lowercased) refused a planned batch"
        }
    }
}
