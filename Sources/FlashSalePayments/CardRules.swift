import FlashSaleCore
import Foundation

/// How the simulator judges a card. The named test cards behave as API.md says; any other
/// well-formed card succeeds. A malformed card (not Luhn-valid, expired, a bad cvc) is a
/// decline with reason `invalid_card` rather than a 4xx, as card networks answer it: the
/// shopper can fix it, and the decline is stored and replayed like any other.
public enum CardRules {
    public static let succeeds = "4242424242424242"
    public static let declined = "4000000000000002"
    public static let insufficientFunds = "4000000000009995"

    /// The decline reason for `card` at `now`, or nil when the charge may go through. The
    /// format rules are the shop's own (`CardDetails`): one definition of a valid card.
    public static func declineReason(for card: PaymentCard, now: Date = Date()) -> String? {
        guard CardDetails.isWellFormedNumber(card.number), CardDetails.luhnValid(card.number),
            CardDetails.isValidCVC(card.cvc), !CardDetails.isExpired(month: card.expMonth, year: card.expYear, now: now)
        else { return "invalid_card" }
        switch card.number {
        case declined: return "card_declined"
        case insufficientFunds: return "insufficient_funds"
        default: return nil
        }
    }

    /// The last four digits, the only part of a number the ledger keeps.
    static func last4(_ number: String) -> String { String(number.suffix(4)) }
}
