import FlashSaleCore
import Foundation

extension APIError {
    public static let chargeNotFound = APIError(status: 404, code: "charge_not_found", message: "No charge has that id.")
    public static let alreadyRefunded = APIError(
        status: 409, code: "already_refunded", message: "This charge was already refunded (with another Idempotency-Key).")
    public static let providerUnavailable = APIError(
        status: 503, code: "unavailable", message: "The payment provider is unavailable; nothing was charged. Retry shortly.")
}

/// The simulator's books in memory: charges, declines and refunds, indexed by key and id.
/// Records go in through `apply` both when they are made and when the file is read back,
/// so a restarted provider knows exactly what the one before it answered.
struct ProviderBook {
    private(set) var charges: [ProviderCharge] = []
    private(set) var refunds: [ProviderRefund] = []
    private var chargeByKey: [String: Int] = [:]
    private var chargeByID: [String: Int] = [:]
    private var fingerprintByKey: [String: String] = [:]
    private var declineByKey: [String: String] = [:]
    private var refundByKey: [String: Int] = [:]

    mutating func apply(_ record: LedgerRecord) {
        if let charge = record.charge {
            chargeByKey[charge.idempotencyKey] = charges.count
            chargeByID[charge.id] = charges.count
            fingerprintByKey[charge.idempotencyKey] = record.fingerprint
            charges.append(charge)
        }
        if let decline = record.decline {
            declineByKey[decline.idempotencyKey] = decline.reason
            fingerprintByKey[decline.idempotencyKey] = decline.fingerprint
        }
        if let refund = record.refund {
            refundByKey[refund.idempotencyKey] = refunds.count
            refunds.append(refund)
            if let index = chargeByID[refund.chargeID] { charges[index].refunded = true }
        }
    }

    /// The answer already given for `key`, nil when the key is new; the same key with a
    /// different request is refused.
    func priorOutcome(key: String, fingerprint: String) throws(APIError) -> ChargeOutcome? {
        guard let known = fingerprintByKey[key] else { return nil }
        guard known == fingerprint else { throw .idempotencyKeyReused }
        if let index = chargeByKey[key] { return .succeeded(chargeID: charges[index].id) }
        if let reason = declineByKey[key] { return .declined(reason: reason) }
        return nil
    }

    func charge(key: String) -> ProviderCharge? { chargeByKey[key].map { charges[$0] } }

    /// The refund already made for `key`, or nil when a new refund of `chargeID` may be made.
    func priorRefund(key: String, chargeID: String) throws(APIError) -> ProviderRefund? {
        if let index = refundByKey[key] {
            guard refunds[index].chargeID == chargeID else { throw .idempotencyKeyReused }
            return refunds[index]
        }
        guard let index = chargeByID[chargeID] else { throw .chargeNotFound }
        if charges[index].refunded { throw .alreadyRefunded }
        return nil
    }

    func charge(id: String) -> ProviderCharge? { chargeByID[id].map { charges[$0] } }

    var ledger: ProviderLedger { ProviderLedger(charges: charges, refunds: refunds) }
}
