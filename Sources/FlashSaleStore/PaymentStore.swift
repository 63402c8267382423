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
    func settlePayment(id: UUID, result: ChargeResult, now: Date) async throws -> PaymentRecord?
    /// `refunding` → `refunded`, once the provider confirmed the refund.
    func markRefunded(paymentID: UUID, now: Date) async throws
    /// Attempts still `pending` or `unknown`, last touched before `cutoff`, oldest first.
    func unresolvedPayments(updatedBefore cutoff: Date, limit: Int) async throws -> [PaymentRecord]
    func paymentCounts(saleID: UUID) async throws -> PaymentCounts

    /// Claims due messages for `lease` (another worker skips them meanwhile; a crashed
    /// worker's claim lapses).
    func claimOutbox(now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxMessage]
    func completeOutbox(id: UUID, now: Date) async throws
    func retryOutbox(id: UUID, error: String, at: Date) async throws
}

public enum BeginPayment: Sendable, Equatable {
    case started(PaymentRecord)
    /// An attempt already exists under this key (a retry, or a race with one).
    case existing(PaymentRecord)
    case refused(APIError)
}
