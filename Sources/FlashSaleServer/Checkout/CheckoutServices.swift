import FlashSaleCore
import FlashSalePayments
import FlashSaleStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Logging
import ServiceLifecycle
import Tracing

/// Resolves payment attempts that a timeout or a crash left `pending` or `unknown`, by
/// asking the provider for the charge made with the attempt's key. Nothing waits for the
/// shopper to retry.
struct PaymentReconciler: Service {
    let checkout: CheckoutService
    let interval: Duration
    /// How long an attempt is left alone first: longer than a provider call can take, so
    /// a charge still on its way is not mistaken for none.
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval, limit: .seconds(60), logger: logger, failure: "reconciliation failed; retrying") {
            try await reconcileOnce(now: Date())
        }
    }

    func reconcileOnce(now: Date) async throws {
        let cutoff = now.addingTimeInterval(-grace.seconds)
        for payment in try await checkout.store.unresolvedPayments(updatedBefore: cutoff, limit: 100) {
            let charge = try await checkout.provider.charge(idempotencyKey: payment.providerKey)
            let settled = try await checkout.settle(payment, charge.map { .charged(chargeID: $0.id) } ?? .notCharged)
            logger.notice(
                "reconciled payment",
                metadata: ["payment": "\(payment.id.lowercased)", "from": "\(payment.status.rawValue)", "to": "\(settled.status.rawValue)"])
        }
    }
}

/// Delivers the outbox at least once: confirmation emails into the mail drop, refunds to
/// the provider. Failures retry with exponential backoff; a worker that dies mid-delivery
/// loses only its lease.
struct OutboxWorker: Service {
    let store: any Store
    /// The sale named in a confirmation email comes from the node's cache: read from the
    /// store, it was one more statement per email, with the sale's sold units summed each
    /// time (3,409 reads, 1.2 ms each in PostgreSQL, in one 100,000-shopper run; issue 15).
    let catalog: SaleCatalog
    let provider: any PaymentProvider
    let mailDrop: MailDrop
    let metrics: ShopMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval, limit: .seconds(60), logger: logger, failure: "outbox pass failed; retrying") {
            try await deliverDue(now: Date())
        }
    }

    func deliverDue(now: Date) async throws {
        for message in try await store.claimOutbox(now: now, lease: 30, limit: 32) {
            do {
                // A trace of its own per delivery: the payment's request ended long before.
                try await withSpanWhenTracing("outbox.deliver", ofKind: .consumer) { span in
                    span.attributes["flashsale.outbox.kind"] = message.kind.rawValue
                    try await deliver(message)
                }
                try await store.completeOutbox(id: message.id, now: Date())
                metrics.outbox(kind: message.kind.rawValue, outcome: "delivered")
            } catch {
                let next = Date().addingTimeInterval(OutboxMessage.backoff(afterAttempts: message.attempts))
                try await store.retryOutbox(id: message.id, error: "\(error)", at: next)
                metrics.outbox(kind: message.kind.rawValue, outcome: "retry")
                logger.warning(
                    "outbox delivery failed; will retry",
                    metadata: ["message": "\(message.id.lowercased)", "kind": "\(message.kind.rawValue)", "error": "\(error)"])
            }
        }
    }

    private func deliver(_ message: OutboxMessage) async throws {
        guard let payment = try await store.payment(id: message.paymentID) else {
            throw StoreError.corruptRow("outbox message for missing payment \(message.paymentID.lowercased)")
        }
        switch message.kind {
        case .confirmationEmail:
            let sale = try await catalog.sale(payment.saleID)
            let email = ConfirmationEmail(
                orderID: payment.id, to: payment.email, saleName: sale?.name ?? "your order", quantity: payment.quantity,
                amountCents: payment.amountCents, currency: payment.currency, paidAt: payment.updatedAt)
            try mailDrop.write(email)
        case .refund:
            guard let chargeID = payment.chargeID else { throw StoreError.corruptRow("refund without a charge") }
            do {
                _ = try await provider.refund(chargeID: chargeID, idempotencyKey: "flashsale-refund-\(payment.id.lowercased)")
            } catch PaymentProviderError.rejected(_, let message) where message.hasPrefix("already_refunded") {
                // Refunded before (by an earlier delivery under another key): done all the same.
            }
            try await store.markRefunded(paymentID: payment.id, now: Date())
            logger.notice("charge refunded", metadata: ["payment": "\(payment.id.lowercased)", "charge": "\(chargeID)"])
        }
    }
}

/// A directory that receives one RFC 5322 file per message, named by the order: written
/// to a temporary name and renamed, so readers never see half a message and a
/// redelivery replaces the file instead of adding a second one.
struct MailDrop: Sendable {
    let directory: URL

    func write(_ email: ConfirmationEmail) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let final = directory.appendingPathComponent("order-\(email.orderID.lowercased).eml")
        let temporary = directory.appendingPathComponent(".order-\(email.orderID.lowercased).\(UUID().uuidString).tmp")
        try Data(email.message.utf8).write(to: temporary)
        guard rename(temporary.path, final.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: final.path])
        }
    }
}

/// Shuts the payment provider's HTTP client down once the app has stopped (an
/// `HTTPClient` must be shut down before it is released).
struct HTTPClientShutdown: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
