import Foundation

/// How the simulator judges a card. The named test cards behave as API.md says; any other
/// well-formed card succeeds. A malformed card (not Luhn-valid, expired, a bad cvc) is a
/// decline with reason `invalid_card` rather than a 4xx, as card networks answer it: the
/// shopper can fix it, and the decline is stored and replayed like any other.
public enum CardRules {
    public static let succeeds = "4242424242424242"
    public static let declined = "4000000000000002"
    public static let insufficientFunds = "4000000000009995"

    /// The decline reason for `card` at `now`, or nil when the charge may go through.
    public static func declineReason(for card: PaymentCard, now: Date = Date()) -> String? {
        guard isWellFormed(card.number), luhnValid(card.number), isValidCVC(card.cvc),
            !isExpired(month: card.expMonth, year: card.expYear, now: now)
        else { return "invalid_card" }
        switch card.number {
        case declined: return "card_declined"
        case insufficientFunds: return "insufficient_funds"
        default: return nil
        }
    }

    /// 12 to 19 ASCII digits, no spaces or dashes.
    static func isWellFormed(_ number: String) -> Bool {
        (12...19).contains(number.utf8.count) && number.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// The Luhn check digit test of ISO/IEC 7812 (digits only; anything else fails).
    public static func luhnValid(_ number: String) -> Bool {
        var sum = 0
        for (index, byte) in number.utf8.reversed().enumerated() {
            guard (0x30...0x39).contains(byte) else { return false }
            var digit = Int(byte - 0x30)
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return !number.isEmpty && sum % 10 == 0
    }

    static func isValidCVC(_ cvc: String) -> Bool {
        (3...4).contains(cvc.utf8.count) && cvc.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// A card is good through the last day of its expiry month (UTC).
    static func isExpired(month: Int, year: Int, now: Date) -> Bool {
        guard (1...12).contains(month), (1000...9999).contains(year) else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.dateComponents([.year, .month], from: now)
        guard let thisYear = today.year, let thisMonth = today.month else { return true }
        return (year, month) < (thisYear, thisMonth)
    }

    /// The last four digits, the only part of a number the ledger keeps.
    static func last4(_ number: String) -> String { String(number.suffix(4)) }
}
