import FlashSaleCore
import Foundation

/// What the templates read. Mustache looks properties up by name, so each page's values
/// are plain stored strings and numbers, already formatted.
enum PageViews {
    struct Refresh {
        let seconds: Int
        let url: String
    }

    struct SaleSummary {
        let id: String
        let name: String
        let price: String
        let status: String
        let statusText: String
        let when: String

        init(_ sale: Sale, now: Date) {
            id = sale.id.lowercased
            name = sale.name
            price = Format.price(sale.priceCents, sale.currency)
            let status = sale.status(at: now)
            self.status = status.rawValue
            statusText = Format.status(status)
            when =
                now < sale.startsAt
                ? "Opens \(Format.time(sale.startsAt)), in \(Format.countdown(sale.startsAt.timeIntervalSince(now)))"
                : "Ends \(Format.time(sale.endsAt))"
        }
    }

    struct Index {
        let title = "Sales"
        let refresh: Refresh? = nil
        let sales: [SaleSummary]
    }

    struct SalePage {
        let title: String
        let refresh: Refresh? = nil
        let id, name, sku, price, status, statusText: String
        let available, quantity, perCustomerLimit: Int
        let upcoming: Bool
        let open: Bool
        let buyText: String
        let startsAt, startsAtText, countdown: String

        init(_ sale: Sale, now: Date) {
            let status = sale.status(at: now)
            title = sale.name
            id = sale.id.lowercased
            name = sale.name
            sku = sale.sku
            price = Format.price(sale.priceCents, sale.currency)
            self.status = status.rawValue
            statusText = Format.status(status)
            available = sale.inventory.available
            quantity = sale.quantity
            perCustomerLimit = sale.perCustomerLimit
            upcoming = status == .scheduled
            open = status == .scheduled || status == .live || status == .paused
            buyText = status == .scheduled ? "Join the queue early" : "Buy now"
            startsAt = Timestamp.format(sale.startsAt)
            startsAtText = Format.time(sale.startsAt)
            countdown = Format.countdown(sale.startsAt.timeIntervalSince(now))
        }
    }

    /// A proof-of-work challenge before joining (`PageTemplates.challenge`).
    struct Challenge {
        let title: String
        let refresh: Refresh? = nil
        let id, name, prefix: String
        let bits: Int
        let helper = ProofOfWorkScript.pageHelper

        init(sale: Sale, issued: JoinChallenges.Issued) {
            title = "Joining · \(sale.name)"
            id = sale.id.lowercased
            name = sale.name
            prefix = issued.token
            bits = issued.difficultyBits
        }
    }

    struct Waiting {
        let title: String
        let refresh: Refresh?
        let id, name, status, headline: String
        let position: String
        let eta: String
        let progress: Int
        let firstPosition: Int
        let pollAfterMs: Int

        /// `first` is the position the shopper started from, carried in the reload address
        /// so the progress bar also moves without JavaScript.
        init(sale: Sale, answer: QueueAnswer, first: Int?, now: Date) {
            title = "Waiting · \(sale.name)"
            id = sale.id.lowercased
            name = sale.name
            status = answer.status.rawValue
            let position = answer.position ?? 0
            let start = max(first ?? position, position)
            self.position = answer.position.map(String.init) ?? "–"
            eta = Format.wait(answer.etaSeconds)
            progress = start > 0 ? Int((100 * (1 - Double(position) / Double(start))).rounded()) : 0
            firstPosition = start
            pollAfterMs = answer.pollAfterMs
            headline =
                answer.status == .notStarted
                ? "The sale opens in \(Format.countdown(sale.startsAt.timeIntervalSince(now))). "
                    + "Everyone who arrives before the start is placed in a fair random order at the opening."
                : "You are in the queue. Shoppers are let in in the order they arrived."
            let seconds = max(1, Int((Double(answer.pollAfterMs) / 1000).rounded(.up)))
            refresh = Refresh(seconds: seconds, url: "/sales/\(id)/checkout?first=\(start)")
        }
    }

    /// The checkout form; the fields a shopper typed come back after a refused attempt
    /// (never the card).
    struct Checkout {
        let title: String
        let refresh: Refresh? = nil
        let id, name, price: String
        let admittedUntil, admittedFor: String
        let quantities: [Int]
        let reservationKey, paymentKey: String
        let error: String?
        let email, shipName, shipLine1, shipCity, shipPostalCode, shipCountry: String

        init(sale: Sale, admittedUntil deadline: Date?, now: Date, form: CheckoutForm? = nil, error: String? = nil) {
            title = "Checkout · \(sale.name)"
            id = sale.id.lowercased
            name = sale.name
            price = Format.price(sale.priceCents, sale.currency)
            let until = deadline ?? now
            admittedUntil = Timestamp.format(until)
            admittedFor = Format.countdown(until.timeIntervalSince(now))
            quantities = Array(1...max(1, sale.perCustomerLimit))
            // One reservation key per form, kept across a declined card so the same
            // reservation is reused; a fresh payment key for each new attempt.
            reservationKey = form?.reservationKey ?? UUID().lowercased
            paymentKey = UUID().lowercased
            self.error = error
            email = form?.email ?? ""
            shipName = form?.shipping.name ?? ""
            shipLine1 = form?.shipping.line1 ?? ""
            shipCity = form?.shipping.city ?? ""
            shipPostalCode = form?.shipping.postalCode ?? ""
            shipCountry = form?.shipping.country ?? ""
        }
    }

    struct Message {
        let title: String
        let refresh: Refresh? = nil
        let status: String
        let headline: String
        let detail: String
        let orderID: String?
        let reservationID: String?

        init(status: String, headline: String, detail: String, orderID: String? = nil, reservationID: String? = nil) {
            title = headline
            self.status = status
            self.headline = headline
            self.detail = detail
            self.orderID = orderID
            self.reservationID = reservationID
        }
    }
}

/// Human formatting for the pages.
enum Format {
    static func price(_ cents: Int, _ currency: String) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction) \(currency)"
    }

    static func status(_ status: SaleStatus) -> String {
        switch status {
        case .scheduled: "Coming soon"
        case .live: "Live"
        case .soldOut: "Sold out"
        case .ended: "Ended"
        case .paused: "Paused"
        }
    }

    /// `H:MM:SS`, never negative.
    static func countdown(_ interval: TimeInterval) -> String {
        let total = max(0, Int(interval.rounded(.up)))
        let minutes = total / 60 % 60
        let seconds = total % 60
        return "\(total / 3600):\(minutes < 10 ? "0" : "")\(minutes):\(seconds < 10 ? "0" : "")\(seconds)"
    }

    static func wait(_ seconds: Int?) -> String {
        guard let seconds else { return "a moment" }
        return seconds < 60 ? "\(seconds) s" : "\(Int((Double(seconds) / 60).rounded())) min"
    }

    /// `2026-12-01 18:00 UTC`.
    static func time(_ date: Date) -> String {
        let text = Timestamp.format(date)
        return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }
}
