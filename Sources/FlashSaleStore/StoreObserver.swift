import FlashSaleCore
import Foundation
import ServiceLifecycle
import Synchronization

/// What the store and the inventory engine tell whoever watches them (the server's
/// metrics), so that this target needs no metrics library.
public protocol StoreObserver: Sendable {
    /// A write transaction finished, as its caller waited for it (on SQLite, the wait for
    /// the group commit included).
    func transaction(_ operation: StoreOperation, duration: Duration, failed: Bool)
    /// The inventory engine committed one batch of `attempts` reservations.
    func batchCommitted(attempts: Int, duration: Duration, failed: Bool)
    /// The inventory engine answered a batch: each attempt's wait from its arrival at the
    /// engine to its answer (the batch before it, then its own commit), in arrival order.
    func reservationsAnswered(waits: [Duration])
    /// SQLite committed one group of `writes` in one transaction (`GroupCommit`).
    func groupCommitted(writes: Int, duration: Duration)
}

/// The store's write transactions, as `StoreObserver` names them (a fixed set, so they
/// can label a metric).
public enum StoreOperation: String, Sendable, CaseIterable {
    case commitReservations = "commit_reservations"
    case cancelReservation = "cancel_reservation"
    case releaseExpired = "release_expired"
    case beginPayment = "begin_payment"
    case settlePayment = "settle_payment"
    case markRefunded = "mark_refunded"
    case cancelOrder = "cancel_order"
    case claimOutbox = "claim_outbox"
    case completeOutbox = "complete_outbox"
    case retryOutbox = "retry_outbox"
}

/// A store that times its write transactions for an observer and answers everything else
/// by passing it on. Wrapping keeps the timing out of both implementations.
public struct ObservedStore: Store {
    public let base: any Store
    let observer: any StoreObserver

    public init(_ base: any Store, observer: any StoreObserver) {
        self.base = base
        self.observer = observer
        (base as? SQLiteStore)?.commits.observer.withLock { $0 = observer }
    }

    private func timed<T: Sendable>(_ operation: StoreOperation, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            observer.transaction(operation, duration: ContinuousClock.now - start, failed: false)
            return result
        } catch {
            observer.transaction(operation, duration: ContinuousClock.now - start, failed: true)
            throw error
        }
    }

    public var kind: String { base.kind }
    public var services: [any Service] { base.services }
    public func migrate() async throws { try await base.migrate() }
    public func ping() async throws { try await base.ping() }

    // MARK: Sales, access lists and the audit (the operator's rare writes are not timed)

    public func createSale(_ new: NewSale, id: UUID, now: Date) async throws -> Sale { try await base.createSale(new, id: id, now: now) }
    public func updateSale(id: UUID, patch: SalePatch, now: Date) async throws -> Sale? {
        try await base.updateSale(id: id, patch: patch, now: now)
    }
    public func sale(id: UUID) async throws -> Sale? { try await base.sale(id: id) }
    public func allSales() async throws -> [Sale] { try await base.allSales() }
    public func putAccessRule(_ rule: AccessRule) async throws -> AccessRule { try await base.putAccessRule(rule) }
    public func removeAccessRule(list: AccessRule.List, cidr: CIDR) async throws -> Bool {
        try await base.removeAccessRule(list: list, cidr: cidr)
    }
    public func accessRules(now: Date) async throws -> [AccessRule] { try await base.accessRules(now: now) }
    public func accessListVersion() async throws -> Int64 { try await base.accessListVersion() }
    public func listen(to feed: ChangeFeed, _ changed: @escaping @Sendable () async -> Void) async throws {
        try await base.listen(to: feed, changed)
    }
    public var cluster: (any ClusterStore)? { base.cluster }

    public func appendAudit(_ entry: AuditEntry) async throws -> AuditEntry { try await base.appendAudit(entry) }
    public func auditEntries(limit: Int, saleID: UUID?, before: Int64?) async throws -> [AuditEntry] {
        try await base.auditEntries(limit: limit, saleID: saleID, before: before)
    }

    // MARK: Reservations and idempotency

    public func commitReservations(_ attempts: [ReservationAttempt], saleID: UUID, now: Date) async throws -> BatchResult {
        try await timed(.commitReservations) { try await base.commitReservations(attempts, saleID: saleID, now: now) }
    }
    public func reserveUnbatched(_ attempt: ReservationAttempt, now: Date) async throws -> BatchResult {
        try await timed(.commitReservations) { try await base.reserveUnbatched(attempt, now: now) }
    }
    public func cancelReservation(id: UUID, now: Date) async throws -> CancelResult {
        try await timed(.cancelReservation) { try await base.cancelReservation(id: id, now: now) }
    }
    public func reservation(id: UUID) async throws -> ReservationRecord? { try await base.reservation(id: id) }
    public func releaseExpired(now: Date, limit: Int) async throws -> [UUID: Int] {
        try await timed(.releaseExpired) { try await base.releaseExpired(now: now, limit: limit) }
    }
    public func storedResponse(scope: String, key: String) async throws -> ReservationPlanner.StoredKey? {
        try await base.storedResponse(scope: scope, key: key)
    }
    public func purgeIdempotencyKeys(before cutoff: Date) async throws -> Int { try await base.purgeIdempotencyKeys(before: cutoff) }

    // MARK: Payments and the outbox

    public func payment(id: UUID) async throws -> PaymentRecord? { try await base.payment(id: id) }
    public func payment(scope: String, key: String) async throws -> PaymentRecord? { try await base.payment(scope: scope, key: key) }
    public func beginPayment(_ payment: PaymentRecord, perCustomerLimit: Int, now: Date) async throws -> BeginPayment {
        try await timed(.beginPayment) { try await base.beginPayment(payment, perCustomerLimit: perCustomerLimit, now: now) }
    }
    public func settlePayment(id: UUID, result: ChargeResult, now: Date, hint: SettlementHint?) async throws -> PaymentRecord? {
        try await timed(.settlePayment) { try await base.settlePayment(id: id, result: result, now: now, hint: hint) }
    }
    public func markRefunded(paymentID: UUID, now: Date) async throws {
        try await timed(.markRefunded) { try await base.markRefunded(paymentID: paymentID, now: now) }
    }
    public func unresolvedPayments(updatedBefore cutoff: Date, limit: Int) async throws -> [PaymentRecord] {
        try await base.unresolvedPayments(updatedBefore: cutoff, limit: limit)
    }
    public func paymentCounts(saleID: UUID) async throws -> PaymentCounts { try await base.paymentCounts(saleID: saleID) }
    public func orders(flagged: Bool, saleID: UUID?, limit: Int) async throws -> [PaymentRecord] {
        try await base.orders(flagged: flagged, saleID: saleID, limit: limit)
    }
    public func cancelOrder(id: UUID, now: Date) async throws -> CancelOrderResult {
        try await timed(.cancelOrder) { try await base.cancelOrder(id: id, now: now) }
    }
    public func claimOutbox(now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxMessage] {
        try await timed(.claimOutbox) { try await base.claimOutbox(now: now, lease: lease, limit: limit) }
    }
    public func completeOutbox(id: UUID, now: Date) async throws {
        try await timed(.completeOutbox) { try await base.completeOutbox(id: id, now: now) }
    }
    public func retryOutbox(id: UUID, error: String, at: Date) async throws {
        try await timed(.retryOutbox) { try await base.retryOutbox(id: id, error: error, at: at) }
    }
    public func backlog(unresolvedBefore cutoff: Date) async throws -> Backlog {
        try await base.backlog(unresolvedBefore: cutoff)
    }
}
