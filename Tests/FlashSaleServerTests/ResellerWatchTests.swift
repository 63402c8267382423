import FlashSaleCore
import Foundation
import Testing

@testable import FlashSaleServer

/// The book each sale keeps of its payment attempts: what a new attempt shares with the
/// earlier ones, per sale, remembered across attempts (the book is changed in place).
@Suite struct ResellerWatchTests {
    func attempt(_ customer: String, card: String = "card-a", building: String = "b-1", domain: String = "drop.test")
        -> ResellerWatch.Attempt
    {
        ResellerWatch.Attempt(customer: customer, cardFingerprint: card, building: building, emailDomain: domain, network: [10, 0, 0])
    }

    @Test func countsOtherCustomersSharingACardABuildingADomainAndANetwork() {
        let watch = ResellerWatch()
        let sale = UUID()
        let first = watch.assess(saleID: sale, attempt: attempt("ann"), secondsToPay: 5)
        #expect(first.otherCustomersOnCard == 0)
        #expect(first.otherCustomersInBuilding == 0)
        #expect(first.ordersFromNetwork == 0)

        for customer in ["bob", "cy", "dee"] { _ = watch.assess(saleID: sale, attempt: attempt(customer), secondsToPay: 5) }
        let fifth = watch.assess(saleID: sale, attempt: attempt("eve"), secondsToPay: 5)
        #expect(fifth.otherCustomersOnCard == 4)
        #expect(fifth.otherCustomersInBuilding == 4)
        #expect(fifth.otherCustomersAtEmailDomain == 4)
        #expect(fifth.ordersFromNetwork == 4)

        // The same customer again is not another customer; a public mail domain says nothing.
        let again = watch.assess(saleID: sale, attempt: attempt("ann", domain: "gmail.com"), secondsToPay: 5)
        #expect(again.otherCustomersOnCard == 4)
        #expect(again.otherCustomersAtEmailDomain == 0)
    }

    @Test func eachSaleHasItsOwnBook() {
        let watch = ResellerWatch()
        let (one, two) = (UUID(), UUID())
        for customer in ["ann", "bob", "cy"] { _ = watch.assess(saleID: one, attempt: attempt(customer), secondsToPay: 5) }
        let elsewhere = watch.assess(saleID: two, attempt: attempt("dee"), secondsToPay: 5)
        #expect(elsewhere.otherCustomersOnCard == 0)
        let back = watch.assess(saleID: one, attempt: attempt("dee", card: "card-b"), secondsToPay: 5)
        #expect(back.otherCustomersOnCard == 0)
        #expect(back.otherCustomersInBuilding == 3)
    }
}
