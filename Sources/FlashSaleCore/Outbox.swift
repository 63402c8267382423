import Foundation

/// A side effect waiting to leave: written in the same transaction as the state change
/// that causes it, delivered at least once by the outbox worker. Consumers tolerate
/// duplicates (the mail drop names files by message id, refunds carry an idempotency key).
public struct OutboxMessage: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The order confirmation, to the shopper.
        case confirmationEmail = "email"
        /// Give a charge back: the reservation could not take it.
        case refund
    }

    public var id: UUID
    public var kind: Kind
    public var paymentID: UUID
    /// Deliveries tried so far, this claim included.
    public var attempts: Int
    public var createdAt: Date

    public init(id: UUID, kind: Kind, paymentID: UUID, attempts: Int, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.paymentID = paymentID
        self.attempts = attempts
        self.createdAt = createdAt
    }

    /// Exponential backoff from 1 s, capped at 5 minutes.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(300, pow(2, Double(max(0, attempts - 1))))
    }
}
