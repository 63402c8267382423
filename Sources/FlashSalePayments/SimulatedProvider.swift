import FlashSaleCore
import Foundation

/// A payment provider that keeps its books in this process: the shop can use it directly,
/// and `flashsale psp` serves it over HTTP. Card rules are `CardRules`; faults are `Faults`.
///
/// With a `ledgerPath` every charge, decline and refund is appended to that file and
/// fsynced before it is answered, and the file is read back at start; without one the
/// books live in memory only.
public actor SimulatedProvider: PaymentProvider {
    /// What one charge attempt came to, before a fault withholds its answer.
    public enum Attempt: Sendable, Equatable {
        /// Answer this outcome.
        case answered(ChargeOutcome)
        /// Fail (503) without charging.
        case failedBeforeCharging
        /// The charge is made (or replayed) with this outcome, but its answer is never sent.
        case unanswered(ChargeOutcome)
    }

    public nonisolated let faults: Faults
    /// How long the in-process `charge` waits before reporting a withheld answer as a timeout.
    public nonisolated let inProcessTimeout: Duration
    private var book: ProviderBook
    private var dice: FaultDice
    private let file: LedgerFile?
    private let encoder = JSONCoding.encoder()

    /// - Parameters:
    ///   - ledgerPath: the durable ledger file (created when absent); nil keeps it in memory.
    ///   - inProcessTimeout: the in-process stand-in for a client's request timeout.
    public init(ledgerPath: String? = nil, faults: Faults = .none, inProcessTimeout: Duration = .milliseconds(50)) throws {
        self.faults = faults
        self.inProcessTimeout = inProcessTimeout
        dice = FaultDice(faults)
        var book = ProviderBook()
        if let ledgerPath {
            let (file, records) = try LedgerFile.open(path: ledgerPath)
            self.file = file
            for record in records { book.apply(record) }
        } else {
            file = nil
        }
        self.book = book
    }

    // MARK: The provider's side (what the HTTP routes call)

    /// Validates, rolls the fault dice, sleeps the latency, then charges (or replays).
    public func attemptCharge(_ request: ChargeRequest, idempotencyKey: String) async throws(APIError) -> Attempt {
        try Self.validate(request, idempotencyKey: idempotencyKey)
        let fault = dice.roll()
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if fault == .fail { return .failedBeforeCharging }
        let outcome = try process(request, idempotencyKey: idempotencyKey)
        return fault == .timeout ? .unanswered(outcome) : .answered(outcome)
    }

    /// Refunds the whole charge, or replays the refund made with `idempotencyKey`.
    public func attemptRefund(chargeID: String, idempotencyKey: String) throws(APIError) -> ProviderRefund {
        guard IdempotencyKey.isValid(idempotencyKey) else { throw .idempotencyKeyRequired }
        if let prior = try book.priorRefund(key: idempotencyKey, chargeID: chargeID) { return prior }
        let charge = book.charge(id: chargeID)!  // priorRefund threw chargeNotFound otherwise
        let refund = ProviderRefund(
            id: Self.newID("re"), chargeID: chargeID, idempotencyKey: idempotencyKey, amountCents: charge.amountCents,
            createdAt: Self.now())
        try persist(.refund(refund))
        return refund
    }

    // MARK: PaymentProvider (in-process)

    public func charge(_ request: ChargeRequest, idempotencyKey: String) async throws -> ChargeOutcome {
        let attempt: Attempt
        do throws(APIError) {
            attempt = try await attemptCharge(request, idempotencyKey: idempotencyKey)
        } catch {
            throw error.asProviderError
        }
        switch attempt {
        case .answered(let outcome):
            return outcome
        case .failedBeforeCharging:
            throw PaymentProviderError.unknownOutcome("unavailable: the provider failed before charging")
        case .unanswered:
            try? await Task.sleep(for: inProcessTimeout)
            throw PaymentProviderError.unknownOutcome("timeout")
        }
    }

    public func charge(idempotencyKey: String) -> ProviderCharge? { book.charge(key: idempotencyKey) }

    public func refund(chargeID: String, idempotencyKey: String) throws -> ProviderRefund {
        do throws(APIError) {
            return try attemptRefund(chargeID: chargeID, idempotencyKey: idempotencyKey)
        } catch {
            throw error.asProviderError
        }
    }

    public func ledger() -> ProviderLedger { book.ledger }

    // MARK: Bookkeeping

    /// Everything from the key check to the record on disk happens without a suspension, so
    /// two attempts with one key cannot both charge.
    private func process(_ request: ChargeRequest, idempotencyKey key: String) throws(APIError) -> ChargeOutcome {
        let fingerprint = self.fingerprint(of: request)
        if let prior = try book.priorOutcome(key: key, fingerprint: fingerprint) { return prior }
        let now = Self.now()
        if let reason = CardRules.declineReason(for: request.card, now: now) {
            try persist(.decline(StoredDecline(idempotencyKey: key, reason: reason, fingerprint: fingerprint, createdAt: now)))
            return .declined(reason: reason)
        }
        let charge = ProviderCharge(
            id: Self.newID("ch"), idempotencyKey: key, amountCents: request.amountCents, currency: request.currency,
            reference: request.reference, cardLast4: CardRules.last4(request.card.number), createdAt: now, refunded: false)
        try persist(.charge(charge, fingerprint: fingerprint))
        return .succeeded(chargeID: charge.id)
    }

    private func persist(_ record: LedgerRecord) throws(APIError) {
        do {
            try file?.append(record)
        } catch {
            throw APIError(status: 500, code: "ledger_unwritable", message: "The ledger could not be written: \(error)")
        }
        book.apply(record)
    }

    /// Equal requests give equal fingerprints whatever the JSON spacing or key order they came in.
    private func fingerprint(of request: ChargeRequest) -> String {
        let canonical = (try? encoder.encode(request)) ?? Data()
        return IdempotencyClaim(scope: "charge", key: "", body: canonical).fingerprint
    }

    static func validate(_ request: ChargeRequest, idempotencyKey: String) throws(APIError) {
        guard IdempotencyKey.isValid(idempotencyKey) else { throw .idempotencyKeyRequired }
        guard request.amountCents > 0 else { throw .validation("amount_cents must be a positive whole number of cents") }
        guard request.currency.utf8.count == 3, request.currency.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
            throw .validation("currency must be a three-letter ISO 4217 code in capitals, such as USD")
        }
        guard (1...255).contains(request.reference.utf8.count) else {
            throw .validation("reference must be 1 to 255 bytes")
        }
    }

    /// Whole milliseconds, the precision of the ledger's timestamps, so a record read back
    /// from the file equals the one answered.
    static func now() -> Date { Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000) }

    static func newID(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.lowercased().filter { $0 != "-" }.prefix(24)
    }
}

extension APIError {
    /// How the in-process provider reports a refusal: 5xx may have happened, 4xx did not.
    var asProviderError: PaymentProviderError {
        status >= 500 ? .unknownOutcome("\(code): \(message)") : .rejected(status: status, message: "\(code): \(message)")
    }
}
