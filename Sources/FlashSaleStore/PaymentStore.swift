import FlashSaleCore
import Foundation

/// Payment attempts (which are also the orders) and the outbox of their side effects.
public protocol PaymentStore: Sendable {
    func payment(id: UUID) async throws -> PaymentRecord?
    /// The attempt recorded under a shopper's idempotency key.
    func payment(scope: String, key: String) async throws -> PaymentRecord?
    /// Stores `payment` as `pending` unless `PaymentPlanner.refusal` refuses it; one
    /// transaction, serialised per sale so per-customer limits hold under concurrency.
    /// Answers an existing attempt under the same key instead of a new one.
    func beginPayment(_ payment: PaymentRecord, perCustomerLimit: Int, now: Date) async throws -> BeginPayment
    /// Records the provider's answer and all it implies in one transaction: the order
    /// (reservation paid, units sold, confirmation email queued) or the refund queued, and
    /// the response the shopper's key replays. Settled attempts are returned unchanged,
    /// except that a charge found for an attempt believed uncharged is refunded.
    /// `hint`, when given, is what the caller saw of the attempt; a store may decide on it
    /// first and fall back to reading when its guards find the rows changed.
    func settlePayment(id: UUID, result: ChargeResult, now: Date, hint: SettlementHint?) async throws -> PaymentRecord?
    /// `refunding` → `refunded`, once the provider confirmed the refund.
    func markRefunded(paymentID: UUID, now: Date) async throws
    /// Attempts still `pending` or `unknown`, last touched before `cutoff`, oldest first.
    func unresolvedPayments(updatedBefore cutoff: Date, limit: Int) async throws -> [PaymentRecord]
    func paymentCounts(saleID: UUID) async throws -> PaymentCounts
    /// The operator's review: attempts in `PaymentRecord.orderStatuses`, newest first
    /// (`createdAt`, then id), at most `limit`. `flagged` keeps only those with at least
    /// one flag (a partial index holds just those); `saleID` keeps one sale's.
    func orders(flagged: Bool, saleID: UUID?, limit: Int) async throws -> [PaymentRecord]
    /// The operator cancels an order, in one transaction: a `paid` attempt becomes
    /// `refunding` with a refund queued in the outbox (the worker then refunds it and marks
    /// it `refunded`), and its reservation is `cancelled`, so its units go from sold back
    /// to available and no longer count against the customer's limit.
    func cancelOrder(id: UUID, now: Date) async throws -> CancelOrderResult

    /// Claims due messages for `lease` (another worker skips them meanwhile; a crashed
    /// worker's claim lapses).
    func claimOutbox(now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxMessage]
    func completeOutbox(id: UUID, now: Date) async throws
    func retryOutbox(id: UUID, error: String, at: Date) async throws
    /// The outbox's undelivered messages and the attempts awaiting reconciliation
    /// (`unknown`, or `pending` and untouched since `cutoff`), for the operator's gauges.
    func backlog(unresolvedBefore cutoff: Date) async throws -> Backlog
}

extension PaymentStore {
    public func settlePayment(id: UUID, result: ChargeResult, now: Date) async throws -> PaymentRecord? {
        try await settlePayment(id: id, result: result, now: now, hint: nil)
    }
}

/// What checkout saw of an attempt it is settling: the attempt as `beginPayment` stored it
/// and the reservation it was begun on. The PostgreSQL store decides a sale on them
/// without reading first (one round trip instead of two, issue 15); its statement's guards
/// (the attempt's status unchanged, the reservation still held) stand in for the read.
public struct SettlementHint: Sendable {
    public var payment: PaymentRecord
    public var reservation: ReservationRecord

    public init(payment: PaymentRecord, reservation: ReservationRecord) {
        self.payment = payment
        self.reservation = reservation
    }
}

public enum BeginPayment: Sendable, Equatable {
    case started(PaymentRecord)
    /// An attempt already exists under this key (a retry, or a race with one).
    case existing(PaymentRecord)
    case refused(APIError)
}

public enum CancelOrderResult: Sendable, Equatable {
    /// The order is `refunding`; `units` went back to `saleID`'s available stock.
    case cancelled(saleID: UUID, units: Int, payment: PaymentRecord)
    /// Cancelled before (`refunding` or `refunded`): nothing changed, no second refund.
    case alreadyCancelled(PaymentRecord)
    /// Not a paid order (`pending`, `unknown`, `declined`, `failed`): nothing changed.
    case notCancellable(PaymentRecord)
    case notFound
}

extension PaymentRecord {
    /// `'pending', 'unknown', …`: `orderStatuses` as an SQL list, the same in both stores.
    static let orderStatusList = orderStatuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")
}
