import FlashSaleCore
import Foundation
import Testing

@testable import FlashSalePayments

@Suite struct CardRulesTests {
    @Test(arguments: ["4242424242424242", "4000000000000002", "4000000000009995", "5555555555554444", "378282246310005", "79927398713"])
    func luhnAcceptsValidNumbers(_ number: String) {
        #expect(CardDetails.luhnValid(number))
    }

    @Test(arguments: ["4242424242424241", "1234567812345678", "79927398710", "", "4242 4242 4242 4242", "42424242424242a2"])
    func luhnRefusesOthers(_ number: String) {
        #expect(!CardDetails.luhnValid(number))
    }

    @Test func testCardsBehaveAsTheContractSays() {
        #expect(CardRules.declineReason(for: card(CardRules.succeeds)) == nil)
        #expect(CardRules.declineReason(for: card(CardRules.declined)) == "card_declined")
        #expect(CardRules.declineReason(for: card(CardRules.insufficientFunds)) == "insufficient_funds")
        #expect(CardRules.declineReason(for: card("5555555555554444")) == nil, "any other valid card succeeds")
    }

    @Test func malformedCardsAreInvalid() {
        let invalid: [PaymentCard] = [
            card("4242424242424241"),  // Luhn
            card("42424242"),  // too short
            card(expYear: 2020),  // expired
            card(cvc: "12"), card(cvc: "12345"), card(cvc: "12a"),
            PaymentCard(number: CardRules.succeeds, expMonth: 13, expYear: 2099, cvc: "123"),
            PaymentCard(number: CardRules.succeeds, expMonth: 12, expYear: 99, cvc: "123"),
        ]
        for card in invalid { #expect(CardRules.declineReason(for: card) == "invalid_card", "\(card)") }
        // Validity comes first: an expired decline test card is invalid, not declined.
        #expect(CardRules.declineReason(for: card(CardRules.declined, expYear: 2020)) == "invalid_card")
    }

    @Test func aCardIsGoodThroughItsExpiryMonth() throws {
        let midJune = try #require(ISO8601DateFormatter().date(from: "2027-06-15T12:00:00Z"))
        func expiring(_ month: Int, _ year: Int) -> PaymentCard {
            PaymentCard(number: CardRules.succeeds, expMonth: month, expYear: year, cvc: "1234")
        }
        #expect(CardRules.declineReason(for: expiring(6, 2027), now: midJune) == nil)
        #expect(CardRules.declineReason(for: expiring(5, 2027), now: midJune) == "invalid_card")
        #expect(CardRules.declineReason(for: expiring(1, 2028), now: midJune) == nil)
    }
}
