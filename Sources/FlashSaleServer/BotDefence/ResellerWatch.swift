import FlashSaleCore
import Foundation
import Synchronization

/// What each sale's payment attempts so far share with a new one: the customers (email
/// keys) seen per card fingerprint, per shipping building, per email domain, and the
/// attempts per client network. `RiskScore.payment` turns it into flags.
///
/// Refused attempts count too: a farm that keeps trying one drop building under fresh
/// names is the pattern. The book lives in this node's memory, bounded per sale
/// (`maxKeysPerSale`) and over sales (`maxSales`, the least recently paid forgotten first):
/// it sees the attempts this node served since it started, which on one node is all of
/// them; behind a load balancer each node flags what it sees. Flags are advice for the
/// operator's review; the per-customer limit, which refuses, is the store's and exact.
final class ResellerWatch: Sendable {
    static let maxSales = 64
    static let maxKeysPerSale = 200_000

    /// Domains of public mail providers: customers sharing one say nothing about each other.
    static let publicMailDomains: Set<String> = [
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net",
        "web.de", "mail.ru", "yandex.ru", "qq.com", "163.com", "126.com", "zoho.com", "fastmail.com", "example.com",
    ]

    /// One payment attempt's keys.
    struct Attempt {
        var customer: String
        var cardFingerprint: String
        var building: String
        var emailDomain: String
        var network: [UInt8]?
    }

    private struct Book {
        var cards: [String: Set<String>] = [:]
        var buildings: [String: Set<String>] = [:]
        var domains: [String: Set<String>] = [:]
        var networks: [[UInt8]: Int] = [:]
        var keys = 0
        var lastUsed: Double = 0

        func others(_ table: [String: Set<String>], _ key: String, besides customer: String) -> Int {
            guard let customers = table[key] else { return 0 }
            return customers.count - (customers.contains(customer) ? 1 : 0)
        }

        mutating func insert(_ table: WritableKeyPath<Book, [String: Set<String>]>, _ key: String, _ customer: String) {
            guard keys < ResellerWatch.maxKeysPerSale else { return }
            if self[keyPath: table][key, default: []].insert(customer).inserted { keys += 1 }
        }
    }

    private let books = Mutex<[UUID: Book]>([:])
    private let started = ContinuousClock.now

    /// The signals of `attempt` against the sale's earlier attempts, then records it.
    /// - Parameters:
    ///   - secondsToPay: from the reservation to this payment.
    func assess(saleID: UUID, attempt: Attempt, secondsToPay: Double) -> PaymentSignals {
        let now = (ContinuousClock.now - started).seconds
        return books.withLock { books in
            if books[saleID] == nil, books.count >= Self.maxSales,
                let oldest = books.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key
            {
                books[oldest] = nil
            }
            // Taken out of the dictionary, so the book is uniquely referenced and the inserts
            // below change it in place: a copy left in `books` made every insert copy the
            // whole book (thousands of entries retained one by one per payment; at 100,000
            // shoppers this was half of checkout's CPU, issue 15).
            var book = books.removeValue(forKey: saleID) ?? Book()
            let publicDomain = Self.publicMailDomains.contains(attempt.emailDomain)
            let signals = PaymentSignals(
                secondsToReserve: nil, secondsToPay: secondsToPay,
                otherCustomersOnCard: book.others(book.cards, attempt.cardFingerprint, besides: attempt.customer),
                otherCustomersInBuilding: book.others(book.buildings, attempt.building, besides: attempt.customer),
                otherCustomersAtEmailDomain: publicDomain ? 0 : book.others(book.domains, attempt.emailDomain, besides: attempt.customer),
                ordersFromNetwork: attempt.network.map { book.networks[$0] ?? 0 } ?? 0)
            book.insert(\.cards, attempt.cardFingerprint, attempt.customer)
            book.insert(\.buildings, attempt.building, attempt.customer)
            if !publicDomain { book.insert(\.domains, attempt.emailDomain, attempt.customer) }
            if let network = attempt.network, book.keys < Self.maxKeysPerSale {
                book.networks[network, default: 0] += 1
                book.keys += 1
            }
            book.lastUsed = now
            books[saleID] = book
            return signals
        }
    }
}
