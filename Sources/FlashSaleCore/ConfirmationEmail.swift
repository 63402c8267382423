import Foundation

/// The order confirmation as an RFC 5322 message: CRLF line ends, a Message-ID derived
/// from the order (so a redelivered message is recognisably the same one), UTF-8 text.
public struct ConfirmationEmail: Sendable, Equatable {
    public var orderID: UUID
    public var to: String
    public var saleName: String
    public var quantity: Int
    public var amountCents: Int
    public var currency: String
    public var paidAt: Date
    public var from: String

    public init(orderID: UUID, to: String, saleName: String, quantity: Int, amountCents: Int, currency: String, paidAt: Date, from: String = "FlashSale <orders@flashsale.invalid>") {
        self.orderID = orderID
        self.to = to
        self.saleName = saleName
        self.quantity = quantity
        self.amountCents = amountCents
        self.currency = currency
        self.paidAt = paidAt
        self.from = from
    }

    public var messageID: String { "<order-\(orderID.lowercased)@flashsale.invalid>" }

    public var message: String {
        let amount = "\(amountCents / 100).\(String(format: "%02d", amountCents % 100)) \(currency)"
        let headers = [
            "From: \(from)",
            "To: <\(Self.headerSafe(to))>",
            "Subject: Your order \(orderID.lowercased.prefix(8)) is confirmed",
            "Date: \(Self.rfc5322Date(paidAt))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let body = [
            "Thank you for your order.",
            "",
            "  \(quantity) x \(Self.headerSafe(saleName))",
            "  Paid: \(amount)",
            "  Order: \(orderID.lowercased)",
            "",
            "You can check it at any time: GET /api/v1/orders/\(orderID.lowercased)",
        ]
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n"
    }

    /// No line breaks may reach a header from shopper input.
    static func headerSafe(_ text: String) -> String {
        String(text.map { $0 == "\r" || $0 == "\n" ? " " : $0 })
    }

    /// `Sun, 29 Nov 2026 09:14:00 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}
