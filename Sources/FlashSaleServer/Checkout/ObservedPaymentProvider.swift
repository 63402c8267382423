import FlashSalePayments
import Foundation

/// Times every call to the payment provider and counts its outcome, whichever provider
/// the app was given (wrapped where the app is wired, so no provider knows of metrics).
struct ObservedPaymentProvider: PaymentProvider {
    let base: any PaymentProvider
    let metrics: ShopMetrics

    func charge(_ request: ChargeRequest, idempotencyKey: String) async throws -> ChargeOutcome {
        try await observe("charge") {
            let outcome = try await base.charge(request, idempotencyKey: idempotencyKey)
            switch outcome {
            case .succeeded: return (outcome, "succeeded")
            case .declined: return (outcome, "declined")
            }
        }
    }

    func charge(idempotencyKey: String) async throws -> ProviderCharge? {
        try await observe("lookup") {
            let charge = try await base.charge(idempotencyKey: idempotencyKey)
            return (charge, charge == nil ? "not_found" : "found")
        }
    }

    func refund(chargeID: String, idempotencyKey: String) async throws -> ProviderRefund {
        try await observe("refund") { (try await base.refund(chargeID: chargeID, idempotencyKey: idempotencyKey), "succeeded") }
    }

    func ledger() async throws -> ProviderLedger { try await base.ledger() }

    private func observe<T: Sendable>(_ operation: String, _ call: () async throws -> (T, String)) async throws -> T {
        let start = ContinuousClock.now
        do {
            let (value, outcome) = try await call()
            metrics.provider(operation: operation, outcome: outcome, duration: ContinuousClock.now - start)
            return value
        } catch {
            metrics.provider(operation: operation, outcome: Self.outcome(of: error), duration: ContinuousClock.now - start)
            throw error
        }
    }

    /// The error's kind, from a fixed set.
    static func outcome(of error: any Error) -> String {
        switch error as? PaymentProviderError {
        case .unknownOutcome: "unknown"
        case .notSent: "not_sent"
        case .unreachable: "unreachable"
        case .rejected: "rejected"
        case nil: "error"
        }
    }
}
