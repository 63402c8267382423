import FlashSaleCore
import Foundation
import Hummingbird

/// The dashboard's forms, read into the same values the JSON API takes, so that both are
/// checked by the same rules (`NewSale.validate`, `SalePatch.validate`).
enum ConsoleForms {
    /// The fields of an `application/x-www-form-urlencoded` body (HTML 4.01 §17.13.4;
    /// `+` is a space). A field given twice keeps its first value.
    static func fields(_ request: Request, context: AppRequestContext) async throws -> [String: String] {
        // Past the upload limit: 413, as for the JSON API.
        let body = try await request.collectBody(limit: context.maxUploadSize)
        return parse(String(decoding: body, as: UTF8.self))
    }

    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }

    /// A new sale from the dashboard's form: times as `datetime-local` (`2026-12-01T18:00`,
    /// read as UTC, as the form says) or RFC 3339. Missing or non-numeric numbers are a 422
    /// naming the field.
    static func newSale(_ fields: [String: String]) throws(APIError) -> NewSale {
        func number(_ name: String) throws(APIError) -> Int {
            guard let value = Int((fields[name] ?? "").trimmingCharacters(in: .whitespaces)) else {
                throw .validation("\(name) must be a whole number")
            }
            return value
        }
        func time(_ name: String) throws(APIError) -> Date {
            guard let date = parseTime(fields[name] ?? "") else { throw .validation("\(name) must be a date and time (UTC)") }
            return date
        }
        return NewSale(
            sku: fields["sku"] ?? "", name: fields["name"] ?? "", priceCents: try number("price_cents"),
            currency: (fields["currency"] ?? "").uppercased(), quantity: try number("quantity"), startsAt: try time("starts_at"),
            endsAt: try time("ends_at"), perCustomerLimit: try number("per_customer_limit"),
            reservationTTLSeconds: try number("reservation_ttl_seconds"), admissionRatePerSecond: try number("admission_rate_per_second"))
    }

    /// `datetime-local` values in UTC, with or without seconds, or RFC 3339.
    static func parseTime(_ text: String) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let date = Timestamp.parse(text) { return date }
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    /// The patch a sale's control asks for: `pause`, `resume`, `end` (now), `extend`
    /// (`minutes`, 1–1440, added to the end) or `rate` (`admission_rate_per_second`).
    static func patch(action: String, fields: [String: String], sale: Sale, now: Date) throws(APIError) -> SalePatch {
        switch action {
        case "pause": return SalePatch(paused: true)
        case "resume": return SalePatch(paused: false)
        case "end":
            // A sale not yet open ends before it starts: its opening moves to now as well.
            return sale.startsAt > now ? SalePatch(startsAt: now, endsAt: now.addingTimeInterval(0.001)) : SalePatch(endsAt: now)
        case "extend":
            guard let minutes = Int(fields["minutes"] ?? ""), (1...1_440).contains(minutes) else {
                throw .validation("minutes must be between 1 and 1440")
            }
            return SalePatch(endsAt: max(sale.endsAt, now).addingTimeInterval(Double(minutes) * 60))
        case "rate":
            guard let rate = Int(fields["admission_rate_per_second"] ?? "") else {
                throw .validation("admission_rate_per_second must be a whole number")
            }
            return SalePatch(admissionRatePerSecond: rate)
        default:
            throw .validation("action must be one of pause, resume, end, extend, rate")
        }
    }
}
